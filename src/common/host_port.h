// HOST:PORT addresses, as every flag that names a listener or a server takes
// them (--listen, --admin-listen, --l2).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tempo {

// A parsed address: `host` is a name, an IPv4 address or an IPv6 address
// without its brackets.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};

// Parses "host:port" or "[v6addr]:port" (an IPv6 address must be in
// brackets). The port is a decimal number from `min_port` to 65535 (0 means
// "any free port" to a listener; a server to connect to needs min_port 1).
// InvalidArgument whose message says what is wrong: "expected host:port",
// "missing ']' after IPv6 address", "expected ':port' after ']'", "write an
// IPv6 address in brackets: [addr]:port", "empty host", "host has a space or
// control character", "port must be a number from N to 65535".
Result<HostPort> ParseHostPort(std::string_view text, uint16_t min_port = 0);

}  // namespace tempo
