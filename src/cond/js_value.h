// JavaScript's abstract operations on a Value, as the GrowthBook SDK relies
// on them: truthiness, String(), Number(), ===, JSON.stringify equality, the
// relational comparison of `<`, typeof, and property enumeration order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cond/js_number.h"
#include "cond/value.h"

namespace tempo::cond {

// `!!v`: false for null, false, 0, NaN and "".
bool IsTruthy(const Value& v);

// Appends String(v): arrays join their elements with "," (null elements as
// ""), objects are "[object Object]".
void AppendJsString(const Value& v, std::string* out);

// Storage for JsStringOf() so that strings and numbers need no allocation.
struct JsStringBuffer {
  char number[kJsNumberBufferBytes];
  std::string text;
};

// String(v), viewing v's own bytes when it is a string. The view lives as
// long as `v` and `buffer`.
std::string_view JsStringOf(const Value& v, JsStringBuffer* buffer);

// Number(v): null -> 0, booleans -> 0/1, strings by JsStringToNumber, arrays
// through their String(), objects -> NaN.
double JsToNumber(const Value& v);

// `a === b`. Arrays and objects are never equal: in the SDK the two sides
// are always distinct objects.
bool StrictEquals(const Value& a, const Value& b);

// Array.prototype.includes' SameValueZero: === except that NaN equals NaN.
bool SameValueZero(const Value& a, const Value& b);

// JSON.stringify(a) === JSON.stringify(b), without building either string:
// non-finite numbers stringify as null, -0 as 0, and object keys compare in
// JavaScript enumeration order.
bool JsonEquals(const Value& a, const Value& b);

// An operand of <, <=, >, >= after ToPrimitive: a string (arrays and objects
// become their String()) or a number (null -> 0, booleans -> 0/1).
struct Primitive {
  bool is_string = false;
  std::string_view text;  // when is_string
  double number = 0;      // the number, or Number(text) when is_string and computed
};

// ToPrimitive(v). `storage` holds the text of arrays and objects. When
// `want_number` and v is a string, also fills number = Number(text).
Primitive ToPrimitive(const Value& v, std::string* storage, bool want_number);

// IsLessThan(a, b) of ECMA-262: strings compare by UTF-16 code units, other
// pairs as numbers; a NaN makes it undefined. REQUIRES: `number` is filled
// for a string operand whose counterpart is not a string.
enum class LessThan : uint8_t { kFalse, kTrue, kUndefined };
LessThan IsLessThan(const Primitive& a, const Primitive& b);

// GrowthBook's getType(): typeof, with "null" and "array" split out.
enum class JsType : uint8_t { kNull, kBoolean, kNumber, kString, kArray, kObject };
JsType TypeOf(const Value& v);

// True when `key` is a canonical array index ("0", "42"; not "01" or
// "4294967295"). Sets *index when given.
bool IsArrayIndex(std::string_view key, uint32_t* index = nullptr);

// The positions of an object's members in JavaScript enumeration order:
// array-index keys ascending, then the other keys in insertion order.
// REQUIRES: object.is_object().
std::vector<size_t> JsKeyOrder(const Value& object);

}  // namespace tempo::cond
