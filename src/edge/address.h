// Checks of the addresses `tempo edge-config` writes into nginx directives.
#pragma once

#include <string_view>

#include "common/status.h"

namespace tempo::edge {

// A host and port as nginx `server` and `listen` take them.
struct HostPort {
  std::string_view host;  // a DNS name, an IPv4 address, "[IPv6]" (brackets kept) or "*"
  std::string_view port;  // 1..65535 in decimal
};

// Splits and checks "HOST:PORT". The host is a DNS name or IPv4 address
// ([A-Za-z0-9.-], starting with a letter or digit), or an IPv6 address in
// brackets; "*" only when `wildcard_ok`. InvalidArgument saying what is
// wrong (without quoting `value`: the caller does).
Result<HostPort> ParseHostPort(std::string_view value, bool wildcard_ok);

// True for a port: 1..65535 in decimal, no sign or leading zero.
bool IsValidPort(std::string_view port);

}  // namespace tempo::edge
