// Listener addresses and the admin listener.
#include "cli/admin_listener.h"

namespace tempo::cli {
namespace {

// The admin listener's own connection limit: probes and scrapes need few,
// and a flood of them must not take the descriptors the public listener,
// the store and L2 need (nor they the admin's).
constexpr int kAdminMaxConnections = 64;

}  // namespace

bool ParseListen(const std::string& listen, http::ServerOptions* options) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  options->host = listen.substr(0, colon);
  if (options->host.size() > 2 && options->host.front() == '[' && options->host.back() == ']') {
    options->host = options->host.substr(1, options->host.size() - 2);
  }
  try {
    const int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) return false;
    options->port = static_cast<uint16_t>(port);
  } catch (...) {
    return false;
  }
  return true;
}

Result<std::unique_ptr<http::Server>> StartAdminListener(const std::string& listen,
                                                         const admin::AdminService* service) {
  if (listen == "off") return std::unique_ptr<http::Server>();
  http::ServerOptions options;
  if (!ParseListen(listen, &options)) {
    return Status::InvalidArgument("--admin-listen must be HOST:PORT or off, got " + listen);
  }
  options.threads = 1;
  options.max_connections = kAdminMaxConnections;
  auto server = http::Server::Start(options, [service](const http::Request& req,
                                                       http::Response* resp) {
    service->Handle(req, resp);
  });
  if (!server.ok()) return Status::IOError("admin listener: " + server.status().message());
  return server;
}

}  // namespace tempo::cli
