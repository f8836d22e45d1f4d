// Host and port checks for nginx directives.
#include "edge/address.h"

namespace tempo::edge {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsValidName(std::string_view host) {
  if (host.empty() || !IsAlnum(host.front())) return false;
  for (char c : host) {
    if (!IsAlnum(c) && c != '.' && c != '-') return false;
  }
  return true;
}

bool IsValidBracketedIpv6(std::string_view host) {
  if (host.size() < 4 || host.front() != '[' || host.back() != ']') return false;
  for (char c : host.substr(1, host.size() - 2)) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != ':' && c != '.') return false;
  }
  return true;
}

}  // namespace

bool IsValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5 || port.front() == '0') return false;
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return value <= 65535;
}

Result<HostPort> ParseHostPort(std::string_view value, bool wildcard_ok) {
  const size_t colon = value.rfind(':');
  if (colon == std::string_view::npos) return Status::InvalidArgument("expected HOST:PORT");
  HostPort out{value.substr(0, colon), value.substr(colon + 1)};
  if (!IsValidPort(out.port)) return Status::InvalidArgument("the port must be 1..65535");
  if (out.host.empty()) return Status::InvalidArgument("the host is missing");
  if (out.host.front() == '[') {
    if (!IsValidBracketedIpv6(out.host)) {
      return Status::InvalidArgument("not an IPv6 address in brackets");
    }
  } else if (out.host.find(':') != std::string_view::npos) {
    return Status::InvalidArgument("an IPv6 address goes in brackets: [::1]:8080");
  } else if (out.host == "*") {
    if (!wildcard_ok) return Status::InvalidArgument("the host must be a name or an address");
  } else if (!IsValidName(out.host)) {
    return Status::InvalidArgument(
        "the host must be a DNS name or an IPv4 address (letters, digits, '.', '-')");
  }
  return out;
}

}  // namespace tempo::edge
