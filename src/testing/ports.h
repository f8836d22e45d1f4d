// Loopback ports for test servers.
#pragma once

#include <string>

#include "common/status.h"

namespace tempo::testing {

// A 127.0.0.1 TCP port that was free a moment ago: binds port 0 and reads
// what the kernel chose. Another process may take it before the caller
// does, so callers retry a failed start with a new port.
Result<int> PickFreePort();

// A TCP socket listening on 127.0.0.1 and the port the kernel picked for it.
struct LoopbackListener {
  int fd = -1;  // owned by the caller, who closes it
  int port = 0;
};

// Binds 127.0.0.1 port 0 and listens with `backlog` (close-on-exec). IOError naming the call
// that failed, prefixed with `who` ("HungServer: bind/listen on 127.0.0.1: ...").
Result<LoopbackListener> ListenOnLoopback(int backlog, const std::string& who);

}  // namespace tempo::testing
