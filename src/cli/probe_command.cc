// `tempo probe ready|live`: one GET of /readyz or /livez on an admin
// listener, for container exec probes and scripts (docs/deploy.md).
//
// Exit codes: 0 when the listener answered 200; 1 for any other answer or
// when it could not be reached in time (one line on stderr says which); 2
// for a usage error. The whole probe (resolving, connecting, the TLS
// handshake, the request and the answer) is bounded by --timeout-ms: each
// step runs on a private io_context only until the probe's deadline.
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/commands.h"
#include "common/host_port.h"
#include "http/one_get.h"

namespace tempo::cli {
namespace {

namespace asio = boost::asio;
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
  auto probe = std::make_unique<http::OneGet>(
      *address, path, f.tls_name.empty() ? address->host : f.tls_name, deadline, "tempo-probe",
      http::OneGetLimits{kMaxHeaderBytes, kMaxBodyBytes});
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
