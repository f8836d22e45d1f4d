// Typed readers for simdjson On-Demand values with the field rules of
// SPEC §11.15 (what counts as an integer, a number, a list of strings).
//
// Every reader REQUIRES a value of a document that passed CompactJson (so
// tokens carry no whitespace and skipped values are known to be valid) and
// reports a failure as InvalidArgument "<path>: <reason>".
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "events/field_path.h"

namespace tempo::events {

using JsonValue = simdjson::ondemand::value;

// InvalidArgument for a simdjson error met at `path` (a document that passed
// CompactJson only yields these for strings simdjson cannot unescape, such as
// a lone surrogate `\ud800`).
Status JsonError(const FieldPath& path, simdjson::error_code error);

// True when `v` is the literal null, which means "absent" for optional fields.
bool IsNull(JsonValue& v);

// A string; "must be a string" otherwise.
Status ReadString(JsonValue& v, const FieldPath& path, std::string* out);
// A string of at least one byte; "must be a non-empty string" otherwise.
Status ReadNonEmptyString(JsonValue& v, const FieldPath& path, std::string* out);
// A list of strings (possibly empty), in document order, duplicates kept.
Status ReadStringList(JsonValue& v, const FieldPath& path, std::vector<std::string>* out);

// A JSON integer literal (no fraction, no exponent) within int64;
// "must be a 64-bit integer" otherwise.
Status ReadInt64(JsonValue& v, const FieldPath& path, int64_t* out);
// An integer literal in 1..2^63-1 (rule 15's `version`).
Status ReadVersion(JsonValue& v, const FieldPath& path, int64_t* out);
// An integer literal in 0..2^63-1 (a template zone's `limit`).
Status ReadNonNegativeInt64(JsonValue& v, const FieldPath& path, int64_t* out);
// Any JSON number, as a double; "must be a number" otherwise.
Status ReadNumber(JsonValue& v, const FieldPath& path, double* out);

// An object, as its compact JSON text; "must be an object" otherwise.
Status ReadObjectJson(JsonValue& v, const FieldPath& path, std::string* out);
// Any JSON value, as its compact text (byte for byte, rule 17).
Status ReadAnyJson(JsonValue& v, const FieldPath& path, std::string* out);

// An object; "must be an object" otherwise.
Status ReadObject(JsonValue& v, const FieldPath& path, simdjson::ondemand::object* out);

// Calls `fn(key, value)` (a std::string_view and a JsonValue&) for each
// field of `object` in document order, keys unescaped; stops at the first
// non-OK Status and returns it.
template <typename Fn>
Status ForEachField(simdjson::ondemand::object& object, const FieldPath& path, Fn&& fn) {
  for (auto result : object) {
    if (auto error = result.error()) return JsonError(path, error);
    std::string_view key;
    // A key simdjson cannot unescape (a lone surrogate) names no known field.
    if (result.unescaped_key().get(key)) continue;
    JsonValue value;
    if (auto error = result.value().get(value)) return JsonError(path, error);
    if (Status s = fn(key, value); !s.ok()) return s;
  }
  return Status::OK();
}

// Calls `fn(index, element)` (a size_t and a JsonValue&) for each element of
// the list `v`; fails with `path: <what>` when `v` is not a list.
template <typename Fn>
Status ForEachElement(JsonValue& v, const FieldPath& path, std::string_view what, Fn&& fn) {
  simdjson::ondemand::json_type type;
  simdjson::ondemand::array list;
  if (v.type().get(type) || type != simdjson::ondemand::json_type::array ||
      v.get_array().get(list)) {
    return path.Invalid(what);
  }
  size_t index = 0;
  for (auto result : list) {
    JsonValue element;
    if (auto error = std::move(result).get(element)) return JsonError(path.Index(index), error);
    if (Status s = fn(index, element); !s.ok()) return s;
    ++index;
  }
  return Status::OK();
}

}  // namespace tempo::events
