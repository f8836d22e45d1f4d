// Serializing responses by hand into a reused buffer: the status line and
// header block of a handler's Response, and the server's own JSON errors.
//
// Writing the bytes directly (rather than through beast::http::serializer)
// keeps a response to a handful of appends into a string whose capacity the
// connection keeps, so a steady keep-alive stream allocates nothing here.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tempo::http {

// How the connection goes on after a response; decides the Connection header.
enum class Persistence {
  kKeepAlive,        // HTTP/1.1 default: no Connection header
  kKeepAliveHttp10,  // HTTP/1.0 client asked for keep-alive: "Connection: keep-alive"
  kClose,            // "Connection: close", then the server closes
};

// The length of an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
inline constexpr size_t kHttpDateBytes = 29;

// Formats `t` as an IMF-fixdate for the Date header.
std::string FormatHttpDate(std::time_t t);

// True when a response with this status never carries content (1xx, 204,
// 304), so it gets neither a body nor a Content-Length.
bool StatusForbidsBody(int status);

// The request's identifiers echoed on its answer (either may be empty: not sent).
struct RequestIds {
  std::string_view request_id;   // X-Request-Id
  std::string_view traceparent;  // traceparent
};

// Appends "HTTP/1.1 <status> <reason>", Server, Date (`date`, pre-formatted),
// each of `headers` (those the server owns -- Content-Length, Connection,
// Server, Date, Transfer-Encoding, X-Request-Id, traceparent -- and any with
// CR, LF or NUL are dropped), X-Request-Id and traceparent from `ids`,
// Content-Length: `content_length` unless StatusForbidsBody(status), the
// Connection header `persistence` calls for, and the blank line.
// REQUIRES: 100 <= status <= 999.
void AppendResponseHead(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                        size_t content_length, std::string_view date, Persistence persistence,
                        std::string* out, const RequestIds& ids = {});

// Appends a complete error response: `status`, Content-Type: application/json,
// Cache-Control: no-store, `extra_headers`, and the body
// {"error":{"code":...,"message":...}}. Returns the body's size.
size_t AppendErrorResponse(
    int status, std::string_view code, std::string_view message, std::string_view date,
    Persistence persistence, std::string* out,
    const std::vector<std::pair<std::string, std::string>>& extra_headers = {},
    const RequestIds& ids = {});

}  // namespace tempo::http
