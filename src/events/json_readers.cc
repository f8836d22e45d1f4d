// Typed readers for On-Demand values.
#include "events/json_readers.h"

#include <charconv>
#include <string_view>
#include <system_error>
#include <utility>

namespace tempo::events {
namespace {

using simdjson::ondemand::json_type;

bool TypeIs(JsonValue& v, json_type want) {
  json_type type;
  return !v.type().get(type) && type == want;
}

// The raw spelling of a number value (exact: the document is compact).
bool NumberToken(JsonValue& v, std::string_view* token) {
  if (!TypeIs(v, json_type::number)) return false;
  *token = v.raw_json_token();
  return true;
}

// Parses `v` as a JSON integer literal within int64. Decided on the spelling,
// not the value: `1.0` and `1e0` are not integers here (rule 15).
bool IntegerLiteral(JsonValue& v, int64_t* out) {
  std::string_view token;
  if (!NumberToken(v, &token)) return false;
  if (token.find_first_of(".eE") != std::string_view::npos) return false;
  const char* end = token.data() + token.size();
  auto [ptr, ec] = std::from_chars(token.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

}  // namespace

Status JsonError(const FieldPath& path, simdjson::error_code error) {
  return path.Invalid(simdjson::error_message(error));
}

bool IsNull(JsonValue& v) { return TypeIs(v, json_type::null); }

Status ReadString(JsonValue& v, const FieldPath& path, std::string* out) {
  if (!TypeIs(v, json_type::string)) return path.Invalid("must be a string");
  std::string_view s;
  if (auto error = v.get_string().get(s)) return JsonError(path, error);
  out->assign(s);
  return Status::OK();
}

Status ReadNonEmptyString(JsonValue& v, const FieldPath& path, std::string* out) {
  if (!TypeIs(v, json_type::string)) return path.Invalid("must be a non-empty string");
  std::string_view s;
  if (auto error = v.get_string().get(s)) return JsonError(path, error);
  if (s.empty()) return path.Invalid("must be a non-empty string");
  out->assign(s);
  return Status::OK();
}

Status ReadStringList(JsonValue& v, const FieldPath& path, std::vector<std::string>* out) {
  simdjson::ondemand::array array;
  if (!TypeIs(v, json_type::array) || v.get_array().get(array)) {
    return path.Invalid("must be a list of strings");
  }
  out->clear();
  size_t index = 0;
  for (auto element : array) {
    JsonValue item;
    if (auto error = std::move(element).get(item)) return JsonError(path.Index(index), error);
    out->emplace_back();
    if (Status s = ReadString(item, path.Index(index), &out->back()); !s.ok()) return s;
    ++index;
  }
  return Status::OK();
}

Status ReadInt64(JsonValue& v, const FieldPath& path, int64_t* out) {
  if (!IntegerLiteral(v, out)) return path.Invalid("must be a 64-bit integer");
  return Status::OK();
}

Status ReadVersion(JsonValue& v, const FieldPath& path, int64_t* out) {
  if (!IntegerLiteral(v, out) || *out < 1) return path.Invalid("must be an integer in 1..2^63-1");
  return Status::OK();
}

Status ReadNonNegativeInt64(JsonValue& v, const FieldPath& path, int64_t* out) {
  if (!IntegerLiteral(v, out) || *out < 0) return path.Invalid("must be an integer >= 0");
  return Status::OK();
}

Status ReadNumber(JsonValue& v, const FieldPath& path, double* out) {
  if (!TypeIs(v, json_type::number)) return path.Invalid("must be a number");
  // simdjson refuses numbers beyond the double range (1e400): valid JSON,
  // but not a usable coverage or weight.
  if (v.get_double().get(*out)) return path.Invalid("must be a number within the double range");
  return Status::OK();
}

Status ReadObject(JsonValue& v, const FieldPath& path, simdjson::ondemand::object* out) {
  if (!TypeIs(v, json_type::object) || v.get_object().get(*out)) {
    return path.Invalid("must be an object");
  }
  return Status::OK();
}

Status ReadObjectJson(JsonValue& v, const FieldPath& path, std::string* out) {
  simdjson::ondemand::object object;
  if (!TypeIs(v, json_type::object) || v.get_object().get(object)) {
    return path.Invalid("must be an object");
  }
  std::string_view raw;
  if (auto error = object.raw_json().get(raw)) return JsonError(path, error);
  out->assign(raw);
  return Status::OK();
}

Status ReadAnyJson(JsonValue& v, const FieldPath& path, std::string* out) {
  json_type type;
  if (auto error = v.type().get(type)) return JsonError(path, error);
  std::string_view raw;
  simdjson::error_code error = simdjson::SUCCESS;
  if (type == json_type::object) {
    simdjson::ondemand::object object;
    error = v.get_object().get(object);
    if (!error) error = object.raw_json().get(raw);
  } else if (type == json_type::array) {
    simdjson::ondemand::array array;
    error = v.get_array().get(array);
    if (!error) error = array.raw_json().get(raw);
  } else {
    raw = v.raw_json_token();
  }
  if (error) return JsonError(path, error);
  out->assign(raw);
  return Status::OK();
}

}  // namespace tempo::events
