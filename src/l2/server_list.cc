// Parsing of memcached server addresses (see l2.h).
#include <set>
#include <utility>

#include "common/host_port.h"
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
  Result<HostPort> parsed = ParseHostPort(server, /*min_port=*/1);
  if (!parsed.ok()) return Bad(server, parsed.status().message());
  return ServerAddress{std::move(parsed->host), parsed->port};
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
