// PostClient: POSTs bodies to one URL over one keep-alive HTTP/1.1
// connection, plain or TLS -- the shadow sender's transport (sender.h).
//
// Blocking, one post at a time, for one thread: each Post runs its
// operations on a private io_context until they complete, every one of them
// (resolve, connect, TLS handshake, write, read) bounded by the time-out, so
// a hung or vanished receiver costs a sender thread at most that long. A
// failed post closes the connection; the next one reconnects.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tempo::shadow {

// Where posts go: http(s)://HOST:PORT[/path].
struct PostUrl {
  bool tls = false;
  std::string host;  // a name or an address (an IPv6 one without brackets)
  uint16_t port = 0;
  std::string path;  // origin form, starts with '/'
};

// The path a URL without one posts to.
inline constexpr std::string_view kDefaultShadowPath = "/internal/shadow";

// Parses "http://HOST:PORT[/path]" or "https://HOST:PORT[/path]" (the scheme
// in lower case, the port required, an IPv6 host in brackets). A missing or
// bare "/" path means kDefaultShadowPath. InvalidArgument saying what is
// wrong for anything else: another scheme, user info, a query or fragment, a
// path with spaces or control characters, a bad host or port.
Result<PostUrl> ParsePostUrl(std::string_view url);

struct PostClientOptions {
  PostUrl url;
  // Bounds each operation of a post: resolving and connecting (with the TLS
  // handshake) together, then sending and reading the answer together.
  std::chrono::milliseconds timeout{200};
  // TLS only. The server's certificate is verified against the system's
  // default CA paths plus `ca_file` (PEM), when not empty, and must name the
  // URL's host (DNS name or IP address); SNI is sent for names.
  std::string ca_file;
  // TLS only, both or neither: a client certificate chain and its private
  // key (PEM), for a receiver behind a proxy that requires mutual TLS.
  std::string cert_file;
  std::string key_file;
  // An answer longer than this fails the post (kind "response").
  size_t max_response_bytes = 1 << 20;
};

// How a post ended.
struct PostOutcome {
  // Empty when the receiver answered 202; otherwise why not:
  //   "connect"    the host could not be resolved or refused the connection
  //   "timeout"    an operation ran past the time-out
  //   "tls"        the TLS handshake failed (an untrusted or wrong certificate)
  //   "io"         the connection broke while sending or reading
  //   "response"   the answer was not HTTP, or too long
  //   "status:NNN" the receiver answered another status
  std::string failure;
  // A failure's details, for logs.
  std::string message;
  // The receiver's counts from a 202's JSON body, when it held them.
  std::optional<uint64_t> accepted, rejected, dropped;

  bool ok() const { return failure.empty(); }
};

class PostClient {
 public:
  // Builds the TLS context (for https): InvalidArgument when `ca_file`,
  // `cert_file` or `key_file` cannot be loaded or only one of the last two
  // is given. Connects lazily, on the first Post.
  static Result<std::unique_ptr<PostClient>> Create(PostClientOptions options);
  virtual ~PostClient() = default;

  // Sends `body` with `content_type` and reads the answer, reconnecting
  // first if the connection is closed. A kept-alive connection that turns
  // out to have been closed by the server before any byte of the answer
  // arrived is retried once on a fresh connection. Bounded by twice the
  // time-out per connection attempt, and never past `deadline`.
  virtual PostOutcome Post(std::string_view body, std::string_view content_type,
                           std::chrono::steady_clock::time_point deadline) = 0;

  // Closes the connection (the next Post reconnects).
  virtual void Close() = 0;
};

}  // namespace tempo::shadow
