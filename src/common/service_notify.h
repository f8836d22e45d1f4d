// Telling systemd how the service is doing (sd_notify(3), for units with
// Type=notify: packaging/tempo-serve.service, tempo-sync.service).
//
// Each call sends one datagram to the socket named by $NOTIFY_SOCKET, which
// systemd sets for a Type=notify unit; without it (a process not started by
// systemd, a test, a container) every call does nothing and returns OK, so a
// caller never needs to know how it was started. Thread-safe: each call is
// one independent sendmsg().
#pragma once

#include <chrono>
#include <functional>
#include <string_view>
#include <thread>

#include "common/mutex.h"
#include "common/status.h"

namespace tempo {

// "READY=1": start-up is over; systemd then reports the unit started and
// starts the units ordered after it. Send it once the listeners accept and
// the process would answer /readyz with 200 (SPEC §10).
Status NotifyReady();

// "STOPPING=1": the process has begun to shut down (draining).
Status NotifyStopping();

// "STATUS=<text>": one line for `systemctl status`. A line break in `text`
// would end the field, so each is sent as a space.
Status NotifyStatus(std::string_view text);

// "WATCHDOG=1": the process is alive and healthy. Needed only while
// WatchdogInterval() is positive, at least once per interval (half of it is
// the usual period); a unit that misses it is restarted (WatchdogSec=).
Status NotifyWatchdog();

// The unit's watchdog interval (WatchdogSec=, passed as $WATCHDOG_USEC for
// this process's pid), or zero when no watchdog is enabled for it.
std::chrono::microseconds WatchdogInterval();

// Keeps systemd's watchdog fed: a thread of its own sends WATCHDOG=1 every
// half WatchdogInterval(), each time `healthy()` says the process is (a
// process that stops saying so is restarted once the interval passes).
// Starts no thread when no watchdog is enabled. The destructor stops the
// thread, waiting for a `healthy()` in progress.
class WatchdogPinger {
 public:
  // REQUIRES: `healthy` is safe to call from another thread until the
  // pinger is destroyed.
  explicit WatchdogPinger(std::function<bool()> healthy);
  ~WatchdogPinger();
  WatchdogPinger(const WatchdogPinger&) = delete;
  WatchdogPinger& operator=(const WatchdogPinger&) = delete;

  // Whether a watchdog is enabled, so that the thread runs.
  bool running() const { return thread_.joinable(); }

 private:
  Mutex mu_;
  CondVar stop_requested_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tempo
