// A single-pass strict JSON validator that writes the compact form as it goes.
#include "events/json_compact.h"

#include <simdjson.h>

#include <array>
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

class Compactor {
 public:
  // Writes through a raw pointer into `*out`, grown once by the input size:
  // the output is never longer than the input, and a per-byte push_back
  // (with its capacity check) measured at a third of the decode time.
  Compactor(std::string_view text, std::string* out)
      : p_(text.data()), n_(text.size()), out_(out), base_(out->size()) {
    out_->resize(base_ + n_);
    w_ = out_->data() + base_;
  }
  ~Compactor() { out_->resize(static_cast<size_t>(w_ - out_->data())); }
  Compactor(const Compactor&) = delete;
  Compactor& operator=(const Compactor&) = delete;

  Status Run() {
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
            if (Status s = Key(); !s.ok()) return s;
          }
          continue;
        }
      } else if (c == '"') {
        if (Status s = String(); !s.ok()) return s;
      } else if (c == '-' || IsDigit(c)) {
        if (Status s = Number(); !s.ok()) return s;
      } else if (c == 't') {
        if (Status s = Literal("true"); !s.ok()) return s;
      } else if (c == 'f') {
        if (Status s = Literal("false"); !s.ok()) return s;
      } else if (c == 'n') {
        if (Status s = Literal("null"); !s.ok()) return s;
      } else {
        return Fail("unexpected character");
      }

      // A value ended: close containers until one continues with ','.
      for (;;) {
        SkipWhitespace();
        if (open.empty()) {
          if (pos_ != n_) return Fail("unexpected bytes after the value");
          return Status::OK();
        }
        if (pos_ >= n_) return Fail("unexpected end of input");
        const char d = p_[pos_];
        if (d == ',') {
          Put(',');
          ++pos_;
          SkipWhitespace();
          if (open.back() == '}') {
            if (Status s = Key(); !s.ok()) return s;
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

  Status Fail(std::string_view what) const {
    std::string msg = "not valid JSON (";
    msg.append(what);
    msg.append(" at byte ");
    msg.append(std::to_string(pos_));
    msg.push_back(')');
    return Status::InvalidArgument(std::move(msg));
  }

  // An object key, its ':' and the whitespace before the value.
  Status Key() {
    if (pos_ >= n_) return Fail("unexpected end of input");
    if (p_[pos_] != '"') return Fail("expected a string key");
    if (Status s = String(); !s.ok()) return s;
    SkipWhitespace();
    if (pos_ >= n_) return Fail("unexpected end of input");
    if (p_[pos_] != ':') return Fail("expected ':'");
    Put(':');
    ++pos_;
    SkipWhitespace();
    return Status::OK();
  }

  // REQUIRES: p_[pos_] == '"'.
  Status String() {
    const size_t start = pos_++;
    for (;;) {
      while (pos_ < n_ && !kStringStop[static_cast<unsigned char>(p_[pos_])]) ++pos_;
      if (pos_ >= n_) return Fail("unterminated string");
      const char c = p_[pos_];
      if (c == '"') break;
      if (c != '\\') return Fail("unescaped control character in string");
      if (pos_ + 1 >= n_) return Fail("unterminated string");
      switch (p_[pos_ + 1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          pos_ += 2;
          break;
        case 'u':
          for (size_t i = 2; i < 6; ++i) {
            if (pos_ + i >= n_ || !IsHexDigit(p_[pos_ + i])) return Fail("invalid \\u escape");
          }
          pos_ += 6;
          break;
        default:
          return Fail("invalid escape");
      }
    }
    ++pos_;  // the closing quote
    Copy(start);
    return Status::OK();
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; REQUIRES: p_[pos_] is '-' or a digit.
  Status Number() {
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
    return Status::OK();
  }

  Status Literal(std::string_view word) {
    if (n_ - pos_ < word.size() || std::memcmp(p_ + pos_, word.data(), word.size()) != 0) {
      return Fail("invalid literal");
    }
    std::memcpy(w_, word.data(), word.size());
    w_ += word.size();
    pos_ += word.size();
    return Status::OK();
  }

  const char* p_;
  size_t n_;
  size_t pos_ = 0;
  std::string* out_;
  size_t base_;
  char* w_;
};

}  // namespace

Status CompactJson(std::string_view text, std::string* out) {
  if (!simdjson::validate_utf8(text.data(), text.size())) {
    return Status::InvalidArgument("not valid UTF-8");
  }
  return Compactor(text, out).Run();
}

}  // namespace tempo::events
