// RequestParser: a Beast parser that keeps only what a Request needs.
//
// beast::http::request_parser stores every header field in an allocated
// basic_fields node; this server needs three strings, so the parser copies
// them into a ParsedRequest that the connection reuses (its strings keep their
// capacity, so a steady stream of requests allocates nothing here). Bodies are
// discarded unless ParsedRequest::keep_body is set. It also enforces what RFC 9112 asks of a
// request's framing and Host (see server.h), failing with an error whose reason it records.
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tempo::http {

// The parts of one request the server passes on, plus what error reporting
// needs. Owned by the connection and reused from request to request.
struct ParsedRequest {
  std::string method;
  std::string target;
  std::string if_none_match;  // several If-None-Match fields are joined with ", "
  std::string content_type;
  // "X-Request-Id", when it is 1 to kMaxRequestIdBytes visible ASCII
  // characters (else ignored: the server makes one).
  std::string request_id;
  // A W3C "traceparent" that is well formed (else ignored), as sent.
  std::string traceparent;
  std::string body;        // filled only while keep_body is set
  bool keep_body = false;  // set by the connection when it reads bodies
  bool shadow = false;     // "X-Tempo-Shadow: 1"
  int version = 11;        // 10 for HTTP/1.0, 11 for HTTP/1.1
  bool request_line_parsed = false;
  bool expect_continue = false;  // "Expect: 100-continue"
  // Why the head was refused (the parser then fails with bad_value), if it was.
  std::string_view refusal;

  // Empties the strings (keeping their capacity) for the next request.
  void Clear() {
    method.clear();
    target.clear();
    if_none_match.clear();
    content_type.clear();
    request_id.clear();
    traceparent.clear();
    body.clear();
    keep_body = false;
    shadow = false;
    version = 11;
    request_line_parsed = false;
    expect_continue = false;
    refusal = {};
  }
};

// The longest X-Request-Id kept from a request.
inline constexpr size_t kMaxRequestIdBytes = 128;

// An X-Request-Id worth keeping: 1 to kMaxRequestIdBytes characters, each
// visible ASCII (no space, no control), so it can be echoed and logged as is.
inline bool IsRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdBytes) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// A W3C Trace Context "traceparent" (version-traceid-parentid-flags, lower
// case hex, 2-32-16-2 digits; a trace or parent id of all zeros and version
// "ff" are invalid). Later versions may append fields after the flags.
inline bool IsTraceparent(std::string_view v) {
  auto hex = [](std::string_view s) {
    bool nonzero = false;
    for (char c : s) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::pair{false, false};
      nonzero = nonzero || c != '0';
    }
    return std::pair{true, nonzero};
  };
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  const auto version = hex(v.substr(0, 2));
  if (!version.first || v.substr(0, 2) == "ff") return false;
  if (v.size() > 55 && (v.substr(0, 2) == "00" || v[55] != '-')) return false;
  const auto trace = hex(v.substr(3, 32));
  const auto parent = hex(v.substr(36, 16));
  return trace.first && trace.second && parent.first && parent.second && hex(v.substr(53, 2)).first;
}

// Reduces an absolute-form request-target ("http://host:80/p?q") to origin
// form ("/p?q"; "/" when it has no path); other targets are left alone.
inline void ToOriginForm(std::string* target) {
  const std::string_view t = *target;
  const size_t scheme_end = t.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return;
  for (char c : t.substr(0, scheme_end)) {
    const bool scheme_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    if (!scheme_char) return;
  }
  const size_t authority = scheme_end + 3;
  const size_t path = t.find_first_of("/?", authority);
  if (path == std::string_view::npos) {
    target->assign("/");
  } else if (t[path] == '?') {
    target->erase(0, path);
    target->insert(0, "/");
  } else {
    target->erase(0, path);
  }
}

// Parses one request into a ParsedRequest. Single use, like every Beast
// parser: construct a new one (cheap, no allocation) for each request.
class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  // REQUIRES: `out` outlives the parser; the caller has cleared it.
  // `max_head_bytes` bounds the whole head, request line and fields together
  // (see head_bytes_left()).
  explicit RequestParser(ParsedRequest* out, size_t max_head_bytes = SIZE_MAX)
      : out_(out), head_bytes_left_(max_head_bytes) {}

  // How many more bytes the head may have. Beast's header_limit() bounds the
  // request line and the fields each on its own, measured from where a put()
  // call begins, so what it lets through depends on how the bytes arrived
  // (up to twice the limit in one piece); the caller offers put() at most
  // this many bytes of the head and counts what it consumed
  // (http::ParseRequestHead).
  size_t head_bytes_left() const { return head_bytes_left_; }
  // REQUIRES: n <= head_bytes_left().
  void ConsumeHeadBytes(size_t n) { head_bytes_left_ -= n; }

  // Bounds the body to `max_bytes`, failing with body_limit beyond: Beast's
  // body_limit() for a Content-Length (checked once the head is complete),
  // this parser's own count for a chunked body. Beast subtracts a chunk's
  // size from its limit before it has parsed the chunk's extensions, and
  // again each time it parses them anew because more bytes were needed, so
  // a chunk header split across reads could use up the limit of a small body.
  void LimitBody(uint64_t max_bytes) {
    body_limit(max_bytes);
    chunked_bytes_left_ = max_bytes;
  }

 private:
  using ErrorCode = boost::beast::error_code;
  using StringView = boost::beast::string_view;
  using Field = boost::beast::http::field;
  using Verb = boost::beast::http::verb;

  void on_request_impl(Verb /*method*/, StringView method, StringView target, int version,
                       ErrorCode& /*ec*/) override {
    // The views point into the connection's read buffer, which is consumed
    // as parsing advances: copy now.
    out_->method.assign(method.data(), method.size());
    out_->target.assign(target.data(), target.size());
    ToOriginForm(&out_->target);
    out_->version = version;
    out_->request_line_parsed = true;
  }

  void on_response_impl(int /*code*/, StringView /*reason*/, int /*version*/,
                        ErrorCode& /*ec*/) override {}

  void on_field_impl(Field name, StringView name_string, StringView value,
                     ErrorCode& /*ec*/) override {
    switch (name) {
      case Field::content_type:
        out_->content_type.assign(value.data(), value.size());
        break;
      case Field::unknown: {
        const std::string_view field(name_string.data(), name_string.size());
        const std::string_view text = Trim(std::string_view(value.data(), value.size()));
        if (EqualsIgnoreCase(field, "x-tempo-shadow")) {
          out_->shadow = text == "1";
        } else if (EqualsIgnoreCase(field, "x-request-id")) {
          if (IsRequestId(text)) out_->request_id.assign(text);
        } else if (EqualsIgnoreCase(field, "traceparent")) {
          if (IsTraceparent(text)) out_->traceparent.assign(text);
        }
        break;
      }
      case Field::if_none_match:
        if (!out_->if_none_match.empty()) out_->if_none_match.append(", ");
        out_->if_none_match.append(value.data(), value.size());
        break;
      case Field::host:
        ++hosts_;
        break;
      case Field::content_length:
        content_length_ = true;
        break;
      case Field::transfer_encoding:
        // Each field's list continues the previous one: only the last coding
        // of the last field counts.
        last_coding_ = LastListItem(std::string_view(value.data(), value.size()));
        transfer_encoding_ = true;
        break;
      case Field::expect:
        out_->expect_continue =
            EqualsIgnoreCase(Trim(std::string_view(value.data(), value.size())), "100-continue");
        break;
      default:
        break;
    }
  }

  void on_header_impl(ErrorCode& ec) override {
    if (transfer_encoding_ && !EqualsIgnoreCase(last_coding_, "chunked")) {
      Refuse("the final transfer coding is not chunked", ec);
    } else if (transfer_encoding_ && content_length_) {
      Refuse("both Transfer-Encoding and Content-Length", ec);
    } else if (hosts_ > 1) {
      Refuse("more than one Host header", ec);
    } else if (out_->version >= 11 && hosts_ == 0) {
      Refuse("an HTTP/1.1 request needs a Host header", ec);
    } else if (transfer_encoding_ && chunked_bytes_left_) {
      body_limit(boost::none);  // on_chunk_header_impl counts (see LimitBody)
    }
  }

  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         ErrorCode& /*ec*/) override {
    // The connection set body_limit() when it keeps bodies, so this is bounded.
    if (out_->keep_body && content_length) out_->body.reserve(*content_length);
  }

  std::size_t on_body_impl(StringView body, ErrorCode& /*ec*/) override {
    if (out_->keep_body) out_->body.append(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t size, StringView /*extensions*/, ErrorCode& ec) override {
    // Called once per chunk, when its header has parsed whole.
    if (!chunked_bytes_left_) return;
    if (size > *chunked_bytes_left_) {
      ec = boost::beast::http::error::body_limit;
      return;
    }
    *chunked_bytes_left_ -= size;
  }

  std::size_t on_chunk_body_impl(std::uint64_t /*remain*/, StringView body,
                                 ErrorCode& /*ec*/) override {
    if (out_->keep_body) out_->body.append(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(ErrorCode& /*ec*/) override {}

  static std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  }
  // The last non-empty item of a comma list (RFC 9110 §5.6.1: empty items
  // are allowed and ignored).
  static std::string_view LastListItem(std::string_view list) {
    for (;;) {
      const size_t comma = list.rfind(',');
      const std::string_view item =
          Trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
      if (!item.empty() || comma == std::string_view::npos) return item;
      list = list.substr(0, comma);
    }
  }
  static bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      const char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] + 32) : a[i];
      if (x != b[i]) return false;
    }
    return true;
  }
  void Refuse(std::string_view why, ErrorCode& ec) {
    out_->refusal = why;
    ec = boost::beast::http::error::bad_value;
  }

  ParsedRequest* const out_;
  size_t head_bytes_left_;
  std::optional<uint64_t> chunked_bytes_left_;  // set by LimitBody
  int hosts_ = 0;
  bool content_length_ = false;
  bool transfer_encoding_ = false;
  std::string last_coding_;  // a copy: the field's bytes are consumed as parsing goes on
};

}  // namespace tempo::http
