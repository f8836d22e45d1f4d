// The one HOST:PORT parser.
#include "common/host_port.h"

#include <charconv>

namespace tempo {

Result<HostPort> ParseHostPort(std::string_view text, uint16_t min_port) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("missing ']' after IPv6 address");
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return Status::InvalidArgument("expected ':port' after ']'");
    }
    port = rest.substr(1);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Status::InvalidArgument("expected host:port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Status::InvalidArgument("write an IPv6 address in brackets: [addr]:port");
    }
  }
  if (host.empty()) return Status::InvalidArgument("empty host");
  for (char ch : host) {
    if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7f) {
      return Status::InvalidArgument("host has a space or control character");
    }
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < min_port ||
      value > 65535) {
    return Status::InvalidArgument("port must be a number from " + std::to_string(min_port) +
                                   " to 65535");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

}  // namespace tempo
