// SIGINT/SIGTERM (stop) and SIGHUP (reload) handling for the long-running
// commands (serve, sync, dev-kafka).
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace tempo::cli {

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread, and so in every
// thread started after it: construct it first, before any library starts
// threads. Watch() then runs `on_stop` on a watcher thread for each SIGINT or
// SIGTERM that arrives (serve drains on the first and stops at once on the
// second), and `on_hangup` for each SIGHUP (serve reloads what can change
// live); without `on_hangup` a SIGHUP is a stop signal, as its default
// action would have been.
class StopSignals {
 public:
  StopSignals();
  // Unwatch()es.
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // on_stop and on_hangup run on the watcher, one at a time; it goes on
  // waiting until Unwatch. `count` is 1 for the first stop signal, 2 for the
  // second, and so on.
  void Watch(std::function<void(int signal, int count)> on_stop,
             std::function<void()> on_hangup = nullptr);

  // Ends the watcher (within ~100 ms) and waits for it, including an
  // on_stop or on_hangup in progress. Call it before destroying what they
  // touch.
  void Unwatch();

 private:
  sigset_t set_;
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

}  // namespace tempo::cli
