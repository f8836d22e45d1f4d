// An HTTP/1.1 server on Boost.Beast: one io_context per thread, keep-alive,
// bounded header and body sizes, graceful stop.
//
// The server knows nothing about layouts: every parsed request is handed to a
// Handler, which fills a Response synchronously on the connection's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace tempo::http {

// A parsed request. Views are valid only during the Handler call.
struct Request {
  std::string_view method;         // "GET", "HEAD", ... as sent
  std::string_view target;         // request-target as sent: path?query
  std::string_view if_none_match;  // the If-None-Match header, or empty
};

struct Response {
  int status = 200;
  // Extra headers (Content-Type, ETag, ...). Content-Length, Connection and
  // Server are set by the server.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // For 304 and HEAD-like answers: send headers only.
  bool omit_body = false;
};

using Handler = std::function<void(const Request&, Response*)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;                   // 0 = pick a free port (see Server::port())
  int threads = 0;                     // 0 = one per core
  size_t max_header_bytes = 64 * 1024;  // above this: 431-style JSON error, connection closed
  size_t max_body_bytes = 64 * 1024;    // GET bodies are ignored but bounded
  int idle_timeout_ms = 60'000;         // keep-alive connections idle longer are closed
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
};

}  // namespace tempo::http
