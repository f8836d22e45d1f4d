// JavaScript's conversions between numbers and strings.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tempo::cond {

// Enough for every JavaScript number string ("-1.2345678901234567e-308").
constexpr size_t kJsNumberBufferBytes = 32;

// Writes String(v) as JavaScript does (Number::toString: the shortest
// round-trip digits; exponent form from 1e21 up and below 1e-6; "NaN",
// "Infinity", and "0" for -0) into `buf`, returning its length.
size_t FormatJsNumber(double v, char (&buf)[kJsNumberBufferBytes]);

// Appends String(v).
void AppendJsNumber(double v, std::string* out);

// Number(s) for a string: JavaScript whitespace trimmed, "" -> 0, decimal
// with optional sign, fraction and exponent, "Infinity" with optional sign,
// unsigned 0x/0o/0b integers; anything else is NaN.
double JsStringToNumber(std::string_view s);

}  // namespace tempo::cond
