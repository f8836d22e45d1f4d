// PostClient on Boost.Beast: a tcp_stream (or an ssl_stream over one) whose
// operations run on a private io_context until they complete, each armed
// with the stream's own expiry so that none outlives the time-out.
#include "shadow/post_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>
#include <utility>

#include "common/host_port.h"

namespace tempo::shadow {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Bounds what a receiver's answer may make us buffer besides its body.
constexpr uint32_t kMaxResponseHeaderBytes = 16 * 1024;

// Bytes a path may hold: visible ASCII, no '?' or '#' (no query or fragment).
bool IsPathByte(char c) { return c > 0x20 && c < 0x7f && c != '?' && c != '#'; }

// The start of a receiver's answer, fit for one log line.
std::string OneLine(std::string_view text) {
  constexpr size_t kMaxBytes = 200;
  std::string out(text.substr(0, kMaxBytes));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

PostOutcome Failure(std::string kind, std::string message) {
  PostOutcome out;
  out.failure = std::move(kind);
  out.message = std::move(message);
  return out;
}

// Reads {"accepted":N,"rejected":M,"dropped":D} (any of them, other members
// ignored) from a 202's body; leaves the counts empty when it is not JSON.
void ParseCounts(std::string_view body, PostOutcome* out) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS) return;
  const auto read = [&](const char* key, std::optional<uint64_t>* to) {
    uint64_t v;
    if (doc[key].get_uint64().get(v) == simdjson::SUCCESS) *to = v;
  };
  read("accepted", &out->accepted);
  read("rejected", &out->rejected);
  read("dropped", &out->dropped);
}

class PostClientImpl final : public PostClient {
 public:
  PostClientImpl(PostClientOptions options, std::optional<asio::ssl::context> tls)
      : options_(std::move(options)), tls_context_(std::move(tls)) {
    const PostUrl& url = options_.url;
    const bool v6 = url.host.find(':') != std::string::npos;
    const std::string authority =
        (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
    head_prefix_ = "POST " + url.path + " HTTP/1.1\r\nHost: " + authority +
                   "\r\nUser-Agent: tempo-shadow\r\nContent-Type: ";
    boost::system::error_code ec;
    host_is_address_ = (asio::ip::make_address(url.host, ec), !ec);
  }

  ~PostClientImpl() override { Close(); }

  PostOutcome Post(std::string_view body, std::string_view content_type,
                   Clock::time_point deadline) override {
    std::string head = head_prefix_;
    head.append(content_type);
    head.append("\r\nContent-Length: ");
    head.append(std::to_string(body.size()));
    head.append("\r\n\r\n");

    PostOutcome out = Exchange(head, body, deadline);
    // A kept-alive connection the server closed while it idled fails before
    // any byte of an answer: the post never reached it, so sending it again
    // cannot count it twice.
    if (!out.ok() && retryable_) out = Exchange(head, body, deadline);
    return out;
  }

  void Close() override {
    boost::system::error_code ignored;
    if (tls_stream_) beast::get_lowest_layer(*tls_stream_).socket().close(ignored);
    if (plain_stream_) plain_stream_->socket().close(ignored);
    tls_stream_.reset();
    plain_stream_.reset();
    buffer_.clear();
    connected_ = false;
  }

 private:
  // One attempt: connects if needed, sends, reads the answer. Sets
  // retryable_ when it failed on a reused connection before the answer began.
  PostOutcome Exchange(const std::string& head, std::string_view body, Clock::time_point deadline) {
    retryable_ = false;
    if (!connected_) {
      PostOutcome connect = Connect(Bound(deadline));
      if (!connect.ok()) return connect;
    }
    const bool reused = connected_ && exchanges_ > 0;
    ++exchanges_;
    const Clock::time_point until = Bound(deadline);
    if (Clock::now() >= until) {
      Close();
      return Failure("timeout", "no time left before the deadline");
    }
    const std::array<asio::const_buffer, 2> buffers = {asio::buffer(head), asio::buffer(body)};
    beast::error_code ec = Run([&](auto handler) {
      if (tls_stream_) {
        beast::get_lowest_layer(*tls_stream_).expires_at(until);
        asio::async_write(*tls_stream_, buffers, std::move(handler));
      } else {
        plain_stream_->expires_at(until);
        asio::async_write(*plain_stream_, buffers, std::move(handler));
      }
    });
    if (ec) {
      Close();
      retryable_ = reused && ec != beast::error::timeout;
      return IoFailure(ec, "sending the post");
    }

    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(kMaxResponseHeaderBytes);
    parser.body_limit(options_.max_response_bytes);
    ec = Run([&](auto handler) {
      if (tls_stream_) {
        beast::get_lowest_layer(*tls_stream_).expires_at(until);
        bhttp::async_read(*tls_stream_, buffer_, parser, std::move(handler));
      } else {
        plain_stream_->expires_at(until);
        bhttp::async_read(*plain_stream_, buffer_, parser, std::move(handler));
      }
    });
    if (ec) {
      const bool nothing_read = !parser.got_some();
      Close();
      retryable_ = reused && nothing_read && ec != beast::error::timeout;
      if (ec.category() == bhttp::make_error_code(bhttp::error::need_more).category() &&
          ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        return Failure("response", "reading the answer: " + ec.message());
      }
      return IoFailure(ec, "reading the answer");
    }
    const auto& response = parser.get();
    if (!response.keep_alive()) Close();
    const int status = static_cast<int>(response.result_int());
    if (status != 202) {
      return Failure("status:" + std::to_string(status),
                     "answered " + std::to_string(status) + ": " + OneLine(response.body()));
    }
    PostOutcome out;
    ParseCounts(response.body(), &out);
    return out;
  }

  // Resolves, connects and, for https, shakes hands, all before `until`.
  PostOutcome Connect(Clock::time_point until) {
    Close();
    exchanges_ = 0;
    const PostUrl& url = options_.url;
    tcp::resolver::results_type endpoints;
    boost::system::error_code ec;
    if (host_is_address_) {
      endpoints = tcp::resolver::results_type::create(
          tcp::endpoint(asio::ip::make_address(url.host, ec), url.port), url.host,
          std::to_string(url.port));
    } else {
      tcp::resolver resolver(io_);
      asio::steady_timer timer(io_, until);
      bool timed_out = false;
      timer.async_wait([&](const boost::system::error_code& e) {
        if (!e) {
          timed_out = true;
          resolver.cancel();
        }
      });
      resolver.async_resolve(
          url.host, std::to_string(url.port),
          [&](const boost::system::error_code& e, tcp::resolver::results_type results) {
            ec = e;
            endpoints = std::move(results);
            timer.cancel();
          });
      io_.restart();
      io_.run();
      if (timed_out) return Failure("timeout", "resolving " + url.host);
      if (ec) return Failure("connect", "resolving " + url.host + ": " + ec.message());
    }

    beast::tcp_stream* tcp_layer;
    if (tls_context_) {
      tls_stream_.emplace(io_, *tls_context_);
      tcp_layer = &beast::get_lowest_layer(*tls_stream_);
    } else {
      plain_stream_.emplace(io_);
      tcp_layer = &*plain_stream_;
    }
    tcp_layer->expires_at(until);
    ec = Run([&](auto handler) { tcp_layer->async_connect(endpoints, std::move(handler)); });
    if (ec) {
      Close();
      if (ec == beast::error::timeout) return Failure("timeout", "connecting");
      return Failure("connect", "connecting: " + ec.message());
    }
    beast::error_code nodelay_ec;
    tcp_layer->socket().set_option(tcp::no_delay(true), nodelay_ec);

    if (tls_stream_) {
      SSL* ssl = tls_stream_->native_handle();
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const bool named = host_is_address_
                             ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str()) == 1
                             : (SSL_set_tlsext_host_name(ssl, url.host.c_str()) == 1 &&
                                X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0) == 1);
      if (!named) {
        Close();
        return Failure("tls", "cannot set the expected host " + url.host);
      }
      tcp_layer->expires_at(until);
      ec = Run([&](auto handler) {
        tls_stream_->async_handshake(asio::ssl::stream_base::client, std::move(handler));
      });
      if (ec) {
        Close();
        if (ec == beast::error::timeout) return Failure("timeout", "TLS handshake");
        return Failure("tls", "TLS handshake: " + ec.message());
      }
    }
    connected_ = true;
    return PostOutcome();
  }

  // Starts one asynchronous operation through `start(handler)` and runs the
  // io_context until it (and the stream's expiry timer) completed.
  template <typename Start>
  beast::error_code Run(const Start& start) {
    beast::error_code result = asio::error::would_block;
    start([&result](const beast::error_code& ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run();
    return result;
  }

  PostOutcome IoFailure(const beast::error_code& ec, const std::string& what) {
    if (ec == beast::error::timeout) return Failure("timeout", what);
    return Failure("io", what + ": " + ec.message());
  }

  Clock::time_point Bound(Clock::time_point deadline) const {
    return std::min(deadline, Clock::now() + options_.timeout);
  }

  const PostClientOptions options_;
  std::optional<asio::ssl::context> tls_context_;  // https only
  std::string head_prefix_;                        // the request head up to the Content-Type value
  bool host_is_address_ = false;

  asio::io_context io_{1};
  std::optional<beast::tcp_stream> plain_stream_;                   // http
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;  // https
  beast::flat_buffer buffer_;  // bytes read past the last answer
  bool connected_ = false;
  uint64_t exchanges_ = 0;  // posts sent on the current connection
  bool retryable_ = false;  // the last Exchange may be retried on a new connection
};

}  // namespace

Result<PostUrl> ParsePostUrl(std::string_view url) {
  PostUrl out;
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    out.tls = true;
    rest.remove_prefix(8);
  } else {
    return Status::InvalidArgument("shadow URL \"" + std::string(url) +
                                   "\": expected http://HOST:PORT or https://HOST:PORT");
  }
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return Status::InvalidArgument("shadow URL \"" + std::string(url) +
                                   "\": user information is not supported");
  }
  Result<HostPort> host_port = ParseHostPort(authority, /*min_port=*/1);
  if (!host_port.ok()) {
    return Status::InvalidArgument("shadow URL \"" + std::string(url) +
                                   "\": " + host_port.status().message());
  }
  if (!std::all_of(path.begin(), path.end(), IsPathByte)) {
    return Status::InvalidArgument(
        "shadow URL \"" + std::string(url) +
        "\": the path may hold no query, fragment, space or control character");
  }
  out.host = std::move(host_port->host);
  out.port = host_port->port;
  out.path = path.empty() || path == "/" ? std::string(kDefaultShadowPath) : std::string(path);
  return out;
}

Result<std::unique_ptr<PostClient>> PostClient::Create(PostClientOptions options) {
  if (options.timeout.count() <= 0) return Status::InvalidArgument("the time-out must be > 0");
  std::optional<asio::ssl::context> tls;
  if (options.url.tls) {
    if (options.cert_file.empty() != options.key_file.empty()) {
      return Status::InvalidArgument(
          "a client certificate needs both a certificate and a key file");
    }
    tls.emplace(asio::ssl::context::tls_client);
    boost::system::error_code ec;
    tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1,
                     ec);
    tls->set_default_verify_paths(ec);
    if (ec) return Status::InvalidArgument("the system's CA paths: " + ec.message());
    if (!options.ca_file.empty() && tls->load_verify_file(options.ca_file, ec)) {
      return Status::InvalidArgument("CA file " + options.ca_file + ": " + ec.message());
    }
    if (!options.cert_file.empty()) {
      if (tls->use_certificate_chain_file(options.cert_file, ec)) {
        return Status::InvalidArgument("certificate file " + options.cert_file + ": " +
                                       ec.message());
      }
      if (tls->use_private_key_file(options.key_file, asio::ssl::context::pem, ec)) {
        return Status::InvalidArgument("key file " + options.key_file + ": " + ec.message());
      }
    }
    tls->set_verify_mode(asio::ssl::verify_peer, ec);
  }
  return std::unique_ptr<PostClient>(new PostClientImpl(std::move(options), std::move(tls)));
}

}  // namespace tempo::shadow
