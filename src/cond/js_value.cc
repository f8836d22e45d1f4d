// JavaScript's abstract operations on Values.
#include "cond/js_value.h"

#include <algorithm>
#include <cmath>

#include "cond/js_string.h"

namespace tempo::cond {
namespace {

constexpr std::string_view kObjectString = "[object Object]";
// The largest array index is 2^32 - 2.
constexpr uint64_t kMaxArrayIndex = 4294967294u;
constexpr size_t kMaxArrayIndexDigits = 10;

void AppendJoined(const Value& array, std::string* out) {
  bool first = true;
  for (const Value& item : array.array_items()) {
    if (!first) out->push_back(',');
    first = false;
    if (!item.is_null()) AppendJsString(item, out);
  }
}

bool ObjectsJsonEqual(const Value& a, const Value& b) {
  const auto& ma = a.object_members();
  const auto& mb = b.object_members();
  if (ma.size() != mb.size()) return false;
  if (!a.has_index_keys() && !b.has_index_keys()) {
    for (size_t i = 0; i < ma.size(); ++i) {
      if (ma[i].first != mb[i].first || !JsonEquals(ma[i].second, mb[i].second)) return false;
    }
    return true;
  }
  const std::vector<size_t> oa = JsKeyOrder(a);
  const std::vector<size_t> ob = JsKeyOrder(b);
  for (size_t i = 0; i < oa.size(); ++i) {
    const auto& x = ma[oa[i]];
    const auto& y = mb[ob[i]];
    if (x.first != y.first || !JsonEquals(x.second, y.second)) return false;
  }
  return true;
}

}  // namespace

bool IsTruthy(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return false;
    case Value::Type::kBool:
      return v.bool_value();
    case Value::Type::kNumber:
      return v.number_value() != 0 && !std::isnan(v.number_value());
    case Value::Type::kString:
      return !v.string_value().empty();
    case Value::Type::kArray:
    case Value::Type::kObject:
      return true;
  }
  return false;
}

void AppendJsString(const Value& v, std::string* out) {
  switch (v.type()) {
    case Value::Type::kNull:
      out->append("null");
      return;
    case Value::Type::kBool:
      out->append(v.bool_value() ? "true" : "false");
      return;
    case Value::Type::kNumber:
      AppendJsNumber(v.number_value(), out);
      return;
    case Value::Type::kString:
      out->append(v.string_value());
      return;
    case Value::Type::kArray:
      AppendJoined(v, out);
      return;
    case Value::Type::kObject:
      out->append(kObjectString);
      return;
  }
}

std::string_view JsStringOf(const Value& v, JsStringBuffer* buffer) {
  switch (v.type()) {
    case Value::Type::kNull:
      return "null";
    case Value::Type::kBool:
      return v.bool_value() ? "true" : "false";
    case Value::Type::kNumber:
      return std::string_view(buffer->number, FormatJsNumber(v.number_value(), buffer->number));
    case Value::Type::kString:
      return v.string_value();
    case Value::Type::kArray:
      buffer->text.clear();
      AppendJoined(v, &buffer->text);
      return buffer->text;
    case Value::Type::kObject:
      return kObjectString;
  }
  return {};
}

double JsToNumber(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return 0;
    case Value::Type::kBool:
      return v.bool_value() ? 1 : 0;
    case Value::Type::kNumber:
      return v.number_value();
    case Value::Type::kString:
      return JsStringToNumber(v.string_value());
    case Value::Type::kArray: {
      std::string joined;
      AppendJoined(v, &joined);
      return JsStringToNumber(joined);
    }
    case Value::Type::kObject:
      return std::nan("");
  }
  return std::nan("");
}

bool StrictEquals(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::kNull:
      return true;
    case Value::Type::kBool:
      return a.bool_value() == b.bool_value();
    case Value::Type::kNumber:
      return a.number_value() == b.number_value();
    case Value::Type::kString:
      return a.string_value() == b.string_value();
    case Value::Type::kArray:
    case Value::Type::kObject:
      return false;
  }
  return false;
}

bool SameValueZero(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number() && std::isnan(a.number_value()) &&
      std::isnan(b.number_value())) {
    return true;
  }
  return StrictEquals(a, b);
}

bool JsonEquals(const Value& a, const Value& b) {
  // Non-finite numbers stringify as "null".
  auto stringifies_as_null = [](const Value& v) {
    return v.is_null() || (v.is_number() && !std::isfinite(v.number_value()));
  };
  if (stringifies_as_null(a) || stringifies_as_null(b)) {
    return stringifies_as_null(a) && stringifies_as_null(b);
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::kNull:
      return true;
    case Value::Type::kBool:
      return a.bool_value() == b.bool_value();
    case Value::Type::kNumber:
      // Finite numbers have one shortest form each, and -0 prints as 0.
      return a.number_value() == b.number_value();
    case Value::Type::kString:
      return a.string_value() == b.string_value();
    case Value::Type::kArray: {
      const auto& x = a.array_items();
      const auto& y = b.array_items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!JsonEquals(x[i], y[i])) return false;
      }
      return true;
    }
    case Value::Type::kObject:
      return ObjectsJsonEqual(a, b);
  }
  return false;
}

Primitive ToPrimitive(const Value& v, std::string* storage, bool want_number) {
  Primitive p;
  switch (v.type()) {
    case Value::Type::kNull:
      return p;
    case Value::Type::kBool:
      p.number = v.bool_value() ? 1 : 0;
      return p;
    case Value::Type::kNumber:
      p.number = v.number_value();
      return p;
    case Value::Type::kString:
      p.is_string = true;
      p.text = v.string_value();
      break;
    case Value::Type::kArray:
      storage->clear();
      AppendJoined(v, storage);
      p.is_string = true;
      p.text = *storage;
      break;
    case Value::Type::kObject:
      p.is_string = true;
      p.text = kObjectString;
      break;
  }
  if (want_number) p.number = JsStringToNumber(p.text);
  return p;
}

LessThan IsLessThan(const Primitive& a, const Primitive& b) {
  if (a.is_string && b.is_string) {
    return CompareUtf16(a.text, b.text) < 0 ? LessThan::kTrue : LessThan::kFalse;
  }
  if (std::isnan(a.number) || std::isnan(b.number)) return LessThan::kUndefined;
  return a.number < b.number ? LessThan::kTrue : LessThan::kFalse;
}

JsType TypeOf(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return JsType::kNull;
    case Value::Type::kBool:
      return JsType::kBoolean;
    case Value::Type::kNumber:
      return JsType::kNumber;
    case Value::Type::kString:
      return JsType::kString;
    case Value::Type::kArray:
      return JsType::kArray;
    case Value::Type::kObject:
      return JsType::kObject;
  }
  return JsType::kNull;
}

bool IsArrayIndex(std::string_view key, uint32_t* index) {
  if (key.empty() || key.size() > kMaxArrayIndexDigits) return false;
  if (key[0] == '0' && key.size() > 1) return false;
  uint64_t n = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > kMaxArrayIndex) return false;
  if (index != nullptr) *index = static_cast<uint32_t>(n);
  return true;
}

std::vector<size_t> JsKeyOrder(const Value& object) {
  const auto& members = object.object_members();
  std::vector<std::pair<uint32_t, size_t>> indexed;
  std::vector<size_t> order;
  order.reserve(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    uint32_t index = 0;
    if (object.has_index_keys() && IsArrayIndex(members[i].first, &index)) {
      indexed.emplace_back(index, i);
    }
  }
  std::sort(indexed.begin(), indexed.end());
  for (const auto& [index, position] : indexed) order.push_back(position);
  for (size_t i = 0; i < members.size(); ++i) {
    if (!object.has_index_keys() || !IsArrayIndex(members[i].first)) order.push_back(i);
  }
  return order;
}

}  // namespace tempo::cond
