// The access log against real files and pipes: both line formats, sampling,
// concurrent writers, rotation, flushing, a stuck reader, and bad settings.
#include "http/access_log.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testing/temp_dir.h"

namespace tempo::http {
namespace {

using namespace std::chrono_literals;

// 2026-12-07T01:14:58.123456789Z
constexpr UnixNanos kTime = 1'796'606'098'123'456'789;

AccessRecord Record(std::string_view target = "/v1/acme/web/home") {
  AccessRecord r;
  r.time = kTime;
  r.request_id = "4f1c9a0e";
  r.client_address = "10.0.0.7:51234";
  r.method = "GET";
  r.target = target;
  r.tier = "L1";
  r.status = 200;
  r.bytes = 1420;
  r.duration_us = 57;
  return r;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::unique_ptr<AccessLog> OpenOrDie(const std::string& where, double sample = 1.0,
                                     LogFormat format = LogFormat::kText) {
  auto log = AccessLog::Open(where, sample, format);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return log.ok() ? std::move(*log) : nullptr;
}

class AccessLogTest : public ::testing::Test {
 protected:
  testing::TempDir dir_{"access_log_test"};
  const std::string path_ = dir_.path() + "/access.log";
};

TEST_F(AccessLogTest, TextLines) {
  auto log = OpenOrDie(path_);
  ASSERT_NE(log, nullptr);
  log->Write(Record());
  AccessRecord traced = Record("/v1/a?q=1");
  traced.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  traced.status = 304;
  traced.bytes = 0;
  log->Write(traced);
  // A server's own answer: no tier; a target with a quote, a space and UTF-8.
  AccessRecord odd = Record("/a\"b c/\xc3\xa9");
  odd.tier = "";
  odd.status = 400;
  log->Write(odd);
  log->Flush();
  EXPECT_EQ(ReadLines(path_),
            (std::vector<std::string>{
                R"(2026-12-07T01:14:58.123Z 4f1c9a0e 10.0.0.7:51234 "GET /v1/acme/web/home" )"
                R"(200 1420 L1 57us)",
                R"(2026-12-07T01:14:58.123Z 4f1c9a0e 10.0.0.7:51234 "GET /v1/a?q=1" 304 0 L1 )"
                R"(57us traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01)",
                R"(2026-12-07T01:14:58.123Z 4f1c9a0e 10.0.0.7:51234 )"
                R"("GET /a\x22b\x20c/\xc3\xa9" 400 1420 - 57us)",
            }));
  EXPECT_EQ(log->Stats().lines_written, 3u);
  EXPECT_EQ(log->Stats().lines_dropped, 0u);
}

TEST_F(AccessLogTest, JsonLinesParse) {
  auto log = OpenOrDie(path_, 1.0, LogFormat::kJson);
  ASSERT_NE(log, nullptr);
  AccessRecord traced = Record("/a\"b\\c?\xff");  // not UTF-8: becomes U+FFFD
  traced.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  log->Write(traced);
  AccessRecord untiered = Record();
  untiered.tier = "";
  log->Write(untiered);
  log->Flush();
  const auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 2u);
  simdjson::dom::parser parser;
  for (size_t i = 0; i < lines.size(); ++i) {
    simdjson::dom::object o;
    ASSERT_EQ(parser.parse(lines[i]).get(o), simdjson::SUCCESS) << lines[i];
    EXPECT_EQ(std::string_view(o["time"]), "2026-12-07T01:14:58.123Z");
    EXPECT_EQ(std::string_view(o["request_id"]), "4f1c9a0e");
    EXPECT_EQ(std::string_view(o["client"]), "10.0.0.7:51234");
    EXPECT_EQ(std::string_view(o["method"]), "GET");
    EXPECT_EQ(int64_t(o["status"]), 200);
    EXPECT_EQ(int64_t(o["bytes"]), 1420);
    EXPECT_EQ(int64_t(o["duration_us"]), 57);
    if (i == 0) {
      EXPECT_EQ(std::string_view(o["target"]), "/a\"b\\c?\ufffd");
      EXPECT_EQ(std::string_view(o["tier"]), "L1");
      EXPECT_EQ(std::string_view(o["traceparent"]),
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
      EXPECT_EQ(o.size(), 10u);
    } else {
      EXPECT_EQ(std::string_view(o["target"]), "/v1/acme/web/home");
      EXPECT_EQ(o.size(), 8u);  // no tier, no traceparent
    }
  }
}

// The per-thread generator is seeded, so the count is the same every run;
// the bounds say what it must be near.
TEST_F(AccessLogTest, SamplingTakesAboutTheFraction) {
  constexpr int kRequests = 20'000;
  for (double sample : {0.0, 0.01, 0.25, 0.5, 1.0}) {
    const std::string path = path_ + std::to_string(sample);
    auto log = OpenOrDie(path, sample);
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < kRequests; ++i) log->Write(Record());
    log->Flush();
    const double written = static_cast<double>(ReadLines(path).size());
    EXPECT_EQ(written, static_cast<double>(log->Stats().lines_written));
    // Three standard deviations of a binomial.
    const double slack = 3 * std::sqrt(kRequests * sample * (1 - sample));
    EXPECT_NEAR(written, kRequests * sample, slack) << "sample " << sample;
  }
}

// Several threads write at once, past the chunk size: every line is whole,
// each thread's lines are in the order it wrote them, none is lost.
TEST_F(AccessLogTest, ConcurrentWritersProduceWholeLinesInOrder) {
  constexpr int kThreads = 4;
  constexpr int kLinesPerThread = 5'000;  // ~0.5 MB each: several chunks, under the bound
  auto log = OpenOrDie(path_);
  ASSERT_NE(log, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &log] {
      for (int i = 0; i < kLinesPerThread; ++i) {
        const std::string target = "/t" + std::to_string(t) + "/" + std::to_string(i);
        log->Write(Record(target));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  log->Flush();
  const auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLinesPerThread));
  // "<prefix><t>/<i><suffix>", written by thread t as its line i.
  const std::string prefix = R"(2026-12-07T01:14:58.123Z 4f1c9a0e 10.0.0.7:51234 "GET /t)";
  const std::string suffix = R"(" 200 1420 L1 57us)";
  std::vector<int> next(kThreads, 0);
  for (const std::string& line : lines) {
    ASSERT_TRUE(line.starts_with(prefix) && line.ends_with(suffix)) << line;
    int t = -1, i = -1;
    ASSERT_EQ(std::sscanf(line.c_str() + prefix.size(), "%d/%d", &t, &i), 2) << line;
    ASSERT_TRUE(t >= 0 && t < kThreads) << line;
    ASSERT_EQ(i, next[t]) << "thread " << t << " out of order: " << line;
    ++next[t];
  }
  EXPECT_EQ(log->Stats().lines_written, static_cast<uint64_t>(kThreads * kLinesPerThread));
  EXPECT_EQ(log->Stats().lines_dropped, 0u);
}

TEST_F(AccessLogTest, ReopenAfterRenameWritesToTheNewFile) {
  auto log = OpenOrDie(path_);
  ASSERT_NE(log, nullptr);
  log->Write(Record("/before"));
  log->Flush();
  ASSERT_EQ(std::rename(path_.c_str(), (path_ + ".1").c_str()), 0);
  ASSERT_TRUE(log->Reopen().ok());
  log->Write(Record("/after"));
  log->Flush();
  const auto rotated = ReadLines(path_ + ".1");
  const auto current = ReadLines(path_);
  ASSERT_EQ(rotated.size(), 1u);
  EXPECT_NE(rotated[0].find("/before"), std::string::npos);
  ASSERT_EQ(current.size(), 1u);
  EXPECT_NE(current[0].find("/after"), std::string::npos);
}

TEST_F(AccessLogTest, ReopenKeepsTheOldFileWhenThePathCannotBeOpened) {
  testing::TempDir other("access_log_test_gone");
  const std::string path = other.path() + "/access.log";
  auto log = OpenOrDie(path);
  ASSERT_NE(log, nullptr);
  ASSERT_EQ(std::rename(path.c_str(), path_.c_str()), 0);
  ASSERT_EQ(::rmdir(other.path().c_str()), 0);
  Status st = log->Reopen();
  EXPECT_EQ(st.code(), Status::Code::kIOError);
  EXPECT_NE(st.message().find(path), std::string::npos) << st.ToString();
  ASSERT_EQ(::mkdir(other.path().c_str(), 0700), 0);  // for TempDir's cleanup
  log->Write(Record("/still"));
  log->Flush();
  ASSERT_EQ(ReadLines(path_).size(), 1u);  // the open file, under its new name
}

TEST_F(AccessLogTest, DestructorWritesEverything) {
  constexpr int kLines = 100;  // far below a chunk: only in the thread's buffer
  auto log = OpenOrDie(path_);
  ASSERT_NE(log, nullptr);
  std::thread writer([&log] {
    for (int i = 0; i < kLines; ++i) log->Write(Record());
  });
  writer.join();
  for (int i = 0; i < kLines; ++i) log->Write(Record());
  log.reset();
  EXPECT_EQ(ReadLines(path_).size(), 2u * kLines);
}

// Without Flush, the writer takes a partial buffer within an interval.
TEST_F(AccessLogTest, BackgroundWriterWritesPartialBuffers) {
  auto log = OpenOrDie(path_);
  ASSERT_NE(log, nullptr);
  log->Write(Record());
  for (int i = 0; i < 500 && ReadLines(path_).empty(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(ReadLines(path_).size(), 1u);
}

// A reader that stops reading (a stuck disk): Write keeps returning, the
// lines past the bound are dropped and counted, and every line is either
// written or counted as dropped.
TEST_F(AccessLogTest, DropsAndCountsWhenTheWriterFallsBehind) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto log = OpenOrDie("/dev/fd/" + std::to_string(fds[1]));
  ::close(fds[1]);
  ASSERT_NE(log, nullptr);
  // The pipe holds 64 KiB; the writer blocks on it with a chunk in hand and
  // kAccessLogMaxPendingBytes queued behind it; the rest must be dropped.
  constexpr uint64_t kLines = 2 * kAccessLogMaxPendingBytes / 80;  // lines are ~100 bytes
  for (uint64_t i = 0; i < kLines; ++i) log->Write(Record());
  EXPECT_GT(log->Stats().lines_dropped, 0u);

  uint64_t newlines = 0;
  std::thread reader([&newlines, fd = fds[0]] {
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) {
      newlines += static_cast<uint64_t>(std::count(buf, buf + n, '\n'));
    }
  });
  const AccessLogStats before_close = log->Stats();
  log.reset();  // writes the rest and closes its end: the reader sees EOF
  reader.join();
  ::close(fds[0]);
  EXPECT_GE(newlines, before_close.lines_written);
  EXPECT_EQ(newlines + before_close.lines_dropped, kLines);
}

// A disk that is full: the lines are counted as dropped, and the process log
// says so (once per interval).
TEST_F(AccessLogTest, AFailedWriteCountsItsLinesAsDropped) {
  auto log = OpenOrDie("/dev/full");
  ASSERT_NE(log, nullptr);
  std::vector<std::string> logged;
  SetLogSinkForTesting([&logged](std::string_view line) { logged.emplace_back(line); });
  for (int i = 0; i < 10; ++i) log->Write(Record());
  log->Flush();
  log->Write(Record());
  log->Flush();
  SetLogSinkForTesting(nullptr);
  EXPECT_EQ(log->Stats().lines_written, 0u);
  EXPECT_EQ(log->Stats().lines_dropped, 11u);
  ASSERT_EQ(logged.size(), 1u);  // the second failure is within the interval
  // "... N lines dropped": N is 10 unless the writer's sweep took some lines first.
  EXPECT_NE(logged[0].find(" ERROR tempo[http]: access log /dev/full: write failed (No space "
                           "left on device); "),
            std::string::npos)
      << logged[0];
}

TEST_F(AccessLogTest, ReconfigureChangesSampleAndFormat) {
  auto log = OpenOrDie(path_);
  ASSERT_NE(log, nullptr);
  log->Write(Record());
  ASSERT_TRUE(log->Reconfigure(1.0, LogFormat::kJson).ok());
  log->Write(Record());
  ASSERT_TRUE(log->Reconfigure(0.0, LogFormat::kJson).ok());
  log->Write(Record());
  EXPECT_EQ(log->Reconfigure(2.0, LogFormat::kText).code(), Status::Code::kInvalidArgument);
  log->Write(Record());  // still sample 0
  log->Flush();
  const auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].front(), '2');
  EXPECT_EQ(lines[1].front(), '{');
}

TEST_F(AccessLogTest, OffStderrAndBadSettings) {
  auto off = AccessLog::Open("off", 1.0, LogFormat::kText);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, nullptr);

  auto err = AccessLog::Open("stderr", 0.5, LogFormat::kJson);
  ASSERT_TRUE(err.ok());
  ASSERT_NE(*err, nullptr);
  EXPECT_EQ((*err)->where(), "stderr");
  EXPECT_TRUE((*err)->Reopen().ok());

  auto missing = AccessLog::Open(dir_.path() + "/no/such/dir/access.log", 1.0, LogFormat::kText);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kIOError);
  EXPECT_EQ(missing.status().message(), "access log " + dir_.path() +
                                            "/no/such/dir/access.log: cannot open for writing: "
                                            "No such file or directory");
  auto directory = AccessLog::Open(dir_.path(), 1.0, LogFormat::kText);
  EXPECT_EQ(directory.status().code(), Status::Code::kIOError);

  for (double bad : {-0.1, 1.5, std::nan("")}) {
    auto sampled = AccessLog::Open(path_, bad, LogFormat::kText);
    ASSERT_FALSE(sampled.ok()) << bad;
    EXPECT_EQ(sampled.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(sampled.status().message().find("expected a fraction from 0 to 1"),
              std::string::npos);
  }
  EXPECT_EQ(AccessLog::Open("", 1.0, LogFormat::kText).status().code(),
            Status::Code::kInvalidArgument);
}

// Two logs used by the same threads in turn (a reload that replaces one)
// each get their own lines.
TEST_F(AccessLogTest, TwoLogsOnOneThread) {
  auto a = OpenOrDie(path_ + ".a");
  auto b = OpenOrDie(path_ + ".b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  for (int i = 0; i < 10; ++i) {
    a->Write(Record("/a"));
    b->Write(Record("/b"));
  }
  a->Flush();
  b->Flush();
  const auto lines_a = ReadLines(path_ + ".a");
  const auto lines_b = ReadLines(path_ + ".b");
  ASSERT_EQ(lines_a.size(), 10u);
  ASSERT_EQ(lines_b.size(), 10u);
  EXPECT_NE(lines_a[9].find("/a\""), std::string::npos);
  EXPECT_NE(lines_b[9].find("/b\""), std::string::npos);
}

}  // namespace
}  // namespace tempo::http
