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
// threads. Watch() then runs `on_stop` on a watcher thread when SIGINT or
// SIGTERM arrives, and `on_hangup` for each SIGHUP (serve re-reads its TLS
// certificates); without `on_hangup` a SIGHUP stops the process like SIGTERM,
// as its default action would have.
class StopSignals {
 public:
  StopSignals();
  // Unwatch()es.
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // After on_stop the watcher ends; on_hangup runs on it too, one at a time,
  // and the watcher goes on waiting.
  void Watch(std::function<void(int signal)> on_stop, std::function<void()> on_hangup = nullptr);

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
