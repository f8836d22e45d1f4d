// ParseUpstream: the value of `--upstream GROUP=HOST:PORT[,HOST:PORT...]`.
#include <algorithm>
#include <string>

#include "edge/address.h"
#include "edge/edge.h"

namespace tempo::edge {
namespace {

// How many servers one group may list: far more than a fleet has, and a
// bound on what a typo can make nginx open.
constexpr size_t kMaxServersPerGroup = 256;

Status Bad(std::string_view value, std::string_view reason) {
  std::string msg = "--upstream \"";
  msg.append(value).append("\": ").append(reason);
  return Status::InvalidArgument(std::move(msg));
}

}  // namespace

Result<Upstream> ParseUpstream(std::string_view value) {
  const size_t eq = value.find('=');
  if (eq == std::string_view::npos) {
    return Bad(value, "expected GROUP=HOST:PORT[,HOST:PORT...]");
  }
  Upstream out;
  out.group = std::string(value.substr(0, eq));
  if (!config::IsValidGroupName(out.group)) {
    return Bad(value, "the group must be a name of letters, digits, '_', '.' or '-'");
  }
  std::string_view rest = value.substr(eq + 1);
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view server = rest.substr(0, comma);
    if (server.empty()) return Bad(value, "a server is empty (expected HOST:PORT)");
    auto parsed = ParseHostPort(server, /*wildcard_ok=*/false);
    if (!parsed.ok()) return Bad(value, std::string(server) + ": " + parsed.status().message());
    if (std::find(out.servers.begin(), out.servers.end(), server) != out.servers.end()) {
      return Bad(value, std::string(server) + " is listed twice");
    }
    if (out.servers.size() == kMaxServersPerGroup) {
      return Bad(value, "more than " + std::to_string(kMaxServersPerGroup) + " servers");
    }
    out.servers.emplace_back(server);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return out;
}

}  // namespace tempo::edge
