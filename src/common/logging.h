// Operational log lines on stderr.
//
// Tempo logs changes of state, never individual requests: a dependency that
// becomes unreachable and recovers, a value that fails its checksum, a
// process out of descriptors. Each line is
//
//   2026-12-07T01:14:58.123Z tempo[origin]: unreachable: <why>
//
// written with one write(2), so lines from several threads never interleave.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace tempo {

// Writes one line: the UTC time, the component and `message`.
void LogLine(std::string_view component, std::string_view message);

// Lets through at most one event per `interval` (for conditions that recur,
// such as values failing their checksum); the events it holds back are
// counted and reported with the next line it lets through. Thread-safe and
// lock-free.
class LogLimiter {
 public:
  explicit LogLimiter(std::chrono::milliseconds interval) : interval_ms_(interval.count()) {}

  // Logs `message` for `component` unless a line went out less than the
  // interval ago; then only counts it.
  void Log(std::string_view component, std::string_view message);

 private:
  const int64_t interval_ms_;
  std::atomic<int64_t> next_ms_{0};
  std::atomic<uint64_t> suppressed_{0};
};

}  // namespace tempo
