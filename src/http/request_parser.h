// RequestParser: a Beast parser that keeps only what a Request needs.
//
// beast::http::request_parser stores every header field in an allocated
// basic_fields node; this server needs three strings, so the parser copies
// them into a ParsedRequest that the connection reuses (its strings keep their
// capacity, so a steady stream of requests allocates nothing here). Bodies are
// counted against the limit and discarded.
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

namespace tempo::http {

// The parts of one request the server passes on, plus what error reporting
// needs. Owned by the connection and reused from request to request.
struct ParsedRequest {
  std::string method;
  std::string target;
  std::string if_none_match;  // several If-None-Match fields are joined with ", "
  int version = 11;           // 10 for HTTP/1.0, 11 for HTTP/1.1
  bool request_line_parsed = false;

  // Empties the strings (keeping their capacity) for the next request.
  void Clear() {
    method.clear();
    target.clear();
    if_none_match.clear();
    version = 11;
    request_line_parsed = false;
  }
};

// Parses one request into a ParsedRequest. Single use, like every Beast
// parser: construct a new one (cheap, no allocation) for each request.
class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  // REQUIRES: `out` outlives the parser; the caller has cleared it.
  explicit RequestParser(ParsedRequest* out) : out_(out) {}

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
    out_->version = version;
    out_->request_line_parsed = true;
  }

  void on_response_impl(int /*code*/, StringView /*reason*/, int /*version*/,
                        ErrorCode& /*ec*/) override {}

  void on_field_impl(Field name, StringView /*name_string*/, StringView value,
                     ErrorCode& /*ec*/) override {
    if (name != Field::if_none_match) return;
    if (!out_->if_none_match.empty()) out_->if_none_match.append(", ");
    out_->if_none_match.append(value.data(), value.size());
  }

  void on_header_impl(ErrorCode& /*ec*/) override {}

  void on_body_init_impl(const boost::optional<std::uint64_t>& /*content_length*/,
                         ErrorCode& /*ec*/) override {}

  std::size_t on_body_impl(StringView body, ErrorCode& /*ec*/) override { return body.size(); }

  void on_chunk_header_impl(std::uint64_t /*size*/, StringView /*extensions*/,
                            ErrorCode& /*ec*/) override {}

  std::size_t on_chunk_body_impl(std::uint64_t /*remain*/, StringView body,
                                 ErrorCode& /*ec*/) override {
    return body.size();
  }

  void on_finish_impl(ErrorCode& /*ec*/) override {}

  ParsedRequest* const out_;
};

}  // namespace tempo::http
