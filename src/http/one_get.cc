// OneGet: a bounded GET on a private io_context.
#include "http/one_get.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <utility>
#include <vector>

namespace tempo::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

OneGet::OneGet(HostPort address, std::string path, std::string tls_name, Clock::time_point deadline,
               std::string user_agent, OneGetLimits limits)
    : address_(std::move(address)),
      path_(std::move(path)),
      tls_name_(std::move(tls_name)),
      deadline_(deadline),
      user_agent_(std::move(user_agent)),
      limits_(limits) {}

std::optional<OneGet::Answer> OneGet::Get(asio::ssl::context* tls, std::string* error) {
  std::vector<tcp::endpoint> endpoints;
  boost::system::error_code not_address;
  const asio::ip::address ip = asio::ip::make_address(address_.host, not_address);
  if (!not_address) {
    endpoints.emplace_back(ip, address_.port);
  } else if (resolving_ = true; !Step("resolving " + address_.host, error, [&](auto done) {
               resolver_.async_resolve(
                   address_.host, std::to_string(address_.port),
                   [&endpoints, done](const boost::system::error_code& ec,
                                      const tcp::resolver::results_type& results) {
                     endpoints.assign(results.begin(), results.end());
                     done(ec);
                   });
             })) {
    return std::nullopt;
  }
  resolving_ = false;
  beast::tcp_stream* tcp_layer;
  if (tls != nullptr) {
    tls_stream_.emplace(io_, *tls);
    tcp_layer = &beast::get_lowest_layer(*tls_stream_);
  } else {
    plain_stream_.emplace(io_);
    tcp_layer = &*plain_stream_;
  }
  if (!Step("connecting", error, [&](auto done) {
        tcp_layer->async_connect(endpoints, [done](const boost::system::error_code& ec,
                                                   const tcp::endpoint&) { done(ec); });
      })) {
    return std::nullopt;
  }
  if (tls_stream_) {
    if (!ExpectName(error)) return std::nullopt;
    if (!Step("TLS handshake", error, [&](auto done) {
          tls_stream_->async_handshake(asio::ssl::stream_base::client, done);
        })) {
      return std::nullopt;
    }
  }

  bhttp::request<bhttp::empty_body> request(bhttp::verb::get, path_, 11);
  const bool v6 = address_.host.find(':') != std::string::npos;
  request.set(bhttp::field::host, (v6 ? "[" + address_.host + "]" : address_.host) + ":" +
                                      std::to_string(address_.port));
  request.set(bhttp::field::user_agent, user_agent_);
  request.set(bhttp::field::connection, "close");
  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(limits_.max_header_bytes);
  parser.body_limit(limits_.max_body_bytes);
  beast::flat_buffer buffer;
  const auto io_done = [](auto done) {
    return [done](const boost::system::error_code& ec, size_t) { done(ec); };
  };
  if (!Step("sending the request", error, [&](auto done) {
        if (tls_stream_) {
          bhttp::async_write(*tls_stream_, request, io_done(done));
        } else {
          bhttp::async_write(*plain_stream_, request, io_done(done));
        }
      })) {
    return std::nullopt;
  }
  if (!Step("reading the answer", error, [&](auto done) {
        if (tls_stream_) {
          bhttp::async_read(*tls_stream_, buffer, parser, io_done(done));
        } else {
          bhttp::async_read(*plain_stream_, buffer, parser, io_done(done));
        }
      })) {
    return std::nullopt;
  }
  return parser.release();
}

// Starts one operation through `start(done)` and runs the io_context until
// `done(ec)` is called or the deadline passes. False with *error set when
// the operation failed or ran out of time.
template <typename Start>
bool OneGet::Step(const std::string& what, std::string* error, const Start& start) {
  std::optional<boost::system::error_code> result;
  start([&result](const boost::system::error_code& ec) { result = ec; });
  io_.restart();
  io_.run_until(deadline_);
  if (!result) {
    // The pending operation is never resumed; only a resolution's can block
    // the destructor (see timed_out()).
    timed_out_ = resolving_;
    *error = what + ": no answer within the time-out";
    return false;
  }
  if (*result) {
    *error = what + ": " + result->message();
    return false;
  }
  return true;
}

// Makes the handshake check that the certificate names the listener (or
// the name given): its IP address or DNS name; sends SNI for a name.
bool OneGet::ExpectName(std::string* error) {
  SSL* ssl = tls_stream_->native_handle();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  boost::system::error_code not_address;
  (void)asio::ip::make_address(tls_name_, not_address);  // only the error matters
  const bool named = !not_address ? X509_VERIFY_PARAM_set1_ip_asc(param, tls_name_.c_str()) == 1
                                  : (SSL_set_tlsext_host_name(ssl, tls_name_.c_str()) == 1 &&
                                     X509_VERIFY_PARAM_set1_host(param, tls_name_.c_str(), 0) == 1);
  if (!named) *error = "TLS: cannot expect the name " + tls_name_;
  return named;
}

}  // namespace tempo::http
