// ParseJson(): JSON text -> Value with JSON.parse's semantics.
//
// simdjson parses almost every document. It rejects three kinds of input
// that JSON.parse accepts: integers beyond 64 bits, numbers beyond the
// double range (JSON.parse gives Infinity or 0) and lone surrogate escapes
// ("\ud800"). Documents simdjson rejects are parsed again by a small strict
// recursive-descent parser that accepts exactly JSON.parse's grammar.
#include <simdjson.h>

#include <string>

#include "cond/cond.h"
#include "cond/js_number.h"
#include "cond/js_string.h"

namespace tempo::cond {
namespace {

// Documents nest at most this deep (simdjson's default limit, kept for the
// fallback parser too, so both reject the same documents).
constexpr int kMaxJsonDepth = 1024;
constexpr uint32_t kReplacementChar = 0xFFFD;

Value FromSimdjson(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      return Value();
    case simdjson::dom::element_type::BOOL:
      return Value::Bool(e.get_bool().value_unsafe());
    case simdjson::dom::element_type::INT64:
      return Value::Number(static_cast<double>(e.get_int64().value_unsafe()));
    case simdjson::dom::element_type::UINT64:
      return Value::Number(static_cast<double>(e.get_uint64().value_unsafe()));
    case simdjson::dom::element_type::DOUBLE:
      return Value::Number(e.get_double().value_unsafe());
    case simdjson::dom::element_type::STRING:
      return Value::String(std::string(e.get_string().value_unsafe()));
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array a = e.get_array().value_unsafe();
      std::vector<Value> items;
      items.reserve(a.size());
      for (simdjson::dom::element item : a) items.push_back(FromSimdjson(item));
      return Value::Array(std::move(items));
    }
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object o = e.get_object().value_unsafe();
      std::vector<Value::Member> members;
      members.reserve(o.size());
      for (simdjson::dom::key_value_pair kv : o) {
        members.emplace_back(std::string(kv.key), FromSimdjson(kv.value));
      }
      return Value::Object(std::move(members));
    }
  }
  return Value();
}

// The strict fallback parser (RFC 8259, as JSON.parse reads it).
class TextParser {
 public:
  explicit TextParser(std::string_view text) : s_(text) {}

  bool Parse(Value* out) {
    SkipWhitespace();
    if (!ParseValue(out, 0)) return false;
    SkipWhitespace();
    return i_ == s_.size();
  }

 private:
  bool AtEnd() const { return i_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[i_]; }

  void SkipWhitespace() {
    while (!AtEnd() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }

  bool Consume(std::string_view literal) {
    if (s_.substr(i_, literal.size()) != literal) return false;
    i_ += literal.size();
    return true;
  }

  bool ParseValue(Value* out, int depth) {
    if (depth > kMaxJsonDepth) return false;
    switch (Peek()) {
      case 'n':
        *out = Value();
        return Consume("null");
      case 't':
        *out = Value::Bool(true);
        return Consume("true");
      case 'f':
        *out = Value::Bool(false);
        return Consume("false");
      case '"': {
        std::string s;
        if (!ParseString(&s)) return false;
        *out = Value::String(std::move(s));
        return true;
      }
      case '[':
        return ParseArray(out, depth);
      case '{':
        return ParseObject(out, depth);
      default:
        return ParseNumber(out);
    }
  }

  bool ParseDigits() {
    size_t start = i_;
    while (!AtEnd() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }

  bool ParseNumber(Value* out) {
    const size_t start = i_;
    if (Peek() == '-') ++i_;
    if (Peek() == '0') {
      ++i_;
    } else if (!ParseDigits()) {
      return false;
    }
    if (Peek() == '.') {
      ++i_;
      if (!ParseDigits()) return false;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++i_;
      if (Peek() == '+' || Peek() == '-') ++i_;
      if (!ParseDigits()) return false;
    }
    // JSON's number grammar is a subset of Number()'s, which rounds the same
    // way and turns overflow into Infinity.
    *out = Value::Number(JsStringToNumber(s_.substr(start, i_ - start)));
    return true;
  }

  bool ParseHex4(uint32_t* unit) {
    if (i_ + 4 > s_.size()) return false;
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      int h = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (h < 0) return false;
      v = v * 16 + static_cast<uint32_t>(h);
    }
    *unit = v;
    return true;
  }

  bool ParseString(std::string* out) {
    ++i_;  // opening quote
    for (;;) {
      if (AtEnd()) return false;
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c != '\\') {
        const size_t start = i_;
        const uint32_t cp = DecodeUtf8(s_, &i_);
        const bool invalid =
            (cp == kReplacementChar && i_ - start != 3) || (cp >= 0xD800 && cp <= 0xDFFF);
        if (invalid) return false;
        out->append(s_.substr(start, i_ - start));
        continue;
      }
      ++i_;
      if (AtEnd()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t unit = 0;
          if (!ParseHex4(&unit)) return false;
          // A high surrogate escape followed by a low one is one character;
          // an unpaired one stays a lone surrogate (WTF-8).
          if (unit >= 0xD800 && unit < 0xDC00 && s_.substr(i_, 2) == "\\u") {
            size_t save = i_;
            i_ += 2;
            uint32_t low = 0;
            if (ParseHex4(&low) && low >= 0xDC00 && low <= 0xDFFF) {
              unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
            } else {
              i_ = save;
            }
          }
          AppendUtf8(unit, out);
          break;
        }
        default:
          return false;
      }
    }
  }

  bool ParseArray(Value* out, int depth) {
    ++i_;
    std::vector<Value> items;
    SkipWhitespace();
    if (Peek() == ']') {
      ++i_;
      *out = Value::Array(std::move(items));
      return true;
    }
    for (;;) {
      SkipWhitespace();
      Value item;
      if (!ParseValue(&item, depth + 1)) return false;
      items.push_back(std::move(item));
      SkipWhitespace();
      if (Peek() == ',') {
        ++i_;
        continue;
      }
      if (Peek() != ']') return false;
      ++i_;
      *out = Value::Array(std::move(items));
      return true;
    }
  }

  bool ParseObject(Value* out, int depth) {
    ++i_;
    std::vector<Value::Member> members;
    SkipWhitespace();
    if (Peek() == '}') {
      ++i_;
      *out = Value::Object(std::move(members));
      return true;
    }
    for (;;) {
      SkipWhitespace();
      if (Peek() != '"') return false;
      std::string key;
      if (!ParseString(&key)) return false;
      SkipWhitespace();
      if (Peek() != ':') return false;
      ++i_;
      SkipWhitespace();
      Value value;
      if (!ParseValue(&value, depth + 1)) return false;
      members.emplace_back(std::move(key), std::move(value));
      SkipWhitespace();
      if (Peek() == ',') {
        ++i_;
        continue;
      }
      if (Peek() != '}') return false;
      ++i_;
      *out = Value::Object(std::move(members));
      return true;
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

Result<Value> ParseJson(std::string_view json) {
  // One parser per thread: it keeps its buffers between documents.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size(), /*realloc_if_needed=*/true).get(root) ==
      simdjson::SUCCESS) {
    return FromSimdjson(root);
  }
  Value v;
  if (TextParser(json).Parse(&v)) return v;
  return Status::InvalidArgument("malformed JSON");
}

}  // namespace tempo::cond
