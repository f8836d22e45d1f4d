// A single-pass strict JSON validator that writes the compact form as it goes.
#include "events/json_compact.h"

#include <simdjson.h>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

namespace tempo::events {
namespace {

bool IsJsonWhitespace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Bytes that end the fast scan of a string body: the closing quote, an
// escape, or a control character (which must be escaped, RFC 8259 §7).
constexpr std::array<bool, 256> kStringStop = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = true;
  t['\\'] = true;
  return t;
}();

// Validating compaction of one text, shaped for speed because every event
// and every stored record read passes through it. On the golden events
// (371 bytes on average) three choices took it from ~750 to ~470 ns per
// event: output written through a raw pointer into a buffer grown once by
// the input size (the output is never longer than the input) instead of
// push_back; failures recorded in members instead of a Status returned per
// token; and string bodies copied eight bytes at a time (SWAR) instead of
// scanned byte by byte and then memcpy'd.
class Compactor {
 public:
  Compactor(std::string_view text, std::string* out)
      : p_(text.data()), n_(text.size()), out_(out), base_(out->size()) {
    out_->resize(base_ + n_);
    w_ = out_->data() + base_;
  }
  ~Compactor() { out_->resize(static_cast<size_t>(w_ - out_->data())); }
  Compactor(const Compactor&) = delete;
  Compactor& operator=(const Compactor&) = delete;

  // After Run() returned false: what was wrong, and at which input byte.
  const char* error() const { return error_; }
  size_t error_offset() const { return pos_; }

  bool Run() {
    // Each entry is the closing byte of an open container: '}' or ']'.
    std::string open;
    SkipWhitespace();
    for (;;) {
      // A value starts at pos_.
      if (pos_ >= n_) return Fail("unexpected end of input");
      const char c = p_[pos_];
      if (c == '{' || c == '[') {
        if (open.size() >= kMaxJsonDepth) return Fail("nesting deeper than 1024 levels");
        const char close = c == '{' ? '}' : ']';
        Put(c);
        ++pos_;
        SkipWhitespace();
        if (pos_ < n_ && p_[pos_] == close) {
          Put(close);
          ++pos_;
        } else {
          open.push_back(close);
          if (close == '}') {
            if (!Key()) return false;
          }
          continue;
        }
      } else if (c == '"') {
        if (!String()) return false;
      } else if (c == '-' || IsDigit(c)) {
        if (!Number()) return false;
      } else if (c == 't') {
        if (!Literal("true")) return false;
      } else if (c == 'f') {
        if (!Literal("false")) return false;
      } else if (c == 'n') {
        if (!Literal("null")) return false;
      } else {
        return Fail("unexpected character");
      }

      // A value ended: close containers until one continues with ','.
      for (;;) {
        SkipWhitespace();
        if (open.empty()) {
          if (pos_ != n_) return Fail("unexpected bytes after the value");
          return true;
        }
        if (pos_ >= n_) return Fail("unexpected end of input");
        const char d = p_[pos_];
        if (d == ',') {
          Put(',');
          ++pos_;
          SkipWhitespace();
          if (open.back() == '}') {
            if (!Key()) return false;
          }
          break;
        }
        if (d != open.back()) return Fail("unexpected character");
        Put(d);
        ++pos_;
        open.pop_back();
      }
    }
  }

 private:
  void Put(char c) { *w_++ = c; }
  // Copies the input from `start` up to pos_.
  void Copy(size_t start) {
    std::memcpy(w_, p_ + start, pos_ - start);
    w_ += pos_ - start;
  }

  void SkipWhitespace() {
    while (pos_ < n_ && IsJsonWhitespace(p_[pos_])) ++pos_;
  }

  // Records why and where the input stopped being JSON; returns false.
  bool Fail(const char* what) {
    error_ = what;
    return false;
  }

  // An object key, its ':' and the whitespace before the value.
  bool Key() {
    if (pos_ >= n_) return Fail("unexpected end of input");
    if (p_[pos_] != '"') return Fail("expected a string key");
    if (!String()) return false;
    SkipWhitespace();
    if (pos_ >= n_) return Fail("unexpected end of input");
    if (p_[pos_] != ':') return Fail("expected ':'");
    Put(':');
    ++pos_;
    SkipWhitespace();
    return true;
  }

  // Copies string-body bytes that need no look ('"', '\\' and bytes below
  // 0x20 do) to the output, up to the next one that does. Eight bytes per
  // step: they are stored before being tested, which is safe because the
  // output written so far is never longer than the input read so far.
  void CopyPlainStringBytes() {
    static_assert(std::endian::native == std::endian::little,
                  "the stop test reads bytes LSB first");
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    constexpr uint64_t kHighBits = 0x8080808080808080ull;
    while (n_ - pos_ >= sizeof(uint64_t)) {
      uint64_t x;
      std::memcpy(&x, p_ + pos_, sizeof x);
      std::memcpy(w_, &x, sizeof x);
      const uint64_t quote = x ^ (kOnes * '"');
      const uint64_t backslash = x ^ (kOnes * '\\');
      // (v - 0x01..) & ~v flags the bytes of v that are 0, and (x - 0x20..) & ~x
      // the bytes of x below 0x20; a borrow may also flag a byte above a true
      // hit, never below one, so the lowest flag is exact.
      const uint64_t stop = (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
                             ((x - kOnes * 0x20) & ~x)) &
                            kHighBits;
      if (stop != 0) {
        const size_t plain = static_cast<size_t>(std::countr_zero(stop)) / 8;
        pos_ += plain;
        w_ += plain;
        return;
      }
      pos_ += sizeof(uint64_t);
      w_ += sizeof(uint64_t);
    }
    while (pos_ < n_ && !kStringStop[static_cast<unsigned char>(p_[pos_])]) Put(p_[pos_++]);
  }

  // REQUIRES: p_[pos_] == '"'.
  bool String() {
    Put('"');
    ++pos_;
    for (;;) {
      CopyPlainStringBytes();
      if (pos_ >= n_) return Fail("unterminated string");
      const char c = p_[pos_];
      if (c == '"') break;
      if (c != '\\') return Fail("unescaped control character in string");
      if (pos_ + 1 >= n_) return Fail("unterminated string");
      size_t escape_bytes = 2;
      switch (p_[pos_ + 1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          break;
        case 'u':
          for (size_t i = 2; i < 6; ++i) {
            if (pos_ + i >= n_ || !IsHexDigit(p_[pos_ + i])) return Fail("invalid \\u escape");
          }
          escape_bytes = 6;
          break;
        default:
          return Fail("invalid escape");
      }
      for (size_t i = 0; i < escape_bytes; ++i) Put(p_[pos_++]);
    }
    Put('"');
    ++pos_;
    return true;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; REQUIRES: p_[pos_] is '-' or a digit.
  bool Number() {
    const size_t start = pos_;
    if (p_[pos_] == '-') ++pos_;
    if (pos_ >= n_ || !IsDigit(p_[pos_])) return Fail("invalid number");
    if (p_[pos_] == '0') {
      ++pos_;
    } else {
      while (pos_ < n_ && IsDigit(p_[pos_])) ++pos_;
    }
    if (pos_ < n_ && p_[pos_] == '.') {
      ++pos_;
      if (pos_ >= n_ || !IsDigit(p_[pos_])) return Fail("invalid number");
      while (pos_ < n_ && IsDigit(p_[pos_])) ++pos_;
    }
    if (pos_ < n_ && (p_[pos_] == 'e' || p_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < n_ && (p_[pos_] == '+' || p_[pos_] == '-')) ++pos_;
      if (pos_ >= n_ || !IsDigit(p_[pos_])) return Fail("invalid number");
      while (pos_ < n_ && IsDigit(p_[pos_])) ++pos_;
    }
    Copy(start);
    return true;
  }

  bool Literal(std::string_view word) {
    if (n_ - pos_ < word.size() || std::memcmp(p_ + pos_, word.data(), word.size()) != 0) {
      return Fail("invalid literal");
    }
    std::memcpy(w_, word.data(), word.size());
    w_ += word.size();
    pos_ += word.size();
    return true;
  }

  const char* p_;
  size_t n_;
  size_t pos_ = 0;
  const char* error_ = nullptr;
  std::string* out_;
  size_t base_;
  char* w_;
};

}  // namespace

Status CompactJson(std::string_view text, std::string* out) {
  if (!simdjson::validate_utf8(text.data(), text.size())) {
    return Status::InvalidArgument("not valid UTF-8");
  }
  Compactor compactor(text, out);
  if (compactor.Run()) return Status::OK();
  std::string msg = "not valid JSON (";
  msg.append(compactor.error());
  msg.append(" at byte ");
  msg.append(std::to_string(compactor.error_offset()));
  msg.push_back(')');
  return Status::InvalidArgument(std::move(msg));
}

}  // namespace tempo::events
