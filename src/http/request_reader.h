// Reading requests from received bytes: the limits the server puts on each
// request's parser, the steps that feed it, and the error answer a request
// that fails to parse gets. http::Connection reads every request through
// these functions, and request_reader_fuzz.cc runs them on arbitrary bytes,
// so the fuzz target exercises exactly the parsing the server runs.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "http/request_parser.h"

namespace tempo::http {

struct ServerOptions;

// What bounds one request's parse (from ServerOptions).
struct RequestLimits {
  // The head (request line and fields) may be at most this long.
  size_t max_header_bytes = 0;
  // When not 0, the body is kept (ParsedRequest::keep_body) and may be at
  // most this long; when 0, it is never buffered and not bounded here.
  size_t max_request_body_bytes = 0;
};

// The limits of a server with `options`.
RequestLimits LimitsOf(const ServerOptions& options);

// How far a parse step got: the part asked for is complete, the bytes ran
// out first (call again when more arrive), or the request is malformed or
// over a limit (the error code says which).
enum class ParseOutcome { kComplete, kNeedMore, kError };

// Starts the next request: clears *request and makes *parser a fresh parser
// into it, bounded by `limits`.
void StartRequest(const RequestLimits& limits, ParsedRequest* request,
                  std::optional<RequestParser>* parser);

// Parses the head of the request from *in, consuming the bytes it parsed.
// One empty line before the request line is skipped (RFC 9112 §2.2),
// whenever it arrives; *empty_line_skipped, false at the start of each
// request, records that it was. On kError, *ec says why.
ParseOutcome ParseRequestHead(RequestParser* parser, bool* empty_line_skipped,
                              boost::beast::flat_buffer* in, boost::system::error_code* ec);

// Parses the rest of the request (its body: kept or discarded as
// StartRequest set) from *in, consuming the bytes it parsed. REQUIRES: the
// head is complete.
ParseOutcome ParseRequestBody(RequestParser* parser, boost::beast::flat_buffer* in,
                              boost::system::error_code* ec);

// The answer the server gives, and then closes the connection, to a
// request whose parse failed with `ec`.
struct ParseErrorAnswer {
  int status = 400;       // 400, 413 or 431
  std::string_view code;  // the JSON error's code: "bad_request", "uri_too_long", ...
  std::string message;
};

// `request` is what the parse filled in; `unparsed` the bytes it left in
// the buffer (from them, the length of a request-target too long for the
// head's limit is estimated when the request line did not complete).
ParseErrorAnswer ParseErrorAnswerFor(const boost::system::error_code& ec,
                                     const ParsedRequest& request, std::string_view unparsed,
                                     const RequestLimits& limits);

}  // namespace tempo::http
