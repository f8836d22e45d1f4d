// ParseHttpUrl, ReadRequestLog and RenderGet.
#include "loadgen/request_source.h"

#include <algorithm>
#include <fstream>

#include "common/host_port.h"

namespace tempo::loadgen {
namespace {

constexpr std::string_view kScheme = "http://";

bool IsTargetByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f;
}

}  // namespace

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  const std::string quoted = "URL \"" + std::string(url) + "\": ";
  if (!url.starts_with(kScheme)) {
    return Status::InvalidArgument(quoted + (url.starts_with("https://")
                                                 ? "https is not supported, only http://"
                                                 : "expected http://HOST[:PORT][/path]"));
  }
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view target = slash == std::string_view::npos ? "/" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return Status::InvalidArgument(quoted + "user information is not supported");
  }
  // A port is optional in a URL, and ParseHostPort needs one.
  std::string with_port(authority);
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket)) {
    with_port += ":80";
  }
  Result<HostPort> host_port = ParseHostPort(with_port, /*min_port=*/1);
  if (!host_port.ok()) return Status::InvalidArgument(quoted + host_port.status().message());
  if (!std::all_of(target.begin(), target.end(), IsTargetByte) ||
      target.find('#') != std::string_view::npos) {
    return Status::InvalidArgument(quoted +
                                   "the path may hold no fragment, space or control character");
  }
  HttpUrl out;
  out.host = std::move(host_port->host);
  out.port = host_port->port;
  out.target = std::string(target);
  return out;
}

Result<std::vector<std::string>> ReadRequestLog(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read request log " + path);
  std::vector<std::string> targets;
  std::string line;
  uint64_t line_number = 0;
  uint64_t bytes = 0;
  while (std::getline(in, line)) {
    ++line_number;
    bytes += line.size() + 1;
    if (bytes > kMaxRequestLogBytes) {
      return Status::InvalidArgument("request log " + path + ": more than " +
                                     std::to_string(kMaxRequestLogBytes) + " bytes");
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line.front() != '/' || !std::all_of(line.begin(), line.end(), IsTargetByte)) {
      return Status::InvalidArgument("request log " + path + " line " +
                                     std::to_string(line_number) +
                                     ": expected /path?query with no space or control character");
    }
    if (targets.size() == kMaxRequestLogLines) {
      return Status::InvalidArgument("request log " + path + ": more than " +
                                     std::to_string(kMaxRequestLogLines) + " lines");
    }
    targets.push_back(std::move(line));
  }
  if (in.bad()) return Status::IOError("reading request log " + path + " failed");
  if (targets.empty()) return Status::InvalidArgument("request log " + path + " has no request");
  return targets;
}

std::string RenderGet(std::string_view target, std::string_view host, uint16_t port) {
  std::string out;
  out.reserve(target.size() + host.size() + 40);
  out.append("GET ").append(target).append(" HTTP/1.1\r\nHost: ");
  const bool v6 = host.find(':') != std::string_view::npos;
  if (v6) out += '[';
  out.append(host);
  if (v6) out += ']';
  if (port != 80) out.append(":").append(std::to_string(port));
  out.append("\r\n\r\n");
  return out;
}

}  // namespace tempo::loadgen
