// The process log: one logger (spdlog underneath) for every component, on stderr.
//
// Tempo logs changes of state, never individual requests (those go to the
// access log, http/access_log.h): a dependency that becomes unreachable and
// recovers, a value that fails its checksum, a process out of descriptors.
// Each event is one line, in one of two formats chosen by ConfigureLogging:
//
//   text: 2026-12-07T01:14:58.123Z WARN tempo[origin]: unreachable: <why> request_id=4f1c
//   json: {"time":"2026-12-07T01:14:58.123Z","level":"warn","component":"origin",
//          "message":"unreachable: <why>","request_id":"4f1c"}
//
// (the JSON object is on one line). The time is UTC with milliseconds
// (RFC 3339). In text, control characters in the message are escaped ("\n")
// so that an event stays one line, and a field value with a space, a quote,
// '=' or a control character, or an empty one, is quoted. Lines from several
// threads never interleave: each goes out whole, under the sink's mutex.
//
// Safe to use from any thread, at any time, including before main and during
// exit. A line below the configured level costs one relaxed atomic load.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time.h"

namespace tempo {

// How much a line matters; a logger configured at one level drops the lines
// below it.
enum class LogLevel : uint8_t {
  kDebug,  // for a person chasing a problem: chatty (librdkafka's `debug` output)
  kInfo,   // a change of state that needs no action (started, recovered)
  kWarn,   // something is degraded but served around (a node down, a retry)
  kError,  // something failed and someone should look (a sync stopped)
};

enum class LogFormat : uint8_t {
  kText,  // for people: see above
  kJson,  // one JSON object per line, for log pipelines
};

// The logger's settings; the defaults are what a process starts with.
struct LogOptions {
  // Lines below this level are dropped. Default: kInfo.
  LogLevel level = LogLevel::kInfo;
  // Default: kText.
  LogFormat format = LogFormat::kText;
};

// A structured field of a line: `key=value` in text, a member of the object
// in json. REQUIRES: key is not empty, not one of time, level, component,
// message, and has no space, '=', quote or control character.
struct LogField {
  std::string_view key;
  std::string_view value;
};

// Replaces the logger's settings; lines logged after it returns follow them.
// Callable at any time from any thread (a SIGHUP reload), while others log.
// InvalidArgument for a level or format out of the enums' range.
Status ConfigureLogging(const LogOptions& options);

// The settings in force.
LogOptions CurrentLogOptions();

// "debug", "info", "warn" or "error" (also accepts "warning"); otherwise
// InvalidArgument naming the accepted values.
Result<LogLevel> ParseLogLevel(std::string_view name);
// "text" or "json"; otherwise InvalidArgument naming the accepted values.
Result<LogFormat> ParseLogFormat(std::string_view name);
// The lower-case names ParseLogLevel and ParseLogFormat read.
std::string_view LogLevelName(LogLevel level);
std::string_view LogFormatName(LogFormat format);

// True when a line at `level` would be written: for callers that build an
// expensive message only when it will be used.
bool LogEnabled(LogLevel level);

// Writes one line at `level` for `component` ("origin", "kafka", ...), with
// `fields` after the message. Dropped when `level` is below the configured one.
void Log(LogLevel level, std::string_view component, std::string_view message,
         std::initializer_list<LogField> fields = {});

// Log(LogLevel::kInfo, component, message).
void LogLine(std::string_view component, std::string_view message);

// Lets through at most one event per `interval` (for conditions that recur,
// such as values failing their checksum); the events it holds back are
// counted and reported with the next line it lets through. Events below the
// configured level are neither logged nor counted. Thread-safe and lock-free.
class LogLimiter {
 public:
  explicit LogLimiter(std::chrono::milliseconds interval, LogLevel level = LogLevel::kWarn)
      : interval_ms_(interval.count()), level_(level) {}

  // Logs `message` for `component` at the limiter's level unless a line went
  // out less than the interval ago; then only counts it.
  void Log(std::string_view component, std::string_view message);

 private:
  const int64_t interval_ms_;
  const LogLevel level_;
  std::atomic<int64_t> next_ms_{0};
  std::atomic<uint64_t> suppressed_{0};
};

// Appends `at` as the logs write it: UTC, "2026-12-07T01:14:58.123Z" (always
// three fraction digits, truncated). Cheap (a per-thread cache of the
// current second): the access log calls it once per line.
void AppendLogTime(UnixNanos at, std::string* out);
// The same into out[0, kLogTimeBytes).
inline constexpr size_t kLogTimeBytes = 24;
void FormatLogTime(UnixNanos at, char* out);

// Appends `s` as a JSON string literal, as AppendJsonString (common/json.h)
// does, except that bytes that are not valid UTF-8 become U+FFFD: a JSON
// line must parse whatever bytes a peer or a library put into it.
void AppendLogJsonString(std::string_view s, std::string* out);

// For tests: while set, every line (without its '\n') goes to `sink` instead
// of stderr, called under the logger's mutex (so never concurrently); an
// empty function restores stderr. `sink` must not log.
void SetLogSinkForTesting(std::function<void(std::string_view line)> sink);

}  // namespace tempo
