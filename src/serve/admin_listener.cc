// Listener addresses and the admin listener.
#include "serve/admin_listener.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/host_port.h"

namespace tempo::serve {
namespace {

namespace asio = boost::asio;

// The admin listener's own connection limit: probes and scrapes need few,
// and a flood of them must not take the descriptors the public listener,
// the store and L2 need (nor they the admin's).
constexpr int kAdminMaxConnections = 64;

bool IsLoopback(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
  }
  return address.is_loopback();
}

// True when every address `host` stands for is a loopback one.
bool IsLoopbackHost(const std::string& host) {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec) return IsLoopback(address);
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  const auto results = resolver.resolve(host, "0", asio::ip::tcp::resolver::passive, ec);
  if (ec || results.empty()) return false;  // the listener's own start reports it
  for (const auto& entry : results) {
    if (!IsLoopback(entry.endpoint().address())) return false;
  }
  return true;
}

}  // namespace

bool ParseListen(const std::string& listen, http::ServerOptions* options) {
  Result<HostPort> parsed = ParseHostPort(listen);
  if (!parsed.ok()) return false;
  options->host = parsed->host;
  options->port = parsed->port;
  return true;
}

Status CheckAdminListen(const std::string& listen, const http::TlsFiles& tls, bool insecure) {
  if (listen == "off") return Status::OK();
  http::ServerOptions options;
  if (!ParseListen(listen, &options)) {
    return Status::InvalidArgument("--admin-listen must be HOST:PORT or off, got " + listen);
  }
  const std::string& host = options.host;
  if (!tls.enabled() && (!tls.key_file.empty() || !tls.client_ca_file.empty())) {
    return Status::InvalidArgument(
        "--admin-tls-key and --admin-client-ca need --admin-tls-cert (and --admin-tls-key)");
  }
  if (insecure || !tls.client_ca_file.empty() || IsLoopbackHost(host)) return Status::OK();
  return Status::InvalidArgument(
      "--admin-listen on " + host +
      " is not loopback: the admin listener can invalidate caches and receive shadow traffic, "
      "so it needs mutual TLS (--admin-tls-cert, --admin-tls-key and --admin-client-ca), or "
      "--admin-insecure to expose it anyway");
}

Result<std::unique_ptr<http::Server>> StartAdminListener(const std::string& listen,
                                                         const admin::AdminService* service,
                                                         size_t max_body_bytes,
                                                         const http::TlsFiles& tls, bool insecure) {
  if (Status s = CheckAdminListen(listen, tls, insecure); !s.ok()) return s;
  if (listen == "off") return std::unique_ptr<http::Server>();
  http::ServerOptions options;
  ParseListen(listen, &options);
  options.threads = max_body_bytes > 0 ? 2 : 1;
  options.max_connections = kAdminMaxConnections;
  options.max_request_body_bytes = max_body_bytes;
  options.tls = tls;
  auto server = http::Server::Start(
      options,
      [service](const http::Request& req, http::Response* resp) { service->Handle(req, resp); });
  if (!server.ok()) {
    // A bad TLS file is the options' fault (a usage error), a bind failure not.
    const std::string message = "admin listener: " + server.status().message();
    return server.status().code() == Status::Code::kInvalidArgument
               ? Status::InvalidArgument(message)
               : Status::IOError(message);
  }
  return server;
}

}  // namespace tempo::serve
