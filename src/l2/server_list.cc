// Parsing of memcached server addresses (see l2.h).
#include <charconv>
#include <set>

#include "l2/l2.h"

namespace tempo::l2 {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status Bad(std::string_view server, const std::string& why) {
  return Status::InvalidArgument("memcached server \"" + std::string(server) + "\": " + why);
}

}  // namespace

Result<ServerAddress> ParseServer(std::string_view server) {
  std::string_view host, port;
  if (!server.empty() && server.front() == '[') {
    size_t close = server.find(']');
    if (close == std::string_view::npos) return Bad(server, "missing ']' after IPv6 address");
    host = server.substr(1, close - 1);
    std::string_view rest = server.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return Bad(server, "expected ':port' after ']'");
    port = rest.substr(1);
  } else {
    size_t colon = server.rfind(':');
    if (colon == std::string_view::npos) return Bad(server, "expected host:port");
    host = server.substr(0, colon);
    port = server.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Bad(server, "write an IPv6 address in brackets: [addr]:port");
    }
  }
  if (host.empty()) return Bad(server, "empty host");
  for (char ch : host) {
    if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7f) {
      return Bad(server, "host has a space or control character");
    }
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return Bad(server, "port must be a number from 1 to 65535");
  }
  return ServerAddress{std::string(host), static_cast<uint16_t>(value)};
}

Result<std::vector<std::string>> ParseServerList(std::string_view list) {
  if (Trim(list).empty()) return Status::InvalidArgument("memcached server list is empty");
  std::vector<std::string> servers;
  std::set<std::string> seen;
  while (true) {
    size_t comma = list.find(',');
    std::string_view entry = Trim(list.substr(0, comma));
    if (entry.empty()) {
      return Status::InvalidArgument("memcached server list has an empty entry");
    }
    Result<ServerAddress> address = ParseServer(entry);
    if (!address.ok()) return address.status();
    if (!seen.insert(std::string(entry)).second) return Bad(entry, "listed twice");
    servers.emplace_back(entry);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return servers;
}

}  // namespace tempo::l2
