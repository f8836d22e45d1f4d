// The TLS flags.
#include "cli/tls_flags.h"

#include <string>

namespace tempo::cli {
namespace {

// Adds the certificate, key and client CA flags named `prefix`-tls-cert,
// `prefix`-tls-key and `ca_flag`; each needs the others it cannot work without.
void AddFileFlags(CLI::App* cmd, http::TlsFiles* tls, const std::string& prefix,
                  const std::string& ca_flag, const std::string& listener) {
  CLI::Option* cert =
      cmd->add_option(prefix + "-cert", tls->cert_file,
                      "TLS on the " + listener +
                          " listener (1.2 and 1.3 only): certificate chain, PEM (re-read on "
                          "SIGHUP; open connections keep theirs)");
  CLI::Option* key =
      cmd->add_option(prefix + "-key", tls->key_file,
                      "Private key of " + prefix + "-cert, PEM, unencrypted (re-read on SIGHUP)");
  CLI::Option* ca = cmd->add_option(ca_flag, tls->client_ca_file,
                                    "Mutual TLS on the " + listener +
                                        " listener: only clients with a certificate this CA "
                                        "(PEM) signed complete the handshake (re-read on SIGHUP)");
  // The files themselves are read (and a bad one refused, exit 2) at start,
  // whether they came from here or from --config.
  cert->needs(key);
  key->needs(cert);
  ca->needs(cert);
}

}  // namespace

void AddPublicTlsFlags(CLI::App* cmd, http::TlsFiles* tls) {
  AddFileFlags(cmd, tls, "--tls", "--tls-client-ca", "public");
}

void AddAdminTlsFlags(CLI::App* cmd, http::TlsFiles* tls, bool* insecure) {
  AddFileFlags(cmd, tls, "--admin-tls", "--admin-client-ca", "admin");
  cmd->add_flag("--admin-insecure", *insecure,
                "Allow --admin-listen off loopback without --admin-client-ca (the admin routes "
                "can invalidate caches and take shadow traffic: anyone who reaches the port can "
                "use them)");
}

void AddTlsFlags(CLI::App* cmd, serve::ServeOptions* options) {
  AddPublicTlsFlags(cmd, &options->tls);
  AddAdminTlsFlags(cmd, &options->admin_tls, &options->admin_insecure);
}

}  // namespace tempo::cli
