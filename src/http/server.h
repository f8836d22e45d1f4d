// An HTTP/1.1 server on Boost.Beast: one io_context per thread, keep-alive,
// bounded connections, header sizes and times, graceful stop.
//
// The server knows nothing about layouts: every parsed request is handed to a
// Handler on the connection's thread. A handler that can answer at once fills
// the Response and returns; one that would have to wait (for a cache load, a
// store) must not hold the thread, since every other connection of that
// thread would wait behind it: it defers the answer instead
// (Request::responder, see Responder), returns at once, and sends the answer
// later from any thread.
//
// Requests are read as RFC 9112 says. On a listener whose routes are all GET
// (max_request_body_bytes 0, the public one) the handler is called as soon as
// a request's head is complete: a body is discarded when it is small and
// announced by Content-Length, and otherwise the connection is closed after
// the answer (a chunked body, one over max_body_bytes, or one behind "Expect:
// 100-continue", whose client then never has to send it). A listener with
// POST routes (the admin one) sets max_request_body_bytes: every body, by
// Content-Length or chunked, is then read whole before the handler is called
// ("100 Continue" sent first when asked for), and one over the limit is 413
// and the connection closed. A Transfer-Encoding
// whose final coding is not chunked, or one next to a Content-Length, is 400
// (a request hidden in such a body is never executed); so is an HTTP/1.1
// request without exactly one Host. Absolute-form targets
// ("http://host/path?q") reach the handler in origin form ("/path?q"), and
// one empty line before a request line is ignored.
//
// With ServerOptions::tls every connection first completes a TLS handshake
// (TLS 1.2 or 1.3, through Boost.Asio's OpenSSL stream; with a client CA,
// mutual TLS) within the header timeout; what follows is the same HTTP.
// ReloadTls re-reads the certificate, key and client CA for new connections.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/tls_options.h"

namespace tempo::http {

class Responder;

// The longest request-target the product accepts (SPEC §11.5: 8192 bytes are
// allowed), and the one message for a longer one, whichever layer finds it.
inline constexpr size_t kMaxUriBytes = 8192;
inline constexpr std::string_view kUriTooLongMessage =
    "The request target is longer than 8192 bytes.";

// A parsed request. Views are valid only during the Handler call.
struct Request {
  std::string_view method;         // "GET", "HEAD", ... as sent
  std::string_view target;         // request-target in origin form: path?query
  std::string_view if_none_match;  // the If-None-Match header, or empty
  // Lets the handler answer later instead of filling the Response now. Set
  // by the server; null where answers must be immediate (direct calls).
  Responder* responder = nullptr;
  // The request's body, when the listener reads bodies
  // (ServerOptions::max_request_body_bytes > 0); empty otherwise.
  std::string_view body = {};
  std::string_view content_type = {};  // the Content-Type header, or empty
  // "X-Tempo-Shadow: 1" was sent: the request is always shadowed (shadow/sender.h).
  bool shadow = false;
  // The request's X-Request-Id (kept from the request, or made by the
  // server: never empty from a server) and its W3C traceparent (empty when
  // none or malformed); both are echoed on the answer.
  std::string_view request_id = {};
  std::string_view traceparent = {};
};

struct Response {
  int status = 200;
  // Extra headers (Content-Type, ETag, ...). Content-Length, Connection and
  // Server are set by the server.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // For 304 and HEAD-like answers: send headers only.
  bool omit_body = false;
  // For access logs and metrics (ServerOptions::on_complete), not sent: the
  // tenant the answer is about, when the handler knows one.
  std::string tenant;
};

// An answer that a handler deferred (Responder::Defer). Send may be called
// from any thread, once; the server owns what happens after.
class PendingResponse {
 public:
  virtual ~PendingResponse() = default;
  // Sends `response` as the request's answer. False (and `response` is
  // dropped) when the server has answered already: the deferral's deadline
  // passed and its fallback went out, or the connection is gone.
  virtual bool Send(Response response) = 0;
  // Reserves the answer for this sender before it is sent: true when the
  // server has not answered, and then the next Send cannot be refused for
  // the deadline. For work that must happen before the client can see the
  // answer (counting it), but only if this answer is the one sent. Send
  // must follow soon (the deadline's fallback waits at most a second).
  virtual bool Claim() = 0;
};

// Given to the handler with each request (Request::responder).
class Responder {
 public:
  // Defers the answer: the handler returns without filling its Response and
  // sends the answer later through the returned handle. Meanwhile the
  // connection waits (its later pipelined requests too) while the thread
  // serves other connections. If no answer is sent by `deadline`, the server
  // sends `fallback` itself (counted in ServerStats::fallbacks) and drops the
  // late answer. At most once per request.
  virtual std::shared_ptr<PendingResponse> Defer(std::chrono::steady_clock::time_point deadline,
                                                 Response fallback) = 0;

 protected:
  ~Responder() = default;
};

using Handler = std::function<void(const Request&, Response*)>;

// An answered request, as ServerOptions::on_complete sees it. Views are
// valid only during the call.
struct CompletedRequest {
  std::string_view request_id;      // as on Request (made by the server for its own answers too)
  std::string_view traceparent;     // as on Request
  std::string_view client;          // the peer, "IP:PORT" ("[IPv6]:PORT")
  std::string_view method, target;  // empty when the request line did not parse
  int status = 0;
  uint64_t body_bytes = 0;  // content bytes sent (0 for HEAD, 304)
  // From the request's head complete to its answer ready to write: the
  // handler's work and any deferred wait, not the network.
  std::chrono::nanoseconds duration{0};
  // When the head was complete: ns since the Unix epoch (to the sweep's
  // precision of the clocks' offset, well under a millisecond).
  int64_t started_at = 0;
  // The handler's answer (its headers, say X-Tempo-Cache, and Response::tenant);
  // null for an answer the server gave itself (400, 413, 431, 500 or a fallback).
  const Response* response = nullptr;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;                    // 0 = pick a free port (see Server::port())
  int threads = 0;                      // 0 = one per CPU available (common/cpus.h)
  size_t max_header_bytes = 64 * 1024;  // above this: 431-style JSON error, connection closed
  // A request body (never read: every route is GET) announced by a
  // Content-Length up to this is discarded and the connection kept; a larger
  // or chunked one is not read, and the connection closes after the answer.
  // Applies when max_request_body_bytes is 0.
  size_t max_body_bytes = 64 * 1024;
  // When not 0, every request's body (Content-Length or chunked) is read
  // before the handler is called and passed in Request::body; one larger
  // than this is answered 413 (JSON error) by the server and the connection
  // closed, without reading it. "Expect: 100-continue" is honoured. For
  // listeners with POST routes (the admin listener); the public one leaves 0.
  size_t max_request_body_bytes = 0;
  // Keep-alive connections idle (no byte of a next request) longer are closed.
  int idle_timeout_ms = 60'000;
  // A request must be complete this long after its first byte arrived, or
  // the connection is closed (a slow client holds no descriptor for long).
  int header_timeout_ms = 10'000;
  // Open connections, over all threads; a connection accepted beyond it is
  // closed at once (counted in ServerStats::connections_rejected), so a
  // flood cannot take the descriptors other listeners, the store and L2
  // need. 0 = no limit.
  int max_connections = 10'000;
  // Headers added to every answer the server gives itself (its 400, 413,
  // 431 and 500; a handler's answers carry the handler's own), such as a
  // grouped instance's X-Tempo-Tenant-Group.
  std::vector<std::pair<std::string, std::string>> extra_headers;
  // With a certificate, the listener speaks TLS (1.2 and 1.3 only): each
  // connection's handshake must complete within header_timeout_ms, and one
  // that fails (a client without a certificate the client CA signed, plain
  // HTTP, an old protocol) is closed and counted. Default: plain HTTP.
  TlsFiles tls;  // Called once per answered request (the handler's answers, the server's
  // own and fallbacks), on the connection's thread, as its answer is queued:
  // for the access log and request metrics. It must be quick and never
  // block. Null: nothing is timed.
  std::function<void(const CompletedRequest&)> on_complete;
};

// Counters since Start.
struct ServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // over max_connections
  uint64_t accept_failures = 0;       // accept() errors, such as running out of descriptors
  int64_t connections_open = 0;
  uint64_t fallbacks = 0;  // deferrals whose deadline passed (their fallback was sent)
  // Answers the handler did not give, by status: the server's own (400
  // malformed, 431 header too large, 500 the handler failed) and fallbacks.
  std::map<int, uint64_t> own_responses;
  // TLS listeners: handshakes completed, and those that failed or timed out
  // (wrong or no client certificate, plain HTTP, a client that never spoke).
  uint64_t tls_handshakes = 0;
  uint64_t tls_handshake_failures = 0;
  // Connections closed by the server's timeouts: a request not complete in
  // header_timeout_ms (a slow or stalled client) and keep-alive connections
  // idle past idle_timeout_ms.
  uint64_t header_timeouts = 0;
  uint64_t idle_timeouts = 0;
  // Connections that ended in a read or write error (reset by the peer,
  // broken pipe), mid-request or mid-answer; a clean close between requests
  // is not counted.
  uint64_t connection_errors = 0;
};

class Server {
 public:
  // Binds and listens; returns an error when the address cannot be bound.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options, Handler handler);
  virtual ~Server() = default;

  // The bound port (useful with port 0).
  virtual uint16_t port() const = 0;
  // Stops accepting, lets in-flight requests finish, closes connections.
  // Idempotent; safe from any thread (including a signal-watching one).
  virtual void Stop() = 0;
  // Blocks until Stop() has completed.
  virtual void Wait() = 0;
  // Thread-safe.
  virtual ServerStats Stats() const = 0;
  // Re-reads the TLS certificate, key and client CA files: connections
  // accepted afterwards use them, open ones go on with what they have. On a
  // bad file the old ones stay and the error (InvalidArgument, naming the
  // file) is returned. OK and nothing done on a plain-HTTP listener.
  // Thread-safe (a signal-watching thread may call it).
  virtual Status ReloadTls() = 0;
};

}  // namespace tempo::http
