// The process log: both line formats, levels, JSON escaping (parsed back with
// simdjson), reconfiguration while other threads log, and LogLimiter.
#include "common/logging.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/time.h"

namespace tempo {
namespace {

using namespace std::chrono_literals;

// Captures the lines the logger writes, and restores stderr and the default
// settings afterwards.
class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ConfigureLogging({}).ok());
    SetLogSinkForTesting([this](std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(line);
    });
  }
  void TearDown() override {
    SetLogSinkForTesting(nullptr);
    EXPECT_TRUE(ConfigureLogging({}).ok());
  }

  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

  void Configure(LogLevel level, LogFormat format) {
    LogOptions options;
    options.level = level;
    options.format = format;
    ASSERT_TRUE(ConfigureLogging(options).ok());
  }

  std::mutex mu_;
  std::vector<std::string> lines_;
};

// The members of the JSON object `line` (strings as they decode, numbers in
// decimal), or a test failure when it is not one valid JSON object.
std::map<std::string, std::string> ParseJsonObject(const std::string& line) {
  std::map<std::string, std::string> members;
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(line).get(object) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not a JSON object: " << line;
    return members;
  }
  for (auto [key, value] : object) {
    std::string_view s;
    int64_t n;
    if (value.get_string().get(s) == simdjson::SUCCESS) {
      members[std::string(key)] = std::string(s);
    } else if (value.get_int64().get(n) == simdjson::SUCCESS) {
      members[std::string(key)] = std::to_string(n);
    } else {
      ADD_FAILURE() << "member " << key << " is neither a string nor an integer: " << line;
    }
  }
  return members;
}

// Whether `s` is a log time: "2026-12-07T01:14:58.123Z" (RFC 3339, milliseconds).
// (No std::regex: GCC 12's <regex> fails -Werror under the sanitizers.)
bool IsLogTime(std::string_view s) {
  return s.size() == kLogTimeBytes && s[19] == '.' && ParseRfc3339(s).has_value();
}

// Splits a text line into its time and the rest (from the space after it).
std::pair<std::string_view, std::string_view> SplitTime(std::string_view line) {
  const size_t n = std::min(line.size(), kLogTimeBytes);
  return {line.substr(0, n), line.substr(n)};
}

TEST_F(LoggingTest, TextLineHasTimeLevelComponentMessageAndFields) {
  Log(LogLevel::kWarn, "origin", "unreachable: connection refused",
      {{"request_id", "4f1c"}, {"node", "10.0.0.1:5432"}});
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto [time, rest] = SplitTime(lines[0]);
  EXPECT_TRUE(IsLogTime(time)) << lines[0];
  EXPECT_EQ(rest,
            " WARN tempo[origin]: unreachable: connection refused request_id=4f1c "
            "node=10.0.0.1:5432");
}

TEST_F(LoggingTest, TextTimeIsNow) {
  const UnixNanos before = NowUnixNanos() / 1'000'000 * 1'000'000;  // the line has milliseconds
  LogLine("serve", "started");
  const UnixNanos after = NowUnixNanos();
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto at = ParseRfc3339(lines[0].substr(0, lines[0].find(' ')));
  ASSERT_TRUE(at.has_value()) << lines[0];
  EXPECT_GE(*at, before);
  EXPECT_LE(*at, after);
}

TEST_F(LoggingTest, LogLineIsInfo) {
  LogLine("serve", "listening");
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(" INFO tempo[serve]: listening"), std::string::npos) << lines[0];
}

TEST_F(LoggingTest, TextKeepsAnEventOnOneLineAndQuotesAmbiguousValues) {
  Log(LogLevel::kError, "sync", "first\nsecond\tthird\x01",
      {{"why", "two words"}, {"eq", "a=b"}, {"empty", ""}, {"quote", "say \"hi\""}});
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  const std::string& line = lines[0];
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find(R"(ERROR tempo[sync]: first\nsecond\tthird\x01 )"), std::string::npos)
      << line;
  EXPECT_NE(line.find(R"(why="two words" eq="a=b" empty="" quote="say \"hi\"")"), std::string::npos)
      << line;
}

TEST_F(LoggingTest, JsonLineParsesBackToWhatWasLogged) {
  Configure(LogLevel::kInfo, LogFormat::kJson);
  const std::string message = "quote \" backslash \\ newline \n tab \t bell \x07 del \x7f é";
  Log(LogLevel::kError, "l2", message, {{"request_id", "r-1"}, {"path", "/a\"b\\c"}});
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find('\n'), std::string::npos);
  auto members = ParseJsonObject(lines[0]);
  EXPECT_TRUE(IsLogTime(members["time"])) << members["time"];
  EXPECT_EQ(members["level"], "error");
  EXPECT_EQ(members["component"], "l2");
  EXPECT_EQ(members["message"], message);
  EXPECT_EQ(members["request_id"], "r-1");
  EXPECT_EQ(members["path"], "/a\"b\\c");
  EXPECT_EQ(members.size(), 6u);
}

TEST_F(LoggingTest, JsonLineReplacesInvalidUtf8) {
  Configure(LogLevel::kInfo, LogFormat::kJson);
  // A stray continuation byte, a truncated sequence, an overlong '/', a surrogate.
  Log(LogLevel::kWarn, "http", "a\x80z \xc3 \xc0\xaf \xed\xa0\x80 ok", {{"raw", "\xff"}});
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  auto members = ParseJsonObject(lines[0]);  // simdjson rejects invalid UTF-8
  EXPECT_EQ(members["message"], "a\ufffdz \ufffd \ufffd\ufffd \ufffd\ufffd\ufffd ok");
  EXPECT_EQ(members["raw"], "\ufffd");
}

TEST_F(LoggingTest, LinesBelowTheLevelAreDropped) {
  Configure(LogLevel::kWarn, LogFormat::kText);
  EXPECT_FALSE(LogEnabled(LogLevel::kDebug));
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kWarn));
  EXPECT_TRUE(LogEnabled(LogLevel::kError));
  Log(LogLevel::kDebug, "c", "debug");
  LogLine("c", "info");
  Log(LogLevel::kWarn, "c", "warn");
  Log(LogLevel::kError, "c", "error");
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("WARN tempo[c]: warn"), std::string::npos);
  EXPECT_NE(lines[1].find("ERROR tempo[c]: error"), std::string::npos);

  Configure(LogLevel::kDebug, LogFormat::kText);
  Log(LogLevel::kDebug, "c", "debug");
  ASSERT_EQ(Lines().size(), 3u);
  EXPECT_NE(Lines()[2].find("DEBUG tempo[c]: debug"), std::string::npos);
}

TEST_F(LoggingTest, CurrentOptionsAreTheConfiguredOnes) {
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    for (LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
      Configure(level, format);
      EXPECT_EQ(CurrentLogOptions().level, level);
      EXPECT_EQ(CurrentLogOptions().format, format);
    }
  }
}

TEST_F(LoggingTest, ConfigureRejectsValuesOutOfRange) {
  LogOptions options;
  options.level = static_cast<LogLevel>(9);
  EXPECT_EQ(ConfigureLogging(options).code(), Status::Code::kInvalidArgument);
  options = {};
  options.format = static_cast<LogFormat>(9);
  EXPECT_EQ(ConfigureLogging(options).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(CurrentLogOptions().level, LogLevel::kInfo);  // unchanged
}

TEST(LogNamesTest, ParseAndNameRoundTrip) {
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    auto parsed = ParseLogLevel(LogLevelName(level));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, level);
  }
  EXPECT_EQ(*ParseLogLevel("warning"), LogLevel::kWarn);
  for (LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    auto parsed = ParseLogFormat(LogFormatName(format));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, format);
  }
}

TEST(LogNamesTest, UnknownNamesListTheAcceptedOnes) {
  auto level = ParseLogLevel("verbose");
  ASSERT_FALSE(level.ok());
  EXPECT_EQ(level.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(level.status().message(), "log level \"verbose\": expected debug, info, warn or error");
  auto format = ParseLogFormat("xml");
  ASSERT_FALSE(format.ok());
  EXPECT_EQ(format.status().message(), "log format \"xml\": expected text or json");
  EXPECT_FALSE(ParseLogLevel("INFO").ok());  // the names are lower-case
}

// Four threads log while the main thread keeps changing the level and the
// format: every line that comes out is one whole line of one format.
TEST_F(LoggingTest, ReconfigureWhileOtherThreadsLog) {
  constexpr int kThreads = 4;
  constexpr int kLinesPerThread = 2000;
  std::atomic<int> running{kThreads};
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  // Each thread's first line goes out under a level that lets it through
  // (whatever the scheduler does next), before the reconfigurations begin.
  Configure(LogLevel::kInfo, LogFormat::kText);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &running, &started] {
      const std::string component = "t" + std::to_string(t);
      for (int i = 0; i < kLinesPerThread; ++i) {
        Log(LogLevel::kWarn, component, "line " + std::to_string(i), {{"k", "v w"}});
        if (i == 0) started.fetch_add(1);
      }
      running.fetch_sub(1);
    });
  }
  while (started.load() < kThreads) std::this_thread::yield();
  int reconfigurations = 0;
  // At least once, however fast the threads were: they may all be done.
  do {
    Configure(reconfigurations % 3 == 0 ? LogLevel::kError : LogLevel::kInfo,
              reconfigurations % 2 == 0 ? LogFormat::kJson : LogFormat::kText);
    ++reconfigurations;
  } while (running.load() > 0);
  for (auto& t : threads) t.join();

  const auto lines = Lines();
  EXPECT_GT(reconfigurations, 0);
  EXPECT_GT(lines.size(), 0u);
  EXPECT_LE(lines.size(), static_cast<size_t>(kThreads * kLinesPerThread));
  for (const std::string& line : lines) {
    if (line.front() == '{') {
      auto members = ParseJsonObject(line);
      EXPECT_EQ(members["level"], "warn");
      EXPECT_EQ(members["k"], "v w");
    } else {
      const auto [time, rest] = SplitTime(line);
      EXPECT_TRUE(IsLogTime(time)) << line;
      EXPECT_EQ(rest.substr(0, 13), " WARN tempo[t") << line;
      EXPECT_NE(rest.find("]: line "), std::string_view::npos) << line;
      EXPECT_TRUE(rest.ends_with(" k=\"v w\"")) << line;
    }
  }
}

// The events a limiter line reports it held back: N of "(and N more ...)", or 0.
int HeldBack(const std::string& line) {
  const std::string held = "corrupt value (and ";
  const size_t at = line.find(held);
  return at == std::string::npos ? 0 : std::stoi(line.substr(at + held.size()));
}

// Every event a limiter is given is either logged or counted in a later
// line's "(and N more ...)", whatever the timing (a stalled test thread may
// let more than one line through).
TEST_F(LoggingTest, LimiterLogsOneLinePerIntervalAndCountsTheRest) {
  LogLimiter limiter(50ms);
  int events = 0;
  for (; events < 6; ++events) limiter.Log("l2", "corrupt value");  // the first goes out
  const auto reported_some = [this] {
    const auto lines = Lines();
    return std::any_of(lines.begin(), lines.end(),
                       [](const std::string& line) { return HeldBack(line) > 0; });
  };
  // Events keep coming until a line goes out again (an interval later) with the count.
  for (int i = 0; i < 1000 && !reported_some(); ++i, ++events) {
    std::this_thread::sleep_for(5ms);
    limiter.Log("l2", "corrupt value");
  }
  const auto lines = Lines();
  ASSERT_TRUE(reported_some());
  EXPECT_LT(lines.size(), static_cast<size_t>(events));
  EXPECT_TRUE(lines[0].ends_with(" WARN tempo[l2]: corrupt value")) << lines[0];
  int accounted = 0;
  for (const std::string& line : lines) accounted += 1 + HeldBack(line);
  EXPECT_EQ(accounted, events);
}

TEST_F(LoggingTest, LimiterHasItsOwnLevel) {
  Configure(LogLevel::kWarn, LogFormat::kText);
  LogLimiter info(1h, LogLevel::kInfo);
  info.Log("c", "dropped: below the level");
  LogLimiter error(1h, LogLevel::kError);
  error.Log("c", "kept");
  error.Log("c", "held back");
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("ERROR tempo[c]: kept"), std::string::npos) << lines[0];
}

TEST(AppendLogTimeTest, MillisecondsInUtc) {
  const auto format = [](UnixNanos at) {
    std::string out = "x";
    AppendLogTime(at, &out);
    return out;
  };
  EXPECT_EQ(format(0), "x1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format(1'796'606'098'123'456'789), "x2026-12-07T01:14:58.123Z");
  EXPECT_EQ(format(-1), "x1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format(951'782'400'000'000'000), "x2000-02-29T00:00:00.000Z");
}

// The per-thread cache of the second never shows a stale date: checked
// against time.h's formatter over a century of instants (from 1906), most
// steps under 3 s so that consecutive ones often share a second.
TEST(AppendLogTimeTest, AgreesWithFormatRfc3339) {
  constexpr int64_t kNanosPerSecond = 1'000'000'000;
  constexpr int64_t kNanosPerYear = 365 * 86'400 * kNanosPerSecond;
  UnixNanos at = -2'000'000'000'000'000'000;
  uint64_t state = 12345;
  for (int i = 0; i < 20'000; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const uint64_t range = i % 100 == 0 ? kNanosPerYear : 3 * kNanosPerSecond;
    at += static_cast<int64_t>((state >> 8) % range);
    const int64_t nanos = (at % kNanosPerSecond + kNanosPerSecond) % kNanosPerSecond;
    std::string expected = FormatRfc3339(at - nanos);  // a whole second: no fraction
    expected.pop_back();                               // 'Z'
    char tail[8];
    std::snprintf(tail, sizeof tail, ".%03dZ", static_cast<int>(nanos / 1'000'000));
    expected += tail;
    std::string got;
    AppendLogTime(at, &got);
    ASSERT_EQ(got, expected) << at;
  }
}

}  // namespace
}  // namespace tempo
