// Tests of the embedded log's retention: by size and by age, only segments
// every group has read, never the last one, and what readers and writers
// whose segments were deleted do next.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "common/logging.h"
#include "log/file.h"
#include "log/layout.h"
#include "log/log.h"
#include "testing/temp_dir.h"

namespace tempo::log {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto kFlushTimeout = 5s;
constexpr auto kWaitForMessages = 5s;
// Small segments: a 100-byte value makes a record of about 140 bytes, so a
// segment holds about 8 records and 100 messages make a dozen segments.
constexpr size_t kSegmentBytes = 1000;
constexpr int kMessages = 100;

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = root_.path() + "/log";
    fs::create_directory(dir_);
  }

  std::unique_ptr<stream::Producer> Producer() {
    LogOptions options;
    options.segment_bytes = kSegmentBytes;
    auto p = OpenLogProducer(dir_, options);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(*p) : nullptr;
  }

  std::unique_ptr<stream::Consumer> Consumer(std::string group, std::string topic = "t") {
    auto c = OpenLogConsumer(dir_, std::move(group), {std::move(topic)}, StartAt::kEarliest);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  // Sends messages [from, to) to `topic`, each with a 100-byte value, and
  // flushes.
  static void Send(stream::Producer& p, int from, int to, std::string_view topic = "t") {
    for (int i = from; i < to; ++i) {
      std::string value = std::to_string(i);
      value.resize(100, '.');
      ASSERT_TRUE(p.Send(topic, "k" + std::to_string(i), value).ok());
    }
    ASSERT_TRUE(p.Flush(kFlushTimeout).ok());
  }

  // Polls until `n` messages arrived (or kWaitForMessages passed).
  static std::vector<stream::Message> PollN(stream::Consumer& c, size_t n) {
    std::vector<stream::Message> all;
    auto deadline = std::chrono::steady_clock::now() + kWaitForMessages;
    while (all.size() < n && std::chrono::steady_clock::now() < deadline) {
      auto got = c.Poll(n - all.size(), 100ms);
      EXPECT_TRUE(got.ok()) << got.status().ToString();
      if (!got.ok()) break;
      for (auto& m : *got) all.push_back(std::move(m));
    }
    return all;
  }

  // Reads the next `n` messages as `group` and commits them.
  void ReadAndCommit(const std::string& group, size_t n, std::string topic = "t") {
    auto c = Consumer(group, std::move(topic));
    ASSERT_NE(c, nullptr);
    auto got = PollN(*c, n);
    ASSERT_EQ(got.size(), n);
    ASSERT_TRUE(c->Commit(got).ok());
  }

  std::vector<int64_t> Segments(std::string_view topic = "t") const {
    auto bases = ListSegments(TopicDir(dir_, topic));
    EXPECT_TRUE(bases.ok());
    return bases.ok() ? *bases : std::vector<int64_t>{};
  }

  uint64_t SegmentBytes(int64_t base, std::string_view topic = "t") const {
    return fs::file_size(SegmentPath(TopicDir(dir_, topic), base));
  }

  uint64_t TopicBytes(std::string_view topic = "t") const {
    uint64_t total = 0;
    for (int64_t base : Segments(topic)) total += SegmentBytes(base, topic);
    return total;
  }

  RetentionStats Enforce(const RetentionOptions& options) {
    RetentionStats stats;
    Status s = EnforceRetention(dir_, options, &stats);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return stats;
  }

  static RetentionOptions MaxBytes(uint64_t bytes) {
    RetentionOptions options;
    options.max_bytes = bytes;
    return options;
  }

  ::tempo::testing::TempDir root_{"tempo_log_retention"};
  std::string dir_;
};

TEST_F(RetentionTest, BySizeDeletesTheOldestReadSegmentsUntilTheTopicFits) {
  auto p = Producer();
  Send(*p, 0, kMessages);
  ReadAndCommit("g", kMessages);
  const std::vector<int64_t> before = Segments();
  ASSERT_GE(before.size(), 10u);
  std::vector<uint64_t> sizes;
  for (int64_t base : before) sizes.push_back(SegmentBytes(base));
  const uint64_t total = TopicBytes();
  constexpr uint64_t kLimit = 3 * kSegmentBytes;

  RetentionStats stats = Enforce(MaxBytes(kLimit));
  const std::vector<int64_t> after = Segments();
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(after.back(), before.back());
  EXPECT_LE(TopicBytes(), kLimit);
  // No more than needed: with the last deleted segment back it would not fit.
  const size_t deleted = before.size() - after.size();
  ASSERT_GT(deleted, 0u);
  EXPECT_EQ(after.front(), before[deleted]);
  EXPECT_GT(TopicBytes() + sizes[deleted - 1], kLimit);
  EXPECT_EQ(stats.deleted_segments, deleted);
  EXPECT_EQ(stats.deleted_bytes, total - TopicBytes());

  // Offsets do not move: the end is where it was, and a new group starts at
  // the earliest record left.
  auto end = EndOffset(dir_, "t");
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(*end, kMessages);
  auto c = Consumer("late");
  auto got = PollN(*c, static_cast<size_t>(kMessages - after.front()));
  ASSERT_EQ(got.size(), static_cast<size_t>(kMessages - after.front()));
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].offset, after.front() + int64_t(i));

  // A second pass finds nothing more to do.
  EXPECT_EQ(Enforce(MaxBytes(kLimit)).deleted_segments, 0u);
}

TEST_F(RetentionTest, ByAgeDeletesSegmentsWhoseNewestRecordIsOlder) {
  auto p = Producer();
  Send(*p, 0, kMessages);
  ReadAndCommit("g", kMessages);
  const std::vector<int64_t> before = Segments();
  ASSERT_GE(before.size(), 5u);
  // The first three segments were last written three hours ago.
  for (size_t i = 0; i < 3; ++i) {
    std::string path = SegmentPath(TopicDir(dir_, "t"), before[i]);
    fs::last_write_time(path, fs::last_write_time(path) - 3h);
  }
  RetentionOptions options;
  options.max_age = 2h;
  RetentionStats stats = Enforce(options);
  EXPECT_EQ(stats.deleted_segments, 3u);
  EXPECT_EQ(Segments(), std::vector<int64_t>(before.begin() + 3, before.end()));

  options.max_age = 4h;
  EXPECT_EQ(Enforce(options).deleted_segments, 0u);
}

TEST_F(RetentionTest, OnlySegmentsTheSlowestGroupHasReadGo) {
  auto p = Producer();
  Send(*p, 0, kMessages);
  ReadAndCommit("fast", kMessages);
  constexpr int kSlowRead = 25;
  ReadAndCommit("slow", kSlowRead);
  const std::vector<int64_t> before = Segments();

  // Over any size limit, and old: only the slow group holds segments back.
  for (const auto& b : before) {
    std::string path = SegmentPath(TopicDir(dir_, "t"), b);
    fs::last_write_time(path, fs::last_write_time(path) - 3h);
  }
  RetentionOptions options = MaxBytes(1);
  options.max_age = 1h;
  Enforce(options);
  // The segment that holds offset 25 is the first one left.
  auto holding = std::upper_bound(before.begin(), before.end(), kSlowRead) - 1;
  EXPECT_EQ(Segments(), std::vector<int64_t>(holding, before.end()));

  // The slow group reads on from where it was, without a gap.
  auto c = Consumer("slow");
  auto got = PollN(*c, kMessages - kSlowRead);
  ASSERT_EQ(got.size(), static_cast<size_t>(kMessages - kSlowRead));
  EXPECT_EQ(got.front().offset, kSlowRead);
  EXPECT_EQ(got.back().offset, kMessages - 1);
  ASSERT_TRUE(c->Commit(got).ok());

  Enforce(options);
  EXPECT_EQ(Segments(), std::vector<int64_t>{before.back()});
}

TEST_F(RetentionTest, TheLastSegmentStaysAndWritersGoOnAfterIt) {
  // `early` appends first and keeps segment 0 open; `p` then fills and rolls
  // a dozen segments, which retention deletes, segment 0 with them.
  auto early = Producer();
  Send(*early, 0, 1);
  auto p = Producer();
  Send(*p, 1, kMessages);
  ReadAndCommit("g", kMessages);
  const std::vector<int64_t> before = Segments();
  ASSERT_GE(before.size(), 10u);

  RetentionStats stats = Enforce(MaxBytes(1));
  EXPECT_EQ(Segments(), std::vector<int64_t>{before.back()});
  EXPECT_EQ(stats.deleted_segments, before.size() - 1);

  // Both writers append after the last record, to the last segment.
  Send(*early, kMessages, kMessages + 1);
  Send(*p, kMessages + 1, kMessages + 2);
  auto end = EndOffset(dir_, "t");
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(*end, kMessages + 2);
  auto c = Consumer("g");
  auto got = PollN(*c, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].offset, kMessages);
  EXPECT_EQ(got[0].key, "k" + std::to_string(kMessages));
  EXPECT_EQ(got[1].offset, kMessages + 1);
  EXPECT_EQ(Segments().front(), before.back());
}

TEST_F(RetentionTest, AReaderWhosePositionWasDeletedGoesOnFromTheEarliestLeft) {
  auto p = Producer();
  Send(*p, 0, kMessages);
  ReadAndCommit("g", kMessages);
  // A consumer of a group that has not committed yet, in the middle of
  // segment 0: retention does not wait for it.
  auto reader = Consumer("reader");
  auto first = PollN(*reader, 3);
  ASSERT_EQ(first.size(), 3u);
  const std::vector<int64_t> before = Segments();
  Enforce(MaxBytes(1));
  const int64_t earliest = before.back();
  ASSERT_EQ(Segments(), std::vector<int64_t>{earliest});

  // It finishes the segment it has open, then jumps to the earliest record
  // left: offsets rise, with one gap, up to the end, and the gap is logged.
  std::vector<std::string> lines;
  SetLogSinkForTesting([&](std::string_view line) { lines.emplace_back(line); });
  std::vector<stream::Message> rest;
  auto deadline = std::chrono::steady_clock::now() + kWaitForMessages;
  while ((rest.empty() || rest.back().offset < kMessages - 1) &&
         std::chrono::steady_clock::now() < deadline) {
    auto got = reader->Poll(kMessages, 100ms);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (auto& m : *got) rest.push_back(std::move(m));
  }
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.front().offset, 3);
  EXPECT_EQ(rest.back().offset, kMessages - 1);
  int gaps = 0;
  int64_t previous = 2;
  for (const auto& m : rest) {
    ASSERT_GT(m.offset, previous);
    if (m.offset != previous + 1) {
      ++gaps;
      EXPECT_EQ(m.offset, earliest);
      EXPECT_EQ(previous, before[1] - 1) << "the jump comes at the end of segment 0";
    }
    previous = m.offset;
  }
  EXPECT_EQ(gaps, 1);
  EXPECT_GE(reader->Lag(), 0);
  SetLogSinkForTesting(nullptr);
  const std::string skipped = "group reader, topic t: offsets " + std::to_string(before[1]) +
                              " to " + std::to_string(earliest - 1) + " were deleted by retention";
  EXPECT_EQ(std::count_if(
                lines.begin(), lines.end(),
                [&](const std::string& line) { return line.find(skipped) != std::string::npos; }),
            1);

  // A group new to the topic starts at the earliest record left, too.
  auto late = Consumer("late");
  auto got = PollN(*late, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].offset, earliest);
}

TEST_F(RetentionTest, AReaderAtTheEndOfADeletedSegmentFindsTheNextOne) {
  auto p = Producer();
  Send(*p, 0, kMessages);
  ReadAndCommit("g", kMessages);
  const std::vector<int64_t> before = Segments();
  // Reads all of segment 0 but does not know yet that it is sealed.
  auto reader = Consumer("reader");
  ASSERT_EQ(PollN(*reader, static_cast<size_t>(before[1])).size(), static_cast<size_t>(before[1]));
  // A pass that crashed after its first unlink: only segment 0 is gone.
  ASSERT_EQ(::unlink(SegmentPath(TopicDir(dir_, "t"), before[0]).c_str()), 0);
  auto got = PollN(*reader, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].offset, before[1]);
}

TEST_F(RetentionTest, TopicsNoGroupHasCommittedAreKeptUnlessTheirReadersNeverCommit) {
  auto p = Producer();
  Send(*p, 0, kMessages, "dlq");
  Send(*p, 0, kMessages, "invalidations");
  const std::vector<int64_t> dlq = Segments("dlq");
  RetentionOptions options = MaxBytes(1);
  options.uncommitted_topics = {"invalidations"};
  RetentionStats stats = Enforce(options);
  EXPECT_EQ(Segments("dlq"), dlq);
  EXPECT_EQ(Segments("invalidations").size(), 1u);
  EXPECT_GT(stats.deleted_segments, 0u);

  // Once a group commits on an uncommitted topic, it is waited for.
  Send(*p, kMessages, 2 * kMessages, "invalidations");
  auto c = Consumer("watcher", "invalidations");
  auto got = PollN(*c, 1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(c->Commit(got).ok());
  const std::vector<int64_t> held = Segments("invalidations");
  Enforce(options);
  EXPECT_EQ(Segments("invalidations"), held);
}

TEST_F(RetentionTest, ADamagedOffsetFileKeepsItsTopicAndIsReported) {
  auto p = Producer();
  Send(*p, 0, kMessages, "a");
  Send(*p, 0, kMessages, "b");
  ReadAndCommit("g", kMessages, "a");
  ReadAndCommit("g", kMessages, "b");
  ASSERT_TRUE(WriteFileAtomically(OffsetPath(TopicDir(dir_, "a"), "g"), "12x\n").ok());
  const std::vector<int64_t> a = Segments("a");
  RetentionStats stats;
  Status s = EnforceRetention(dir_, MaxBytes(1), &stats);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_EQ(Segments("a"), a);
  EXPECT_EQ(Segments("b").size(), 1u);
  EXPECT_GT(stats.deleted_segments, 0u);

  // Periodically, the failure is logged and the pass tried again later.
  std::vector<std::string> lines;
  SetLogSinkForTesting([&](std::string_view line) { lines.emplace_back(line); });
  PeriodicRetention periodic(dir_, MaxBytes(1));
  periodic.RunIfDue();
  SetLogSinkForTesting(nullptr);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("retention of " + dir_ + " failed"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("not an offset"), std::string::npos) << lines[0];
}

TEST_F(RetentionTest, NoLimitsDeleteNothing) {
  auto p = Producer();
  Send(*p, 0, kMessages);
  ReadAndCommit("g", kMessages);
  const std::vector<int64_t> before = Segments();
  RetentionOptions none;
  EXPECT_FALSE(RetentionEnabled(none));
  EXPECT_EQ(Enforce(none).deleted_segments, 0u);
  PeriodicRetention periodic(dir_, none);
  periodic.RunIfDue();
  EXPECT_EQ(Segments(), before);
}

TEST_F(RetentionTest, PeriodicRetentionRunsAtOnceAndCounts) {
  auto p = Producer();
  Send(*p, 0, kMessages);
  ReadAndCommit("g", kMessages);
  const size_t segments = Segments().size();
  const uint64_t total = TopicBytes();
  RetentionOptions options = MaxBytes(1);
  options.interval = 1h;  // the first call runs; later ones wait for it
  PeriodicRetention periodic(dir_, options);
  periodic.RunIfDue();
  EXPECT_EQ(periodic.Stats().deleted_segments, segments - 1);
  EXPECT_EQ(periodic.Stats().deleted_bytes, total - TopicBytes());

  Send(*p, kMessages, 2 * kMessages);
  ReadAndCommit("g", kMessages);
  periodic.RunIfDue();  // within the interval: nothing
  EXPECT_EQ(periodic.Stats().deleted_segments, segments - 1);
  EXPECT_GT(Segments().size(), 1u);
}

TEST_F(RetentionTest, ConcurrentWritersReaderAndRetentionLoseNothing) {
  // Two producers append while a group reads and commits and retention runs
  // in a loop: the group sees every message once, in offset order, and the
  // topic stays near its limit.
  constexpr int kPerWriter = 1500;
  constexpr int kBatch = 25;
  constexpr uint64_t kLimit = 4 * kSegmentBytes;
  std::atomic<bool> done{false};
  auto write = [&](int writer) {
    auto p = Producer();
    for (int i = 0; i < kPerWriter; i += kBatch) {
      for (int j = i; j < i + kBatch; ++j) {
        std::string value = std::to_string(writer) + ":" + std::to_string(j);
        value.resize(100, '.');
        ASSERT_TRUE(p->Send("t", "k", value).ok());
      }
      ASSERT_TRUE(p->Flush(kFlushTimeout).ok());
    }
  };
  std::vector<stream::Message> read;
  auto consume = [&] {
    auto c = Consumer("g");
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (read.size() < 2 * kPerWriter && std::chrono::steady_clock::now() < deadline) {
      auto got = c->Poll(100, 100ms);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_TRUE(c->Commit(*got).ok());
      for (auto& m : *got) read.push_back(std::move(m));
    }
  };
  std::thread w0(write, 0), w1(write, 1);
  std::thread reader([&] {
    consume();
    done = true;
  });
  RetentionStats stats;
  for (int pass = 0; pass < 100'000 && !done; ++pass) {
    Status s = EnforceRetention(dir_, MaxBytes(kLimit), &stats);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::this_thread::sleep_for(1ms);
  }
  w0.join();
  w1.join();
  reader.join();
  ASSERT_TRUE(EnforceRetention(dir_, MaxBytes(kLimit), &stats).ok());

  ASSERT_EQ(read.size(), size_t{2 * kPerWriter});
  int next[2] = {0, 0};
  for (size_t i = 0; i < read.size(); ++i) {
    ASSERT_EQ(read[i].offset, static_cast<int64_t>(i));
    int writer = read[i].value[0] - '0';
    ASSERT_TRUE(writer == 0 || writer == 1);
    EXPECT_EQ(read[i].value.substr(2, read[i].value.find('.') - 2), std::to_string(next[writer]++));
  }
  EXPECT_GT(stats.deleted_segments, 0u);
  EXPECT_LE(TopicBytes(), kLimit);
}

}  // namespace
}  // namespace tempo::log
