// sd_notify(3) from Debian's libsystemd (see service_notify.h).
#include "common/service_notify.h"

#include <systemd/sd-daemon.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <utility>

namespace tempo {
namespace {

// Sends `state` (one or more NAME=VALUE lines). sd_notify returns > 0 when
// sent, 0 when $NOTIFY_SOCKET is unset, and -errno on failure.
Status Send(const std::string& state) {
  const int sent = sd_notify(/*unset_environment=*/0, state.c_str());
  if (sent >= 0) return Status::OK();
  return Status::IOError("sd_notify " + state.substr(0, state.find('=')) + ": " +
                         std::strerror(-sent));
}

}  // namespace

Status NotifyReady() { return Send("READY=1"); }

Status NotifyStopping() { return Send("STOPPING=1"); }

Status NotifyStatus(std::string_view text) {
  std::string state = "STATUS=";
  for (char c : text) state.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return Send(state);
}

Status NotifyWatchdog() { return Send("WATCHDOG=1"); }

std::chrono::microseconds WatchdogInterval() {
  uint64_t usec = 0;
  // > 0: enabled for this pid; 0: not enabled (or for another pid); < 0: a
  // malformed $WATCHDOG_USEC, which systemd never sets: treated as none.
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) <= 0) {
    return std::chrono::microseconds(0);
  }
  return std::chrono::microseconds(usec);
}

WatchdogPinger::WatchdogPinger(std::function<bool()> healthy) {
  const std::chrono::microseconds interval = WatchdogInterval();
  if (interval.count() == 0) return;
  // Half the interval, as sd_watchdog_enabled(3) advises: one late ping
  // still arrives in time.
  const std::chrono::microseconds period = interval / 2;
  thread_ = std::thread([this, period, healthy = std::move(healthy)] {
    for (;;) {
      // A failed send (systemd gone) is tried again at the next period:
      // nothing else can be done about it here.
      if (healthy()) (void)NotifyWatchdog();
      const auto next = std::chrono::steady_clock::now() + period;
      MutexLock lock(&mu_);
      while (!stop_ && std::chrono::steady_clock::now() < next) {
        (void)stop_requested_.WaitUntil(&mu_, next);  // woken early only to stop
      }
      if (stop_) return;
    }
  });
}

WatchdogPinger::~WatchdogPinger() {
  if (!thread_.joinable()) return;
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  stop_requested_.Signal();
  thread_.join();
}

}  // namespace tempo
