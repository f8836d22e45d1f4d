// UTF-8 <-> UTF-16 views, whitespace and lowercase as JavaScript defines them.
#include "cond/js_string.h"

#include <algorithm>

#include "cond/unicode_tables.h"

namespace tempo::cond {
namespace {

constexpr uint32_t kReplacementChar = 0xFFFD;
constexpr uint32_t kDottedCapitalI = 0x130;  // lowercases to "i" + U+0307
constexpr uint32_t kCombiningDotAbove = 0x307;
constexpr uint32_t kCapitalSigma = 0x3A3;
constexpr uint32_t kSmallSigma = 0x3C3;
constexpr uint32_t kFinalSigma = 0x3C2;

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

template <typename Range>
const Range* FindRange(const Range* table, size_t count, uint32_t cp) {
  const Range* end = table + count;
  const Range* it =
      std::upper_bound(table, end, cp, [](uint32_t c, const Range& r) { return c < r.first; });
  if (it == table) return nullptr;
  --it;
  return cp <= it->last ? it : nullptr;
}

bool IsCased(uint32_t cp) { return FindRange(kCasedRanges, kCasedRangeCount, cp) != nullptr; }
bool IsCaseIgnorable(uint32_t cp) {
  return FindRange(kCaseIgnorableRanges, kCaseIgnorableRangeCount, cp) != nullptr;
}

// The simple lowercase mapping of `c`.
uint32_t LowerCodePoint(uint32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  const LowercaseRun* run = FindRange(kLowercaseRuns, kLowercaseRunCount, c);
  if (run == nullptr || (c - run->first) % run->stride != 0) return c;
  return static_cast<uint32_t>(static_cast<int32_t>(c) + run->delta);
}

// Unicode's Final_Sigma condition for the capital sigma at s[start, end):
// preceded by a cased letter (case-ignorable characters between) and not
// followed by one.
bool IsFinalSigma(std::string_view s, size_t start, size_t end) {
  bool preceded = false;
  size_t i = start;
  while (i > 0) {
    size_t k = i - 1;
    while (k > 0 && IsContinuation(static_cast<unsigned char>(s[k]))) --k;
    size_t next = k;
    const uint32_t cp = DecodeUtf8(s, &next);
    i = k;
    if (IsCased(cp)) {
      preceded = true;
      break;
    }
    if (!IsCaseIgnorable(cp)) break;
  }
  if (!preceded) return false;
  i = end;
  while (i < s.size()) {
    const uint32_t cp = DecodeUtf8(s, &i);
    if (IsCased(cp)) return false;
    if (!IsCaseIgnorable(cp)) break;
  }
  return true;
}

// The lowercase of the code point `cp` at s[start, end), UTF-8 encoded into
// buf (toLowerCase's full mapping: U+0130 becomes two code points, and a
// capital sigma depends on its neighbours). Returns the length.
size_t LowercaseAt(std::string_view s, size_t start, size_t end, uint32_t cp, char* buf) {
  if (cp == kDottedCapitalI) {
    buf[0] = 'i';
    return 1 + EncodeUtf8(kCombiningDotAbove, buf + 1);
  }
  if (cp == kCapitalSigma) {
    return EncodeUtf8(IsFinalSigma(s, start, end) ? kFinalSigma : kSmallSigma, buf);
  }
  return EncodeUtf8(LowerCodePoint(cp), buf);
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

template <typename Out>
void AppendLowercaseTo(std::string_view s, Out* out) {
  size_t i = 0;
  char buf[8];
  while (i < s.size()) {
    const size_t start = i;
    const uint32_t cp = DecodeUtf8(s, &i);
    if (cp < 0x80) {
      out->push_back(static_cast<char>(LowerCodePoint(cp)));
    } else if (cp == kReplacementChar) {
      out->append(s.substr(start, i - start));  // keep undecodable bytes as they are
    } else {
      out->append(std::string_view(buf, LowercaseAt(s, start, i, cp, buf)));
    }
  }
}

void AppendLowercase(std::string_view s, std::string* out) { AppendLowercaseTo(s, out); }
void AppendLowercase(std::string_view s, TextBuffer* out) { AppendLowercaseTo(s, out); }

bool LowercaseEquals(std::string_view s, std::string_view lowered) {
  size_t i = 0;
  size_t j = 0;
  char buf[8];
  while (i < s.size()) {
    const size_t start = i;
    const uint32_t cp = DecodeUtf8(s, &i);
    std::string_view piece;
    if (cp < 0x80) {
      buf[0] = static_cast<char>(LowerCodePoint(cp));
      piece = std::string_view(buf, 1);
    } else if (cp == kReplacementChar) {
      piece = s.substr(start, i - start);
    } else {
      piece = std::string_view(buf, LowercaseAt(s, start, i, cp, buf));
    }
    if (lowered.substr(j, piece.size()) != piece) return false;
    j += piece.size();
  }
  return j == lowered.size();
}

}  // namespace tempo::cond
