// The TLS flags of the listeners: the public one's (`tempo serve`) and the
// admin one's (`tempo serve`, `tempo sync --admin-listen`). Loading the
// files: http/tls_context.h; the rule for an admin listener off loopback:
// serve/admin_listener.h.
#pragma once

#include <CLI/CLI.hpp>

#include "http/tls_options.h"
#include "serve/serve_options.h"

namespace tempo::cli {

// Adds --tls-cert, --tls-key and --tls-client-ca to `cmd`, bound to `tls`.
void AddPublicTlsFlags(CLI::App* cmd, http::TlsFiles* tls);

// Adds --admin-tls-cert, --admin-tls-key, --admin-client-ca and
// --admin-insecure to `cmd`, bound to `tls` and `insecure`.
void AddAdminTlsFlags(CLI::App* cmd, http::TlsFiles* tls, bool* insecure);

// Both, bound to options->tls, ->admin_tls and ->admin_insecure.
void AddTlsFlags(CLI::App* cmd, serve::ServeOptions* options);

}  // namespace tempo::cli
