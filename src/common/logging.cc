// LogLine and LogLimiter.
#include "common/logging.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <string>

namespace tempo {
namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void LogLine(std::string_view component, std::string_view message) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[96];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  std::string line;
  line.reserve(64 + component.size() + message.size());
  line.append(stamp).append(" tempo[").append(component).append("]: ").append(message);
  line.push_back('\n');
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report it
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

void LogLimiter::Log(std::string_view component, std::string_view message) {
  const int64_t now = SteadyMs();
  int64_t next = next_ms_.load(std::memory_order_relaxed);
  if (now < next ||
      !next_ms_.compare_exchange_strong(next, now + interval_ms_, std::memory_order_relaxed)) {
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const uint64_t held = suppressed_.exchange(0, std::memory_order_relaxed);
  if (held == 0) {
    LogLine(component, message);
  } else {
    LogLine(component, std::string(message) + " (and " + std::to_string(held) +
                           " more since the last such line)");
  }
}

}  // namespace tempo
