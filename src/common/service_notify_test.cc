// Tests of service_notify.h against a real AF_UNIX datagram socket standing
// in for systemd's notification socket ($NOTIFY_SOCKET).
#include "common/service_notify.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>

#include "testing/temp_dir.h"

namespace tempo {
namespace {

// Bounds each wait for a datagram; they are sent before the call returns.
constexpr int kReceiveTimeoutMs = 5000;

// A datagram socket bound in a temporary directory, named by $NOTIFY_SOCKET
// while it exists.
class NotifySocket {
 public:
  NotifySocket() : path_(dir_.path() + "/notify") {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    EXPECT_LT(path_.size(), sizeof(addr.sun_path));
    path_.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    EXPECT_EQ(bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    setenv("NOTIFY_SOCKET", path_.c_str(), /*overwrite=*/1);
  }
  ~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    close(fd_);
  }

  // The next datagram, or "<none>" when none arrives in time.
  std::string Receive() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, kReceiveTimeoutMs) != 1) return "<none>";
    char buffer[4096];
    const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    return n < 0 ? "<error>" : std::string(buffer, static_cast<size_t>(n));
  }

  // True when no datagram is waiting.
  bool Empty() {
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, 0) == 0;
  }

 private:
  testing::TempDir dir_{"tempo_notify_test"};
  std::string path_;
  int fd_ = -1;
};

// Enables a watchdog of `usec` for this process, as systemd does.
void EnableWatchdog(const char* usec) {
  setenv("WATCHDOG_USEC", usec, /*overwrite=*/1);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), /*overwrite=*/1);
}

TEST(ServiceNotifyTest, SendsEachStateAsOneDatagram) {
  NotifySocket systemd;
  ASSERT_TRUE(NotifyReady().ok());
  EXPECT_EQ(systemd.Receive(), "READY=1");
  ASSERT_TRUE(NotifyStatus("serving on 127.0.0.1:8080").ok());
  EXPECT_EQ(systemd.Receive(), "STATUS=serving on 127.0.0.1:8080");
  ASSERT_TRUE(NotifyWatchdog().ok());
  EXPECT_EQ(systemd.Receive(), "WATCHDOG=1");
  ASSERT_TRUE(NotifyStopping().ok());
  EXPECT_EQ(systemd.Receive(), "STOPPING=1");
  EXPECT_TRUE(systemd.Empty());
}

TEST(ServiceNotifyTest, AStatusStaysOneField) {
  NotifySocket systemd;
  ASSERT_TRUE(NotifyStatus("draining\nREADY=1\r\n").ok());
  EXPECT_EQ(systemd.Receive(), "STATUS=draining READY=1  ");
}

TEST(ServiceNotifyTest, WithoutNotifySocketEveryCallIsANoOp) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(NotifyReady().ok());
  EXPECT_TRUE(NotifyStatus("ignored").ok());
  EXPECT_TRUE(NotifyWatchdog().ok());
  EXPECT_TRUE(NotifyStopping().ok());
}

TEST(ServiceNotifyTest, ASocketThatIsGoneIsAnError) {
  testing::TempDir dir("tempo_notify_test");
  const std::string path = dir.path() + "/absent";
  setenv("NOTIFY_SOCKET", path.c_str(), /*overwrite=*/1);
  Status s = NotifyReady();
  unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("READY"), std::string::npos) << s.message();
}

TEST(ServiceNotifyTest, WatchdogIntervalIsForThisProcessOnly) {
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  EXPECT_EQ(WatchdogInterval().count(), 0);

  EnableWatchdog("2000000");
  EXPECT_EQ(WatchdogInterval(), std::chrono::seconds(2));
  // Set for another process (a child that inherited the environment): not ours.
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), /*overwrite=*/1);
  EXPECT_EQ(WatchdogInterval().count(), 0);
  // Without a pid it is meant for whoever reads it.
  unsetenv("WATCHDOG_PID");
  EXPECT_EQ(WatchdogInterval(), std::chrono::seconds(2));
  unsetenv("WATCHDOG_USEC");
  EXPECT_EQ(WatchdogInterval().count(), 0);
}

TEST(WatchdogPingerTest, FeedsTheWatchdogWhileHealthy) {
  NotifySocket systemd;
  EnableWatchdog("20000");  // a ping every 10 ms
  std::atomic<int> checks{0};
  WatchdogPinger pinger([&] {
    ++checks;
    return true;
  });
  EXPECT_TRUE(pinger.running());
  EXPECT_EQ(systemd.Receive(), "WATCHDOG=1");
  EXPECT_EQ(systemd.Receive(), "WATCHDOG=1");
  EXPECT_GE(checks.load(), 2);
}

TEST(WatchdogPingerTest, SendsNothingWhileUnhealthy) {
  NotifySocket systemd;
  EnableWatchdog("20000");
  // The third check waits for the test: by then two have answered false.
  std::mutex mu;
  std::condition_variable changed;
  int checks = 0;
  bool release = false;
  {
    WatchdogPinger pinger([&] {
      std::unique_lock<std::mutex> lock(mu);
      if (++checks == 3) {
        changed.notify_all();
        changed.wait(lock, [&] { return release; });
      }
      return false;
    });
    {
      std::unique_lock<std::mutex> lock(mu);
      ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(10), [&] { return checks >= 3; }));
    }
    EXPECT_TRUE(systemd.Empty());  // a send follows its check at once, before the next one
    {
      std::lock_guard<std::mutex> lock(mu);
      release = true;
    }
    changed.notify_all();
  }  // the destructor stops the thread
  EXPECT_TRUE(systemd.Empty());
}

TEST(WatchdogPingerTest, StartsNoThreadWithoutAWatchdog) {
  unsetenv("WATCHDOG_USEC");
  bool checked = false;
  WatchdogPinger pinger([&] { return checked = true; });
  EXPECT_FALSE(pinger.running());
  EXPECT_FALSE(checked);
}

}  // namespace
}  // namespace tempo
