// The listener addresses (--listen, --admin-listen) and the admin listener
// that `tempo serve` and `tempo sync` start.
#pragma once

#include <memory>
#include <string>

#include "admin/admin_service.h"
#include "common/status.h"
#include "http/server.h"

namespace tempo::serve {

// Parses HOST:PORT ("[v6addr]:PORT" too, port 0 = any free port) into
// options->host and ->port (common/host_port.h); false when malformed.
bool ParseListen(const std::string& listen, http::ServerOptions* options);

// Starts an admin listener on `listen` (HOST:PORT) answering with `service`,
// with its own small connection limit (64), or returns null when `listen` is
// "off". With `max_body_bytes` (routes that take POST bodies) it reads
// request bodies up to that size (larger: 413) and runs two threads, so a
// post being parsed does not hold up a probe; else one thread.
// InvalidArgument for a malformed address, the bind error otherwise.
// REQUIRES: service outlives the server.
Result<std::unique_ptr<http::Server>> StartAdminListener(const std::string& listen,
                                                         const admin::AdminService* service,
                                                         size_t max_body_bytes = 0);

}  // namespace tempo::serve
