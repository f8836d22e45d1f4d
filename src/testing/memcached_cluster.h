// MemcachedCluster: real memcached processes on loopback for tests and benchmarks.
//
// Start(n) launches n `/usr/bin/memcached` processes, each on 127.0.0.1 and a
// free port, and returns once every one accepts connections. Nodes can be
// killed (SIGKILL), paused (SIGSTOP: the port still accepts, nothing answers)
// and restarted on their old port, so that clients see the same server list.
// The destructor kills every node; each node also dies with the thread that
// started it (PR_SET_PDEATHSIG), so a crashed test leaves no process behind.
//
// Not thread-safe: drive one cluster from one thread, and keep that thread
// alive as long as the cluster (PR_SET_PDEATHSIG follows the forking thread).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace tempo::testing {

class MemcachedCluster {
 public:
  // Starts `nodes` memcached processes (1 to kMaxNodes). Fails with
  // Unavailable when the binary is missing or a node does not come up within
  // a few seconds; nothing is left running then.
  static Result<std::unique_ptr<MemcachedCluster>> Start(int nodes);

  MemcachedCluster(const MemcachedCluster&) = delete;
  MemcachedCluster& operator=(const MemcachedCluster&) = delete;
  ~MemcachedCluster();

  static constexpr int kMaxNodes = 16;

  // "127.0.0.1:<port>" for every node, in node order (stable across restarts).
  std::vector<std::string> servers() const;
  int size() const { return static_cast<int>(nodes_.size()); }
  int port(int i) const { return nodes_[i].port; }

  // SIGKILLs node i and reaps it. No-op when it is not running.
  void Kill(int i);
  // SIGSTOPs / SIGCONTs node i: a stopped node accepts TCP connections (the
  // kernel completes the handshake) but never answers, like a hung server.
  // Pause returns once the node has stopped (waited for, bounded).
  void Pause(int i);
  void Resume(int i);
  // Kills node i if running, then starts it again, empty, on the same port.
  Status Restart(int i);

 private:
  struct Node {
    int port = 0;
    pid_t pid = -1;  // -1 when not running
  };
  MemcachedCluster() = default;
  // Launches node i on nodes_[i].port and waits until it accepts.
  Status Launch(int i);

  std::vector<Node> nodes_;
};

}  // namespace tempo::testing
