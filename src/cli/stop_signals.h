// SIGINT/SIGTERM handling for the long-running commands (serve, sync, dev-kafka).
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace tempo::cli {

// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread
// started after it: construct it first, before any library starts threads.
// Watch() then runs `on_stop` on a watcher thread when one of them arrives.
class StopSignals {
 public:
  StopSignals();
  // Unwatch()es.
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  void Watch(std::function<void(int signal)> on_stop);

  // Ends the watcher (within ~100 ms) and waits for it, including an
  // on_stop in progress. Call it before destroying what on_stop touches.
  void Unwatch();

 private:
  sigset_t set_;
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

}  // namespace tempo::cli
