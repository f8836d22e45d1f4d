// StallServer: a small HTTP/1.1 server on loopback that pauses now and then, as a process
// does in a garbage collection or a swapped-out page: the test server of the load generator.
//
// Start() binds 127.0.0.1 on a port the kernel picks and serves keep-alive connections on one
// thread of its own. Every GET is answered at once with 200 and a short body, except
//   /status/NNN  answered with status NNN (100 to 599);
//   /close       answered with 200 and "Connection: close", then the connection is closed.
// With a stall, the first request handled at least `period` after the start of the previous
// stall (or the very first request) is held for `stall` before it is answered; as there is one
// thread, every other connection waits too. The destructor stops the thread and closes every
// connection.
//
// answered() and stalls() are safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"

namespace tempo::testing {

struct StallServerOptions {
  // How long each stall lasts; 0 never stalls.
  std::chrono::milliseconds stall{0};
  // The least time from the start of one stall to the start of the next.
  std::chrono::milliseconds period{1000};
};

class StallServer {
 public:
  // Listens on 127.0.0.1 and a free port. IOError when a socket call fails.
  static Result<std::unique_ptr<StallServer>> Start(StallServerOptions options);

  StallServer(const StallServer&) = delete;
  StallServer& operator=(const StallServer&) = delete;
  ~StallServer();

  int port() const { return port_; }
  // Requests answered so far, and stalls made.
  uint64_t answered() const { return answered_.load(std::memory_order_relaxed); }
  int stalls() const { return stalls_.load(std::memory_order_relaxed); }

 private:
  StallServer(StallServerOptions options, int listen_fd, int wake_fd, int port);
  void Loop();
  // Answers the complete requests at the front of `buffer`; false when the connection is to
  // be closed.
  bool AnswerRequests(int fd, std::string* buffer);

  const StallServerOptions options_;
  const int listen_fd_;
  const int wake_fd_;  // eventfd: written by the destructor to stop Loop
  const int port_;
  std::atomic<uint64_t> answered_{0};
  std::atomic<int> stalls_{0};
  bool stalled_once_ = false;  // Loop's thread only
  std::chrono::steady_clock::time_point last_stall_;
  std::thread thread_;
};

}  // namespace tempo::testing
