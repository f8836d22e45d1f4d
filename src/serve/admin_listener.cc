// Listener addresses and the admin listener.
#include "serve/admin_listener.h"

#include "common/host_port.h"

namespace tempo::serve {
namespace {

// The admin listener's own connection limit: probes and scrapes need few,
// and a flood of them must not take the descriptors the public listener,
// the store and L2 need (nor they the admin's).
constexpr int kAdminMaxConnections = 64;

}  // namespace

bool ParseListen(const std::string& listen, http::ServerOptions* options) {
  Result<HostPort> parsed = ParseHostPort(listen);
  if (!parsed.ok()) return false;
  options->host = parsed->host;
  options->port = parsed->port;
  return true;
}

Result<std::unique_ptr<http::Server>> StartAdminListener(const std::string& listen,
                                                         const admin::AdminService* service,
                                                         size_t max_body_bytes) {
  if (listen == "off") return std::unique_ptr<http::Server>();
  http::ServerOptions options;
  if (!ParseListen(listen, &options)) {
    return Status::InvalidArgument("--admin-listen must be HOST:PORT or off, got " + listen);
  }
  options.threads = max_body_bytes > 0 ? 2 : 1;
  options.max_connections = kAdminMaxConnections;
  options.max_request_body_bytes = max_body_bytes;
  auto server = http::Server::Start(
      options,
      [service](const http::Request& req, http::Response* resp) { service->Handle(req, resp); });
  if (!server.ok()) return Status::IOError("admin listener: " + server.status().message());
  return server;
}

}  // namespace tempo::serve
