// FailingParts(): a false condition taken apart, entry by entry.
#include "cond/explain.h"

#include <cmath>
#include <utility>

#include "common/json.h"
#include "cond/cond.h"
#include "cond/js_number.h"

namespace tempo::cond {
namespace {

// The value at a dot path of `attributes` (object keys, array indices), or
// null when absent.
Value ValueAt(const Value& attributes, std::string_view path) {
  const Value* at = &attributes;
  while (at != nullptr) {
    const size_t dot = path.find('.');
    const std::string_view key = path.substr(0, dot);
    if (at->is_array()) {
      size_t index = 0;
      for (char c : key) index = c >= '0' && c <= '9' ? index * 10 + (c - '0') : SIZE_MAX / 2;
      at = !key.empty() && index < at->array_items().size() ? &at->array_items()[index] : nullptr;
    } else {
      at = at->Find(key);
    }
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return at != nullptr ? *at : Value();
}

// Collects the attribute paths a condition object reads: its keys, and
// inside the logical operators the keys of their conditions.
void CollectPaths(const Value& condition, std::vector<std::string>* paths) {
  if (!condition.is_object()) return;
  for (const auto& [key, value] : condition.object_members()) {
    if (key == "$or" || key == "$and" || key == "$nor") {
      if (value.is_array()) {
        for (const Value& item : value.array_items()) CollectPaths(item, paths);
      }
    } else if (key == "$not") {
      CollectPaths(value, paths);
    } else if (!key.starts_with("$")) {
      bool seen = false;
      for (const std::string& p : *paths) seen = seen || p == key;
      if (!seen) paths->push_back(key);
    }
  }
}

}  // namespace

void AppendValueJson(const Value& value, std::string* out) {
  switch (value.type()) {
    case Value::Type::kNull:
      out->append("null");
      return;
    case Value::Type::kBool:
      out->append(value.bool_value() ? "true" : "false");
      return;
    case Value::Type::kNumber:
      if (std::isfinite(value.number_value())) {
        AppendJsNumber(value.number_value(), out);
      } else {
        out->append("null");
      }
      return;
    case Value::Type::kString:
      AppendJsonString(value.string_value(), out);
      return;
    case Value::Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Value& item : value.array_items()) {
        if (!first) out->push_back(',');
        first = false;
        AppendValueJson(item, out);
      }
      out->push_back(']');
      return;
    }
    case Value::Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.object_members()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(key, out);
        out->push_back(':');
        AppendValueJson(member, out);
      }
      out->push_back('}');
      return;
    }
  }
}

Result<std::vector<FailingPart>> FailingParts(std::string_view condition_json,
                                              const Value& attributes) {
  Result<Value> parsed = ParseJson(condition_json);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) return Status::InvalidArgument("a condition must be a JSON object");
  std::vector<FailingPart> failing;
  for (const Value::Member& member : parsed->object_members()) {
    const Value part = Value::Object({member});
    Result<Condition> compiled = Condition::Compile(part);
    if (compiled.ok() && compiled->Evaluate(attributes)) continue;
    FailingPart out;
    AppendValueJson(part, &out.condition_json);
    std::vector<std::string> paths;
    CollectPaths(part, &paths);
    out.seen_json.push_back('{');
    for (size_t i = 0; i < paths.size(); ++i) {
      if (i) out.seen_json.push_back(',');
      AppendJsonString(paths[i], &out.seen_json);
      out.seen_json.push_back(':');
      AppendValueJson(ValueAt(attributes, paths[i]), &out.seen_json);
    }
    out.seen_json.push_back('}');
    failing.push_back(std::move(out));
  }
  return failing;
}

}  // namespace tempo::cond
