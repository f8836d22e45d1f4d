// Loopback ports for test servers.
#pragma once

#include "common/status.h"

namespace tempo::testing {

// A 127.0.0.1 TCP port that was free a moment ago: binds port 0 and reads
// what the kernel chose. Another process may take it before the caller
// does, so callers retry a failed start with a new port.
Result<int> PickFreePort();

}  // namespace tempo::testing
