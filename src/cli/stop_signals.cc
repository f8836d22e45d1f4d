#include "cli/stop_signals.h"

#include <time.h>

#include <utility>

namespace tempo::cli {

StopSignals::StopSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

StopSignals::~StopSignals() { Unwatch(); }

void StopSignals::Unwatch() {
  done_ = true;
  if (watcher_.joinable()) watcher_.join();
}

void StopSignals::Watch(std::function<void(int signal, int count)> on_stop,
                        std::function<void()> on_hangup) {
  watcher_ = std::thread([this, on_stop = std::move(on_stop), on_hangup = std::move(on_hangup)] {
    const timespec tick{0, 100'000'000};
    int stops = 0;
    while (!done_) {
      const int sig = sigtimedwait(&set_, nullptr, &tick);
      if (sig == SIGHUP && on_hangup) {
        on_hangup();
      } else if (sig > 0) {
        on_stop(sig, ++stops);
      }
    }
  });
}

}  // namespace tempo::cli
