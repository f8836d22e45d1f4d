// UTF-8 <-> UTF-16 views, whitespace and lowercase as JavaScript defines them.
#include "cond/js_string.h"

#include <algorithm>

namespace tempo::cond {
namespace {

constexpr uint32_t kReplacementChar = 0xFFFD;
constexpr uint32_t kDottedCapitalI = 0x130;     // lowercases to "i" + U+0307
constexpr uint32_t kCombiningDotAbove = 0x307;

bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Encodes `cp` into buf (4 bytes), returning the length.
size_t EncodeUtf8(uint32_t cp, char* buf) {
  if (cp < 0x80) {
    buf[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    buf[0] = static_cast<char>(0xC0 | (cp >> 6));
    buf[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    buf[0] = static_cast<char>(0xE0 | (cp >> 12));
    buf[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  buf[0] = static_cast<char>(0xF0 | (cp >> 18));
  buf[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  buf[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  buf[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

// Walks a UTF-8 string as UTF-16 code units.
class Utf16Units {
 public:
  Utf16Units(std::string_view s, size_t start) : s_(s), i_(start) {}

  // The next code unit, or -1 at the end.
  int32_t Next() {
    if (pending_low_ != 0) {
      int32_t unit = pending_low_;
      pending_low_ = 0;
      return unit;
    }
    if (i_ >= s_.size()) return -1;
    uint32_t cp = DecodeUtf8(s_, &i_);
    if (cp < 0x10000) return static_cast<int32_t>(cp);
    pending_low_ = static_cast<int32_t>(0xDC00 + ((cp - 0x10000) & 0x3FF));
    return static_cast<int32_t>(0xD800 + ((cp - 0x10000) >> 10));
  }

 private:
  std::string_view s_;
  size_t i_;
  int32_t pending_low_ = 0;
};

// The simple lowercase mapping of `c` (U+0130 is special-cased by callers).
uint32_t LowerCodePoint(uint32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c < 0x100) return (c >= 0xC0 && c <= 0xDE && c != 0xD7) ? c + 32 : c;
  if (c < 0x180) {  // Latin Extended-A: mostly even upper / odd lower pairs
    if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;
    if (c == 0x178) return 0xFF;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
    return (c & 1) ? c : c + 1;
  }
  if (c < 0x250) {  // Latin Extended-B: the regular runs
    if (c == 0x1C4 || c == 0x1C7 || c == 0x1CA || c == 0x1F1) return c + 2;
    if (c == 0x1C5 || c == 0x1C8 || c == 0x1CB || c == 0x1F2) return c + 1;
    if (c >= 0x1CD && c <= 0x1DC) return (c & 1) ? c + 1 : c;
    if ((c >= 0x1DE && c <= 0x1EF) || (c >= 0x1F8 && c <= 0x21F) || (c >= 0x222 && c <= 0x233)) {
      return (c & 1) ? c : c + 1;
    }
    return c;
  }
  if (c >= 0x370 && c < 0x400) {  // Greek
    if (c == 0x386) return 0x3AC;
    if (c >= 0x388 && c <= 0x38A) return c + 37;
    if (c == 0x38C) return 0x3CC;
    if (c == 0x38E || c == 0x38F) return c + 63;
    if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB)) return c + 32;
    if (c == 0x3CF) return 0x3D7;
    if (c >= 0x3D8 && c <= 0x3EF) return (c & 1) ? c : c + 1;
    if (c == 0x3F4) return 0x3B8;
    if (c == 0x3F7 || c == 0x3FA) return c + 1;
    if (c == 0x3F9) return 0x3F2;
    if (c >= 0x3FD) return c - 130;
    return c;
  }
  if (c >= 0x400 && c < 0x530) {  // Cyrillic
    if (c < 0x410) return c + 80;
    if (c < 0x430) return c + 32;
    if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x52F)) {
      return (c & 1) ? c : c + 1;
    }
    if (c == 0x4C0) return 0x4CF;
    if (c >= 0x4C1 && c <= 0x4CE) return (c & 1) ? c + 1 : c;
    return c;
  }
  if (c >= 0x531 && c <= 0x556) return c + 48;  // Armenian
  if (c >= 0x10A0 && c <= 0x10C5) return c + 0x1C60;  // Georgian
  if (c == 0x10C7 || c == 0x10CD) return c + 0x1C60;
  if (c >= 0x1E00 && c <= 0x1EFF) {  // Latin Extended Additional
    if (c == 0x1E9E) return 0xDF;
    if (c <= 0x1E95 || c >= 0x1EA0) return (c & 1) ? c : c + 1;
    return c;
  }
  if (c >= 0x1F08 && c <= 0x1FAF) {  // Greek Extended: capitals sit 8 above
    uint32_t low = c & 0xF;
    uint32_t row = c & 0xFFF0;
    bool capital_row = (row == 0x1F00 || row == 0x1F10 || row == 0x1F20 || row == 0x1F30 ||
                        row == 0x1F40 || row == 0x1F60 || row == 0x1F80 || row == 0x1F90 ||
                        row == 0x1FA0);
    if (capital_row && low >= 8) {
      if ((row == 0x1F10 || row == 0x1F40) && low > 0xD) return c;
      return c - 8;
    }
    if (row == 0x1F50 && (low == 9 || low == 0xB || low == 0xD || low == 0xF)) return c - 8;
    return c;
  }
  if (c == 0x2126) return 0x3C9;  // Ohm sign
  if (c == 0x212A) return 'k';    // Kelvin sign
  if (c == 0x212B) return 0xE5;   // Angstrom sign
  if (c == 0x2132) return 0x214E;
  if (c >= 0x2160 && c <= 0x216F) return c + 16;  // Roman numerals
  if (c == 0x2183) return 0x2184;
  if (c >= 0x24B6 && c <= 0x24CF) return c + 26;  // circled letters
  if (c >= 0x2C00 && c <= 0x2C2F) return c + 48;  // Glagolitic
  if (c >= 0xFF21 && c <= 0xFF3A) return c + 32;  // fullwidth Latin
  if (c >= 0x10400 && c <= 0x10427) return c + 40;  // Deseret
  return c;
}

}  // namespace

uint32_t DecodeUtf8(std::string_view s, size_t* i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t k = *i;
  unsigned char b0 = p[k];
  if (b0 < 0x80) {
    *i = k + 1;
    return b0;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF && k + 1 < n && IsContinuation(p[k + 1])) {
    *i = k + 2;
    return ((b0 & 0x1Fu) << 6) | (p[k + 1] & 0x3Fu);
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && k + 2 < n && IsContinuation(p[k + 1]) &&
      IsContinuation(p[k + 2]) && !(b0 == 0xE0 && p[k + 1] < 0xA0)) {
    *i = k + 3;
    return ((b0 & 0x0Fu) << 12) | ((p[k + 1] & 0x3Fu) << 6) | (p[k + 2] & 0x3Fu);
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && k + 3 < n && IsContinuation(p[k + 1]) &&
      IsContinuation(p[k + 2]) && IsContinuation(p[k + 3]) && !(b0 == 0xF0 && p[k + 1] < 0x90) &&
      !(b0 == 0xF4 && p[k + 1] > 0x8F)) {
    *i = k + 4;
    return ((b0 & 0x07u) << 18) | ((p[k + 1] & 0x3Fu) << 12) | ((p[k + 2] & 0x3Fu) << 6) |
           (p[k + 3] & 0x3Fu);
  }
  *i = k + 1;
  return kReplacementChar;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  char buf[4];
  out->append(buf, EncodeUtf8(cp, buf));
}

int CompareUtf16(std::string_view a, std::string_view b) {
  const size_t common = std::min(a.size(), b.size());
  size_t p = 0;
  while (p < common && a[p] == b[p]) ++p;
  if (p == common) {
    if (a.size() == b.size()) return 0;
    return a.size() < b.size() ? -1 : 1;
  }
  // The byte order of UTF-8 is code point order, which differs from UTF-16
  // order only between the astral planes and U+E000..U+FFFF: step back to the
  // start of the differing code point and compare code units from there.
  size_t q = p;
  for (int back = 0; back < 3 && q > 0; ++back) {
    bool continuation = IsContinuation(static_cast<unsigned char>(a[q])) ||
                        IsContinuation(static_cast<unsigned char>(b[q]));
    if (!continuation) break;
    --q;
  }
  Utf16Units ua(a, q);
  Utf16Units ub(b, q);
  for (;;) {
    int32_t x = ua.Next();
    int32_t y = ub.Next();
    if (x != y) return x < y ? -1 : 1;
    if (x < 0) return 0;
  }
}

size_t Utf16Length(std::string_view s) {
  size_t units = 0;
  size_t i = 0;
  while (i < s.size()) units += DecodeUtf8(s, &i) >= 0x10000 ? 2 : 1;
  return units;
}

bool IsJsWhitespace(uint32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
    case 0xFEFF:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

std::string_view TrimJsWhitespace(std::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    size_t next = begin;
    if (!IsJsWhitespace(DecodeUtf8(s, &next))) break;
    begin = next;
  }
  size_t end = s.size();
  while (end > begin) {
    // Step back one code point.
    size_t start = end - 1;
    while (start > begin && IsContinuation(static_cast<unsigned char>(s[start]))) --start;
    size_t next = start;
    uint32_t cp = DecodeUtf8(s, &next);
    if (next != end || !IsJsWhitespace(cp)) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

void AppendLowercase(std::string_view s, std::string* out) {
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    uint32_t cp = DecodeUtf8(s, &i);
    if (cp < 0x80) {
      out->push_back(static_cast<char>(LowerCodePoint(cp)));
    } else if (cp == kDottedCapitalI) {
      out->push_back('i');
      AppendUtf8(kCombiningDotAbove, out);
    } else if (cp == kReplacementChar) {
      out->append(s.substr(start, i - start));  // keep undecodable bytes as they are
    } else {
      AppendUtf8(LowerCodePoint(cp), out);
    }
  }
}

bool LowercaseEquals(std::string_view s, std::string_view lowered) {
  size_t i = 0;
  size_t j = 0;
  char buf[8];
  while (i < s.size()) {
    size_t start = i;
    uint32_t cp = DecodeUtf8(s, &i);
    std::string_view piece;
    if (cp < 0x80) {
      buf[0] = static_cast<char>(LowerCodePoint(cp));
      piece = std::string_view(buf, 1);
    } else if (cp == kDottedCapitalI) {
      buf[0] = 'i';
      piece = std::string_view(buf, 1 + EncodeUtf8(kCombiningDotAbove, buf + 1));
    } else if (cp == kReplacementChar) {
      piece = s.substr(start, i - start);
    } else {
      piece = std::string_view(buf, EncodeUtf8(LowerCodePoint(cp), buf));
    }
    if (lowered.substr(j, piece.size()) != piece) return false;
    j += piece.size();
  }
  return j == lowered.size();
}

}  // namespace tempo::cond
