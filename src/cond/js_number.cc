// Number::toString and StringToNumber of ECMA-262, on top of <charconv>
// (which gives shortest round-trip digits and correctly rounded parsing
// without depending on the C locale).
#include "cond/js_number.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "cond/js_string.h"

namespace tempo::cond {
namespace {

// JavaScript switches to exponent form at 1e21 and below 1e-6.
constexpr int kMaxFixedExponent = 21;
constexpr int kMinFixedExponent = -6;

size_t Copy(std::string_view s, char* buf) {
  std::memcpy(buf, s.data(), s.size());
  return s.size();
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A decimal literal that from_chars reported out of range: infinite when its
// magnitude is at least 1, else zero (it underflowed).
double OutOfRangeDecimal(std::string_view unsigned_literal, bool negative) {
  size_t i = 0;
  int64_t magnitude = 0;
  bool seen_nonzero = false;
  int64_t leading_fraction_zeros = 0;
  int64_t integer_digits = 0;
  while (i < unsigned_literal.size() && IsDigit(unsigned_literal[i])) {
    if (unsigned_literal[i] != '0' || seen_nonzero) {
      seen_nonzero = true;
      ++integer_digits;
    }
    ++i;
  }
  if (i < unsigned_literal.size() && unsigned_literal[i] == '.') {
    ++i;
    while (i < unsigned_literal.size() && IsDigit(unsigned_literal[i])) {
      if (!seen_nonzero && unsigned_literal[i] == '0') ++leading_fraction_zeros;
      if (unsigned_literal[i] != '0') seen_nonzero = true;
      ++i;
    }
  }
  int64_t exponent = 0;
  if (i < unsigned_literal.size() && (unsigned_literal[i] == 'e' || unsigned_literal[i] == 'E')) {
    ++i;
    bool exponent_negative = false;
    if (unsigned_literal[i] == '+' || unsigned_literal[i] == '-') {
      exponent_negative = unsigned_literal[i] == '-';
      ++i;
    }
    constexpr int64_t kSaturatedExponent = 1'000'000'000;
    for (; i < unsigned_literal.size(); ++i) {
      exponent = std::min(kSaturatedExponent, exponent * 10 + (unsigned_literal[i] - '0'));
    }
    if (exponent_negative) exponent = -exponent;
  }
  magnitude =
      integer_digits > 0 ? integer_digits - 1 + exponent : exponent - leading_fraction_zeros - 1;
  double v = magnitude >= 0 ? std::numeric_limits<double>::infinity() : 0.0;
  return negative ? -v : v;
}

// Parses the digits of a 0x / 0o / 0b literal, correctly rounded.
double ParseRadixInteger(std::string_view digits, int bits_per_digit) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (digits.empty()) return kNaN;
  std::string hex;
  if (bits_per_digit == 4) {
    for (char c : digits) {
      if (HexDigitValue(c) < 0) return kNaN;
    }
    hex.assign(digits);
  } else {
    // Re-express the bits in hex so that from_chars does the rounding.
    const int radix = 1 << bits_per_digit;
    std::string bits;
    for (char c : digits) {
      int d = c - '0';
      if (d < 0 || d >= radix) return kNaN;
      for (int b = bits_per_digit - 1; b >= 0; --b) bits.push_back(((d >> b) & 1) ? '1' : '0');
    }
    bits.insert(0, (4 - bits.size() % 4) % 4, '0');
    for (size_t i = 0; i < bits.size(); i += 4) {
      int nibble = (bits[i] - '0') * 8 + (bits[i + 1] - '0') * 4 + (bits[i + 2] - '0') * 2 +
                   (bits[i + 3] - '0');
      hex.push_back("0123456789abcdef"[nibble]);
    }
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v, std::chars_format::hex);
  if (ec == std::errc::result_out_of_range) return std::numeric_limits<double>::infinity();
  if (ec != std::errc() || ptr != hex.data() + hex.size()) return kNaN;
  return v;
}

// True when `s` is StrUnsignedDecimalLiteral without "Infinity":
// digits [. digits] [exponent] or . digits [exponent].
bool IsUnsignedDecimal(std::string_view s) {
  size_t i = 0;
  size_t digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exponent_digits = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exponent_digits;
    if (exponent_digits == 0) return false;
  }
  return i == s.size();
}

}  // namespace

size_t FormatJsNumber(double v, char (&buf)[kJsNumberBufferBytes]) {
  if (std::isnan(v)) return Copy("NaN", buf);
  if (std::isinf(v)) return Copy(v > 0 ? "Infinity" : "-Infinity", buf);
  if (v == 0) return Copy("0", buf);

  // Shortest round-trip digits in scientific form: "d.ddde+XX".
  char sci[kJsNumberBufferBytes];
  auto result = std::to_chars(sci, sci + sizeof(sci), std::fabs(v), std::chars_format::scientific);
  char digits[kJsNumberBufferBytes];
  int k = 0;
  const char* p = sci;
  for (; p < result.ptr && *p != 'e'; ++p) {
    if (*p != '.') digits[k++] = *p;
  }
  int exponent = 0;
  std::from_chars(p + (p[1] == '+' ? 2 : 1), result.ptr, exponent);
  const int n = exponent + 1;  // the decimal point sits after n digits

  size_t len = 0;
  if (v < 0) buf[len++] = '-';
  if (k <= n && n <= kMaxFixedExponent) {
    for (int i = 0; i < k; ++i) buf[len++] = digits[i];
    for (int i = k; i < n; ++i) buf[len++] = '0';
  } else if (0 < n && n <= kMaxFixedExponent) {
    for (int i = 0; i < n; ++i) buf[len++] = digits[i];
    buf[len++] = '.';
    for (int i = n; i < k; ++i) buf[len++] = digits[i];
  } else if (kMinFixedExponent < n && n <= 0) {
    buf[len++] = '0';
    buf[len++] = '.';
    for (int i = n; i < 0; ++i) buf[len++] = '0';
    for (int i = 0; i < k; ++i) buf[len++] = digits[i];
  } else {
    buf[len++] = digits[0];
    if (k > 1) {
      buf[len++] = '.';
      for (int i = 1; i < k; ++i) buf[len++] = digits[i];
    }
    buf[len++] = 'e';
    buf[len++] = n - 1 >= 0 ? '+' : '-';
    auto tail = std::to_chars(buf + len, buf + kJsNumberBufferBytes, std::abs(n - 1));
    len = static_cast<size_t>(tail.ptr - buf);
  }
  return len;
}

void AppendJsNumber(double v, std::string* out) {
  char buf[kJsNumberBufferBytes];
  out->append(buf, FormatJsNumber(v, buf));
}

double JsStringToNumber(std::string_view s) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::string_view t = TrimJsWhitespace(s);
  if (t.empty()) return 0;
  if (t.size() > 2 && t[0] == '0') {
    switch (t[1]) {
      case 'x':
      case 'X':
        return ParseRadixInteger(t.substr(2), 4);
      case 'o':
      case 'O':
        return ParseRadixInteger(t.substr(2), 3);
      case 'b':
      case 'B':
        return ParseRadixInteger(t.substr(2), 1);
      default:
        break;
    }
  }
  bool negative = false;
  std::string_view body = t;
  if (body[0] == '+' || body[0] == '-') {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "Infinity") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (!IsUnsignedDecimal(body)) return kNaN;
  double v = 0;
  auto [ptr, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (ec == std::errc::result_out_of_range) return OutOfRangeDecimal(body, negative);
  if (ec != std::errc() || ptr != body.data() + body.size()) return kNaN;
  return negative ? -v : v;
}

}  // namespace tempo::cond
