// The listener addresses (--listen, --admin-listen) and the admin listener
// that `tempo serve` and `tempo sync` start.
#pragma once

#include <memory>
#include <string>

#include "admin/admin_service.h"
#include "common/status.h"
#include "http/server.h"
#include "http/tls_options.h"

namespace tempo::serve {

// Parses HOST:PORT ("[v6addr]:PORT" too, port 0 = any free port) into
// options->host and ->port (common/host_port.h); false when malformed.
bool ParseListen(const std::string& listen, http::ServerOptions* options);

// Starts an admin listener on `listen` (HOST:PORT) answering with `service`,
// with its own small connection limit (64), or returns null when `listen` is
// "off". With `max_body_bytes` (routes that take POST bodies) it reads
// request bodies up to that size (larger: 413) and runs two threads, so a
// post being parsed does not hold up a probe; else one thread.
// With `tls` (--admin-tls-cert, --admin-tls-key, --admin-client-ca) it
// speaks TLS, and with its client CA only to clients holding a certificate
// that CA signed. The admin routes can invalidate caches and take shadow
// traffic, so an address off loopback is refused unless `tls` has a client
// CA or `insecure` (--admin-insecure) is set (CheckAdminListen).
// InvalidArgument for a malformed address, an address refused so, or a bad
// TLS file; the bind error otherwise.
// REQUIRES: service outlives the server.
Result<std::unique_ptr<http::Server>> StartAdminListener(const std::string& listen,
                                                         const admin::AdminService* service,
                                                         size_t max_body_bytes = 0,
                                                         const http::TlsFiles& tls = {},
                                                         bool insecure = false);

// OK when an admin listener on `listen` (HOST:PORT, or "off") may start:
// off, or its host is a loopback address (127.0.0.0/8, ::1, or a name that
// resolves only to those), or `tls` requires client certificates, or
// `insecure`. InvalidArgument (saying which flags allow it) otherwise; also
// for a malformed address, and when `tls` names a client CA or key without
// a certificate.
Status CheckAdminListen(const std::string& listen, const http::TlsFiles& tls, bool insecure);

}  // namespace tempo::serve
