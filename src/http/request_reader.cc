// The server's request parsing steps, and its answers to requests that fail.
#include "http/request_reader.h"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <cstdint>

#include "http/server.h"

namespace tempo::http {
namespace {

namespace beast = boost::beast;
using boost::system::error_code;

// The longest "HTTP/1.1" plus the spaces around it, for the target estimate.
constexpr size_t kRequestLineOverheadBytes = 11;

}  // namespace

RequestLimits LimitsOf(const ServerOptions& options) {
  return {options.max_header_bytes, options.max_request_body_bytes};
}

void StartRequest(const RequestLimits& limits, ParsedRequest* request,
                  std::optional<RequestParser>* parser) {
  request->Clear();
  parser->emplace(request, limits.max_header_bytes);
  (*parser)->header_limit(
      static_cast<uint32_t>(std::min<size_t>(limits.max_header_bytes, UINT32_MAX)));
  if (limits.max_request_body_bytes > 0) {
    // Bodies are read before the handler is called, up to the limit (a
    // larger Content-Length fails the head at once: 413, nothing read).
    request->keep_body = true;
    (*parser)->LimitBody(limits.max_request_body_bytes);
  } else {
    // Bodies are never buffered; the connection decides which are read at all.
    (*parser)->body_limit(boost::none);
  }
}

ParseOutcome ParseRequestHead(RequestParser* parser, bool* empty_line_skipped,
                              beast::flat_buffer* in, error_code* ec) {
  // RFC 9112 §2.2: one empty line before the request-line is ignored (a
  // client may send one after a body), whenever it arrives.
  if (!parser->got_some() && !*empty_line_skipped && in->size() > 0) {
    const auto data = in->cdata();
    const std::string_view bytes(static_cast<const char*>(data.data()), data.size());
    if (bytes == "\r") return ParseOutcome::kNeedMore;
    if (bytes.starts_with("\r\n") || bytes.starts_with("\n")) {
      in->consume(bytes[0] == '\r' ? 2 : 1);
      *empty_line_skipped = true;
    }
  }
  parser->eager(false);  // stop at the end of the head
  while (!parser->is_header_done()) {
    if (in->size() == 0) return ParseOutcome::kNeedMore;
    // Never more than the head may still have: a head that has not ended
    // within them is over the limit, however its bytes arrived.
    const size_t offered = std::min(in->size(), parser->head_bytes_left());
    const size_t used = parser->put(boost::asio::buffer(in->data().data(), offered), *ec);
    in->consume(used);
    parser->ConsumeHeadBytes(used);
    if (*ec == beast::http::error::need_more || (!*ec && used == 0)) {
      ec->clear();
      if (offered < parser->head_bytes_left() + used) return ParseOutcome::kNeedMore;
      *ec = beast::http::error::header_limit;
    }
    if (*ec) return ParseOutcome::kError;
  }
  return ParseOutcome::kComplete;
}

ParseOutcome ParseRequestBody(RequestParser* parser, beast::flat_buffer* in, error_code* ec) {
  parser->eager(true);
  while (!parser->is_done()) {
    if (in->size() == 0) return ParseOutcome::kNeedMore;
    const size_t used = parser->put(in->data(), *ec);
    in->consume(used);
    if (*ec == beast::http::error::need_more) {
      ec->clear();
      return ParseOutcome::kNeedMore;
    }
    if (*ec) return ParseOutcome::kError;
    if (used == 0) return ParseOutcome::kNeedMore;
  }
  return ParseOutcome::kComplete;
}

ParseErrorAnswer ParseErrorAnswerFor(const error_code& ec, const ParsedRequest& request,
                                     std::string_view unparsed, const RequestLimits& limits) {
  if (ec == beast::http::error::header_limit) {
    // Estimate the request-target's length: parsed if the request line was
    // complete, else at least what follows the method in the unparsed line.
    size_t target_bytes = request.target.size();
    if (!request.request_line_parsed) {
      const std::string_view line = unparsed.substr(0, limits.max_header_bytes);
      const size_t space = line.find(' ');
      const size_t after_method = space == std::string_view::npos ? 0 : space + 1;
      target_bytes = line.size() > after_method + kRequestLineOverheadBytes
                         ? line.size() - after_method - kRequestLineOverheadBytes
                         : 0;
    }
    if (target_bytes > kMaxUriBytes) {
      return {400, "uri_too_long", std::string(kUriTooLongMessage)};
    }
    return {431, "header_too_large", "the request header is over the size limit"};
  }
  if (ec == beast::http::error::body_limit) {
    return {413, "payload_too_large",
            "the request body is larger than " + std::to_string(limits.max_request_body_bytes) +
                " bytes"};
  }
  return {400, "bad_request",
          request.refusal.empty() ? std::string("malformed HTTP request")
                                  : "malformed HTTP request: " + std::string(request.refusal)};
}

}  // namespace tempo::http
