// `tempo probe ready|live`: one GET of /readyz or /livez on an admin
// listener, for container exec probes and scripts (docs/deploy.md).
//
// Exit codes: 0 when the listener answered 200; 1 for any other answer or
// when it could not be reached in time (one line on stderr says which); 2
// for a usage error. The whole probe (resolving, connecting, the TLS
// handshake, the request and the answer) is bounded by --timeout-ms: each
// step runs on a private io_context only until the probe's deadline.
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "common/host_port.h"

namespace tempo::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr int kExitUsage = 2;
constexpr int kExitNotOk = 1;

// What an admin listener may make the probe read: /readyz's longest answer
// is a JSON error with one reason.
constexpr uint32_t kMaxHeaderBytes = 16 * 1024;
constexpr uint64_t kMaxBodyBytes = 64 * 1024;
// The part of a body shown in the one line a probe prints.
constexpr size_t kShownBodyBytes = 300;

struct Flags {
  std::string what;  // "ready" or "live"
  std::string admin = "127.0.0.1:9901";
  int timeout_ms = 2000;
  std::string ca_file;    // TLS: verify the listener's certificate against this CA
  std::string cert_file;  // mutual TLS: the client certificate and its key
  std::string key_file;
  std::string tls_name;  // the name the certificate must carry; default: the host of --admin
};

// `text` on one line: control characters become spaces, and a long text is cut.
std::string OneLine(std::string_view text) {
  std::string out(text.substr(0, kShownBodyBytes));
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (text.size() > kShownBodyBytes) out += "...";
  return out;
}

// The TLS client context of --admin-ca (and --admin-cert/--admin-key):
// TLS 1.2 or later, the listener's certificate verified against the CA.
std::optional<asio::ssl::context> MakeTlsContext(const Flags& f, std::string* error) {
  asio::ssl::context tls(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1,
                  ec);
  if (tls.load_verify_file(f.ca_file, ec)) {
    *error = "--admin-ca " + f.ca_file + ": " + ec.message();
    return std::nullopt;
  }
  if (!f.cert_file.empty()) {
    if (tls.use_certificate_chain_file(f.cert_file, ec)) {
      *error = "--admin-cert " + f.cert_file + ": " + ec.message();
      return std::nullopt;
    }
    if (tls.use_private_key_file(f.key_file, asio::ssl::context::pem, ec)) {
      *error = "--admin-key " + f.key_file + ": " + ec.message();
      return std::nullopt;
    }
  }
  tls.set_verify_mode(asio::ssl::verify_peer, ec);
  return tls;
}

// One GET on one connection, every step bounded by one deadline.
class Probe {
 public:
  Probe(HostPort address, std::string path, std::string tls_name, Clock::time_point deadline)
      : address_(std::move(address)),
        path_(std::move(path)),
        tls_name_(std::move(tls_name)),
        deadline_(deadline) {}

  // True when a step ran out of time. Its operation is still pending then:
  // destroying the Probe would wait for a resolver thread stuck in
  // getaddrinfo(), which cannot be interrupted, so the caller may leave it
  // undestroyed as the process exits.
  bool timed_out() const { return timed_out_; }

  // Runs the probe; the listener's answer, or why there is none in *error.
  std::optional<bhttp::response<bhttp::string_body>> Get(asio::ssl::context* tls,
                                                         std::string* error) {
    std::vector<tcp::endpoint> endpoints;
    boost::system::error_code not_address;
    const asio::ip::address ip = asio::ip::make_address(address_.host, not_address);
    if (!not_address) {
      endpoints.emplace_back(ip, address_.port);
    } else if (!Step("resolving " + address_.host, error, [&](auto done) {
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
    request.set(bhttp::field::user_agent, "tempo-probe");
    request.set(bhttp::field::connection, "close");
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);
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

 private:
  // Starts one operation through `start(done)` and runs the io_context until
  // `done(ec)` is called or the deadline passes. False with *error set when
  // the operation failed or ran out of time.
  template <typename Start>
  bool Step(const std::string& what, std::string* error, const Start& start) {
    std::optional<boost::system::error_code> result;
    start([&result](const boost::system::error_code& ec) { result = ec; });
    io_.restart();
    io_.run_until(deadline_);
    if (!result) {
      // The pending operation is never resumed (see timed_out()).
      timed_out_ = true;
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
  // --admin-tls-name): its IP address or DNS name; sends SNI for a name.
  bool ExpectName(std::string* error) {
    SSL* ssl = tls_stream_->native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    boost::system::error_code not_address;
    (void)asio::ip::make_address(tls_name_, not_address);  // only the error matters
    const bool named = !not_address
                           ? X509_VERIFY_PARAM_set1_ip_asc(param, tls_name_.c_str()) == 1
                           : (SSL_set_tlsext_host_name(ssl, tls_name_.c_str()) == 1 &&
                              X509_VERIFY_PARAM_set1_host(param, tls_name_.c_str(), 0) == 1);
    if (!named) *error = "TLS: cannot expect the name " + tls_name_;
    return named;
  }

  const HostPort address_;
  const std::string path_;
  const std::string tls_name_;
  const Clock::time_point deadline_;
  asio::io_context io_{1};  // declared first: destroyed after the streams
  tcp::resolver resolver_{io_};
  bool timed_out_ = false;
  std::optional<beast::tcp_stream> plain_stream_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
};

int RunProbe(const Flags& f) {
  if (f.what != "ready" && f.what != "live") {
    std::cerr << "tempo probe: say what to probe: ready (/readyz) or live (/livez), not \""
              << f.what << "\"\n";
    return kExitUsage;
  }
  auto address = ParseHostPort(f.admin, /*min_port=*/1);
  if (!address.ok()) {
    std::cerr << "tempo probe: --admin \"" << f.admin << "\": " << address.status().message()
              << "\n";
    return kExitUsage;
  }
  std::optional<asio::ssl::context> tls;
  if (!f.ca_file.empty()) {
    std::string error;
    tls = MakeTlsContext(f, &error);
    if (!tls) {
      std::cerr << "tempo probe: " << error << "\n";
      return kExitUsage;
    }
  }
  const std::string path = f.what == "ready" ? "/readyz" : "/livez";
  const std::string target = (tls ? "https://" : "http://") + f.admin + path;
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(f.timeout_ms);
  auto probe = std::make_unique<Probe>(*address, path,
                                       f.tls_name.empty() ? address->host : f.tls_name, deadline);
  std::string error;
  auto answer = probe->Get(tls ? &*tls : nullptr, &error);
  if (!answer) {
    std::cerr << "tempo probe: " << f.what << ": " << target << ": " << error << "\n";
    // The process exits now: a timed-out probe is left to the exit (see timed_out()).
    if (probe->timed_out()) (void)probe.release();
    return kExitNotOk;
  }
  const int status = answer->result_int();
  const std::string line = "tempo probe: " + f.what + ": " + target + ": " +
                           std::to_string(status) + " " + OneLine(answer->body());
  if (status != 200) {
    std::cerr << line << "\n";
    return kExitNotOk;
  }
  std::cout << line << "\n";
  return 0;
}

}  // namespace

void RegisterProbe(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "probe",
      "Ask an admin listener whether this instance is ready (GET /readyz) or alive (GET "
      "/livez), for container exec probes and scripts: exits 0 on 200, 1 on any other answer "
      "or when it cannot be reached within --timeout-ms (one line says why), 2 on a usage "
      "error.");
  auto flags = std::make_shared<Flags>();
  cmd->add_option("what", flags->what, "ready (GET /readyz) or live (GET /livez)")->required();
  cmd->add_option("--admin", flags->admin, "The admin listener's HOST:PORT")->capture_default_str();
  cmd->add_option("--timeout-ms", flags->timeout_ms,
                  "The longest the whole probe may take: connecting, TLS, the answer")
      ->capture_default_str()
      ->check(CLI::Range(1, 600'000));
  auto* ca = cmd->add_option("--admin-ca", flags->ca_file,
                             "TLS to the admin listener (its --admin-tls-cert): PEM CA its "
                             "certificate must chain to; it must name the host of --admin");
  auto* cert = cmd->add_option("--admin-cert", flags->cert_file,
                               "PEM client certificate, for an admin listener with "
                               "--admin-client-ca (mutual TLS)");
  auto* key = cmd->add_option("--admin-key", flags->key_file, "PEM private key of --admin-cert");
  cmd->add_option("--admin-tls-name", flags->tls_name,
                  "Name (or IP address) the listener's certificate must carry, when not the "
                  "host of --admin (e.g. probing 127.0.0.1 with a certificate for a DNS name)")
      ->needs(ca);
  cert->needs(ca)->needs(key);
  key->needs(cert);
  cmd->callback([flags, exit_code] { *exit_code = RunProbe(*flags); });
}

}  // namespace tempo::cli
