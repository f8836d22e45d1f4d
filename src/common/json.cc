// JSON output helpers.
#include "common/json.h"

#include <charconv>
#include <cstring>

namespace tempo {

namespace {

// Bytes each input byte adds when escaped: 0 (copied), 1 ("\n", "\"", ...)
// or 5 ("\u00XX" for the other control characters).
struct EscapeTable {
  unsigned char extra[256] = {};
  constexpr EscapeTable() {
    for (int c = 0; c < 0x20; ++c) extra[c] = 5;
    for (int c : {'\n', '\r', '\t', '\b', '\f', '"', '\\'}) extra[c] = 1;
  }
};
constexpr EscapeTable kEscape;

}  // namespace

// Two passes: the escaped size first, so that the output is written in place
// with no per-escape append (layout bodies have a quote every few bytes).
void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t extra = 0;
  for (unsigned char c : s) extra += kEscape.extra[c];
  const size_t start = out->size();
  out->resize(start + s.size() + extra + 2);
  char* p = out->data() + start;
  *p++ = '"';
  if (extra == 0) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  } else {
    for (unsigned char c : s) {
      if (kEscape.extra[c] == 0) {
        *p++ = static_cast<char>(c);
        continue;
      }
      *p++ = '\\';
      switch (c) {
        case '"':
        case '\\':
          *p++ = static_cast<char>(c);
          break;
        case '\n':
          *p++ = 'n';
          break;
        case '\r':
          *p++ = 'r';
          break;
        case '\t':
          *p++ = 't';
          break;
        case '\b':
          *p++ = 'b';
          break;
        case '\f':
          *p++ = 'f';
          break;
        default:
          *p++ = 'u';
          *p++ = '0';
          *p++ = '0';
          *p++ = kHex[c >> 4];
          *p++ = kHex[c & 15];
      }
    }
  }
  *p = '"';
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

}  // namespace tempo
