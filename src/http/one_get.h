// OneGet: one HTTP/1.1 GET on one connection, plain or TLS, every step
// (resolving, connecting, the TLS handshake, the request, the answer)
// bounded by one deadline -- for `tempo probe` and `tempo serve --warm-from`.
//
// Blocking, for one thread: each step runs on a private io_context until it
// completes or the deadline passes.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/host_port.h"

namespace tempo::http {

struct OneGetLimits {
  // The longest answer head read.
  uint32_t max_header_bytes = 16 * 1024;
  // The longest answer body read; a longer one fails the GET.
  uint64_t max_body_bytes = 64 * 1024;
};

class OneGet final {
 public:
  using Clock = std::chrono::steady_clock;
  using Answer = boost::beast::http::response<boost::beast::http::string_body>;

  // A GET of `path` (origin form) from `address`; with TLS, the listener's
  // certificate must name `tls_name` (an IP address or a DNS name).
  OneGet(HostPort address, std::string path, std::string tls_name, Clock::time_point deadline,
         std::string user_agent, OneGetLimits limits = {});
  OneGet(const OneGet&) = delete;
  OneGet& operator=(const OneGet&) = delete;

  // True when resolving the host name ran out of time. Its operation is
  // still pending then: destroying the OneGet would wait for a resolver
  // thread stuck in getaddrinfo(), which cannot be interrupted, so the caller
  // may leave it undestroyed (it is small) rather than wait past its
  // deadline. Any other step that runs out of time leaves nothing that
  // blocks: destroying the OneGet then cancels it.
  bool timed_out() const { return timed_out_; }

  // Runs the GET over plain TCP (tls == null) or TLS with the context
  // given; the answer, or nullopt and why there is none in *error ("what
  // step: why"). REQUIRES: called once.
  std::optional<Answer> Get(boost::asio::ssl::context* tls, std::string* error);

 private:
  template <typename Start>
  bool Step(const std::string& what, std::string* error, const Start& start);
  bool ExpectName(std::string* error);

  const HostPort address_;
  const std::string path_;
  const std::string tls_name_;
  const Clock::time_point deadline_;
  const std::string user_agent_;
  const OneGetLimits limits_;
  boost::asio::io_context io_{1};  // declared first: destroyed after the streams
  boost::asio::ip::tcp::resolver resolver_{io_};
  bool timed_out_ = false;
  bool resolving_ = false;  // the step under way resolves the host name
  std::optional<boost::beast::tcp_stream> plain_stream_;
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_stream_;
};

}  // namespace tempo::http
