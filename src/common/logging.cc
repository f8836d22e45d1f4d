// The process log on spdlog: Log, its settings, LogLimiter and the line formats.
//
// Log renders the whole line itself (the fields have no place in spdlog 1.10's
// log_msg) and hands it to one spdlog logger, whose atomic level is the
// level check and whose one sink writes it whole to stderr (or to a test's
// function) under the sink's mutex.
#include "common/logging.h"

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <mutex>

#include "common/json.h"

namespace tempo {
namespace {

// The logger's one sink: a line (the payload, rendered by Log) goes out
// whole, under the sink's mutex, with one write(2) (not stdio's buffer, so
// that a line is out before the process could crash).
class LineSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void SetTestSink(std::function<void(std::string_view)> sink) {
    std::lock_guard<std::mutex> lock(mutex_);
    test_sink_ = std::move(sink);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view line(msg.payload.data(), msg.payload.size());
    if (test_sink_) {
      test_sink_(line);
      return;
    }
    buffer_.assign(line);
    buffer_.push_back('\n');
    std::string_view rest = buffer_;
    while (!rest.empty()) {
      const ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // nowhere to report it
      rest.remove_prefix(static_cast<size_t>(n));
    }
  }
  void flush_() override {}

 private:
  std::function<void(std::string_view)> test_sink_;  // guarded by mutex_
  std::string buffer_;                               // guarded by mutex_
};

struct Logger {
  Logger() : sink(std::make_shared<LineSink>()), logger("tempo", sink) {
    logger.set_level(spdlog::level::info);
    // spdlog's default handler would print its own complaint on stderr.
    logger.set_error_handler([](const std::string&) {});
  }

  std::shared_ptr<LineSink> sink;
  spdlog::logger logger;  // its level is the configured LogLevel
  std::atomic<LogFormat> format{LogFormat::kText};
};

Logger& TheLogger() {
  static Logger* logger = new Logger;  // never destroyed: usable during exit
  return *logger;
}

spdlog::level::level_enum SpdLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::err;
}

std::string_view TextLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "ERROR";
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// The message in text: control characters as C escapes, so that it stays on its line.
void AppendTextMessage(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    if (!IsControl(c)) {
      out->push_back(static_cast<char>(c));
      continue;
    }
    switch (c) {
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\x");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xf]);
    }
  }
}

// A field's value in text: bare, or quoted as a JSON string when bare would be ambiguous.
void AppendTextValue(std::string_view v, std::string* out) {
  bool quote = v.empty();
  for (unsigned char c : v) quote = quote || c == ' ' || c == '"' || c == '=' || IsControl(c);
  if (quote) {
    AppendLogJsonString(v, out);
  } else {
    out->append(v);
  }
}

void RenderText(UnixNanos now, LogLevel level, std::string_view component, std::string_view message,
                std::initializer_list<LogField> fields, std::string* out) {
  AppendLogTime(now, out);
  out->push_back(' ');
  out->append(TextLevelName(level));
  out->append(" tempo[").append(component).append("]: ");
  AppendTextMessage(message, out);
  for (const LogField& f : fields) {
    out->push_back(' ');
    out->append(f.key).push_back('=');
    AppendTextValue(f.value, out);
  }
}

void RenderJson(UnixNanos now, LogLevel level, std::string_view component, std::string_view message,
                std::initializer_list<LogField> fields, std::string* out) {
  out->append("{\"time\":\"");
  AppendLogTime(now, out);
  out->append("\",\"level\":\"").append(LogLevelName(level));
  out->append("\",\"component\":");
  AppendLogJsonString(component, out);
  out->append(",\"message\":");
  AppendLogJsonString(message, out);
  for (const LogField& f : fields) {
    out->push_back(',');
    AppendLogJsonString(f.key, out);
    out->push_back(':');
    AppendLogJsonString(f.value, out);
  }
  out->push_back('}');
}

// The length of the valid UTF-8 sequence at the start of `s` (RFC 3629: no
// overlong forms, surrogates or code points above U+10FFFF), or 0.
size_t Utf8SequenceLength(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto continuation = [&](size_t i) { return i < s.size() && (byte(i) & 0xc0) == 0x80; };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return continuation(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (c == 0xe0 && byte(1) < 0xa0) return 0;   // overlong
    if (c == 0xed && byte(1) >= 0xa0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (c == 0xf0 && byte(1) < 0x90) return 0;   // overlong
    if (c == 0xf4 && byte(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status ConfigureLogging(const LogOptions& options) {
  if (options.level > LogLevel::kError) return Status::InvalidArgument("log level out of range");
  if (options.format > LogFormat::kJson) return Status::InvalidArgument("log format out of range");
  Logger& logger = TheLogger();
  logger.format.store(options.format, std::memory_order_relaxed);
  logger.logger.set_level(SpdLevel(options.level));
  return Status::OK();
}

LogOptions CurrentLogOptions() {
  Logger& logger = TheLogger();
  LogOptions options;
  options.format = logger.format.load(std::memory_order_relaxed);
  switch (logger.logger.level()) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      options.level = LogLevel::kDebug;
      break;
    case spdlog::level::info:
      options.level = LogLevel::kInfo;
      break;
    case spdlog::level::warn:
      options.level = LogLevel::kWarn;
      break;
    default:
      options.level = LogLevel::kError;
  }
  return options;
}

Result<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return Status::InvalidArgument("log level \"" + std::string(name) +
                                 "\": expected debug, info, warn or error");
}

Result<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return Status::InvalidArgument("log format \"" + std::string(name) + "\": expected text or json");
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "error";
}

std::string_view LogFormatName(LogFormat format) {
  return format == LogFormat::kJson ? "json" : "text";
}

bool LogEnabled(LogLevel level) { return TheLogger().logger.should_log(SpdLevel(level)); }

void Log(LogLevel level, std::string_view component, std::string_view message,
         std::initializer_list<LogField> fields) {
  Logger& logger = TheLogger();
  const spdlog::level::level_enum spd_level = SpdLevel(level);
  if (!logger.logger.should_log(spd_level)) return;
  size_t size = 96 + component.size() + message.size();
  for (const LogField& f : fields) size += 8 + f.key.size() + f.value.size();
  std::string line;
  line.reserve(size);
  const UnixNanos now = NowUnixNanos();
  if (logger.format.load(std::memory_order_relaxed) == LogFormat::kJson) {
    RenderJson(now, level, component, message, fields, &line);
  } else {
    RenderText(now, level, component, message, fields, &line);
  }
  logger.logger.log(spd_level, spdlog::string_view_t(line.data(), line.size()));
}

void LogLine(std::string_view component, std::string_view message) {
  Log(LogLevel::kInfo, component, message);
}

void LogLimiter::Log(std::string_view component, std::string_view message) {
  if (!LogEnabled(level_)) return;
  const int64_t now = SteadyMs();
  int64_t next = next_ms_.load(std::memory_order_relaxed);
  if (now < next ||
      !next_ms_.compare_exchange_strong(next, now + interval_ms_, std::memory_order_relaxed)) {
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const uint64_t held = suppressed_.exchange(0, std::memory_order_relaxed);
  if (held == 0) {
    tempo::Log(level_, component, message);
  } else {
    tempo::Log(
        level_, component,
        std::string(message) + " (and " + std::to_string(held) + " more since the last such line)");
  }
}

void AppendLogTime(UnixNanos at, std::string* out) {
  char text[kLogTimeBytes];
  FormatLogTime(at, text);
  out->append(text, kLogTimeBytes);
}

void FormatLogTime(UnixNanos at, char* out) {
  constexpr int64_t kNanosPerSecond = 1'000'000'000;
  constexpr int64_t kNanosPerMilli = 1'000'000;
  // Floor divisions, so that instants before 1970 count back from it.
  int64_t seconds = at / kNanosPerSecond;
  int64_t nanos = at % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --seconds;
  }
  // "YYYY-MM-DDTHH:MM:SS" of the last second this thread formatted: lines
  // come many to a second, so the calendar is worked out once a second.
  struct SecondText {
    int64_t second = INT64_MIN;
    char text[kRfc3339SecondBytes];
  };
  thread_local SecondText cache;
  if (cache.second != seconds) {
    FormatRfc3339Second(seconds, cache.text);
    cache.second = seconds;
  }
  const int64_t millis = nanos / kNanosPerMilli;
  std::memcpy(out, cache.text, sizeof cache.text);
  out[19] = '.';
  out[20] = static_cast<char>('0' + millis / 100);
  out[21] = static_cast<char>('0' + millis / 10 % 10);
  out[22] = static_cast<char>('0' + millis % 10);
  out[23] = 'Z';
}

void AppendLogJsonString(std::string_view s, std::string* out) {
  bool ascii = true;  // the common case, checked without decoding
  for (unsigned char c : s) ascii &= c < 0x80;
  if (ascii) {
    AppendJsonString(s, out);
    return;
  }
  size_t valid = 0;  // the prefix that is valid UTF-8
  while (valid < s.size()) {
    const size_t n = Utf8SequenceLength(s.substr(valid));
    if (n == 0) break;
    valid += n;
  }
  if (valid == s.size()) {
    AppendJsonString(s, out);
    return;
  }
  std::string repaired(s.substr(0, valid));
  for (size_t at = valid; at < s.size();) {
    const size_t n = Utf8SequenceLength(s.substr(at));
    if (n == 0) {
      repaired.append("\xef\xbf\xbd");  // U+FFFD
      ++at;
    } else {
      repaired.append(s.substr(at, n));
      at += n;
    }
  }
  AppendJsonString(repaired, out);
}

void SetLogSinkForTesting(std::function<void(std::string_view line)> sink) {
  TheLogger().sink->SetTestSink(std::move(sink));
}

}  // namespace tempo
