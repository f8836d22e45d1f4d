// Tests of the embedded log: round trips, segments, groups, crash repair,
// corruption, several writers and a consumer following a producer.
#include "log/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "log/layout.h"
#include "testing/temp_dir.h"

namespace tempo::log {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto kFlushTimeout = 5s;
constexpr auto kWaitForMessages = 5s;

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = root_.path() + "/log";
    fs::create_directory(dir_);  // a consumer needs it; a producer would make it
  }

  std::unique_ptr<stream::Producer> Producer(LogOptions options = {}) {
    auto p = OpenLogProducer(dir_, options);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(*p) : nullptr;
  }

  std::unique_ptr<stream::Consumer> Consumer(std::string group, std::vector<std::string> topics,
                                             StartAt start = StartAt::kEarliest) {
    auto c = OpenLogConsumer(dir_, std::move(group), std::move(topics), start);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  // Sends "v<i>" with key "k<i>" for i in [from, to) to `topic` and flushes.
  static void SendRange(stream::Producer& p, std::string_view topic, int from, int to) {
    for (int i = from; i < to; ++i) {
      ASSERT_TRUE(p.Send(topic, "k" + std::to_string(i), "v" + std::to_string(i)).ok());
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

  std::string SegmentFile(std::string_view topic, int64_t base) const {
    return SegmentPath(TopicDir(dir_, topic), base);
  }

  ::tempo::testing::TempDir root_{"tempo_log"};
  std::string dir_;
};

TEST_F(LogTest, RoundTripKeepsKeysValuesAndHeaders) {
  std::string binary("\0\xff\x01zero\0byte", 11);
  struct Sent {
    std::string key, value;
    std::vector<stream::Header> headers;
  };
  std::vector<Sent> sent = {
      {"acme/module/m1", R"({"schema":1})", {}},
      {binary, binary, {{"reason", "bad json"}, {binary, ""}, {"", binary}}},
      {"acme/module/m2", "", {{"h", "v"}}},
      {"", "value without key", {}},
      {std::string(3000, 'k'), std::string(100000, 'v'), {}},
  };
  auto p = Producer();
  for (const auto& s : sent) ASSERT_TRUE(p->Send("t", s.key, s.value, s.headers).ok());
  ASSERT_TRUE(p->Flush(kFlushTimeout).ok());

  auto c = Consumer("g", {"t"});
  auto got = PollN(*c, sent.size());
  ASSERT_EQ(got.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(got[i].topic, "t");
    EXPECT_EQ(got[i].partition, 0);
    EXPECT_EQ(got[i].offset, static_cast<int64_t>(i));
    EXPECT_EQ(got[i].key, sent[i].key);
    EXPECT_EQ(got[i].value, sent[i].value);
    ASSERT_EQ(got[i].headers.size(), sent[i].headers.size());
    for (size_t h = 0; h < sent[i].headers.size(); ++h) {
      EXPECT_EQ(got[i].headers[h].name, sent[i].headers[h].name);
      EXPECT_EQ(got[i].headers[h].value, sent[i].headers[h].value);
    }
  }
  auto end = EndOffset(dir_, "t");
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(*end, 5);
}

TEST_F(LogTest, TopicsHaveTheirOwnOffsets) {
  auto p = Producer();
  ASSERT_TRUE(p->Send("a", "k", "a0").ok());
  ASSERT_TRUE(p->Send("b", "k", "b0").ok());
  ASSERT_TRUE(p->Send("a", "k", "a1").ok());
  ASSERT_TRUE(p->Flush(kFlushTimeout).ok());

  auto c = Consumer("g", {"a", "b"});
  auto got = PollN(*c, 3);
  ASSERT_EQ(got.size(), 3u);
  std::map<std::string, std::vector<std::pair<int64_t, std::string>>> by_topic;
  for (const auto& m : got) by_topic[m.topic].emplace_back(m.offset, m.value);
  using V = std::vector<std::pair<int64_t, std::string>>;
  EXPECT_EQ(by_topic["a"], (V{{0, "a0"}, {1, "a1"}}));
  EXPECT_EQ(by_topic["b"], (V{{0, "b0"}}));
}

TEST_F(LogTest, SegmentsRollAndAreReadAcross) {
  LogOptions small;
  small.segment_bytes = 300;
  {
    auto p = Producer(small);
    SendRange(*p, "t", 0, 60);
  }
  {
    // A new producer continues the offsets in the last segment.
    auto p = Producer(small);
    SendRange(*p, "t", 60, 100);
  }
  auto bases = ListSegments(TopicDir(dir_, "t"));
  ASSERT_TRUE(bases.ok());
  ASSERT_GT(bases->size(), 5u);
  EXPECT_EQ(bases->front(), 0);

  auto c = Consumer("g", {"t"});
  auto got = PollN(*c, 100);
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(got[i].offset, i);
    EXPECT_EQ(got[i].value, "v" + std::to_string(i));
  }
  // Every segment starts with the record its name promises.
  for (int64_t base : *bases) EXPECT_EQ(got[base].offset, base);
  EXPECT_EQ(*EndOffset(dir_, "t"), 100);
}

TEST_F(LogTest, BatchesLargerThanTheAppendBatchAreWrittenBeforeFlush) {
  auto p = Producer();
  std::string value(64 * 1024, 'x');
  int n = static_cast<int>(kAppendBatchBytes / value.size()) * 3 + 1;
  for (int i = 0; i < n; ++i) ASSERT_TRUE(p->Send("t", "k", value).ok());
  // Some batches went out already; Flush writes the rest.
  auto before = EndOffset(dir_, "t");
  ASSERT_TRUE(before.ok());
  EXPECT_GT(*before, 0);
  EXPECT_LT(*before, n);
  ASSERT_TRUE(p->Flush(kFlushTimeout).ok());
  EXPECT_EQ(*EndOffset(dir_, "t"), n);
}

TEST_F(LogTest, GroupsCommitAndResumeIndependently) {
  auto p = Producer();
  SendRange(*p, "t", 0, 30);
  {
    auto c = Consumer("sync", {"t"});
    EXPECT_EQ(c->Lag(), 30);
    auto got = PollN(*c, 10);
    ASSERT_EQ(got.size(), 10u);
    EXPECT_EQ(c->Lag(), 20);
    ASSERT_TRUE(c->Commit(got).ok());
    // Read further than committed: a restart resumes after the commit.
    ASSERT_EQ(PollN(*c, 5).size(), 5u);
  }
  std::ifstream offset_file(OffsetPath(TopicDir(dir_, "t"), "sync"));
  std::string committed;
  offset_file >> committed;
  EXPECT_EQ(committed, "10");

  auto again = Consumer("sync", {"t"});
  auto rest = PollN(*again, 20);
  ASSERT_EQ(rest.size(), 20u);
  EXPECT_EQ(rest.front().offset, 10);
  EXPECT_EQ(rest.back().offset, 29);
  EXPECT_EQ(again->Lag(), 0);

  auto other = Consumer("audit", {"t"});
  auto all = PollN(*other, 30);
  ASSERT_EQ(all.size(), 30u);
  EXPECT_EQ(all.front().offset, 0);
}

TEST_F(LogTest, CommitOfATopicNotReadIsRejected) {
  auto c = Consumer("g", {"t"});
  stream::Message m;
  m.topic = "other";
  EXPECT_EQ(c->Commit({m}).code(), Status::Code::kInvalidArgument);
}

TEST_F(LogTest, LatestStartsAtTheEndWhenNothingIsCommitted) {
  auto p = Producer();
  SendRange(*p, "t", 0, 5);
  auto c = Consumer("g", {"t"}, StartAt::kLatest);
  auto none = c->Poll(10, 20ms);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  SendRange(*p, "t", 5, 7);
  auto got = PollN(*c, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].offset, 5);
  EXPECT_EQ(got[1].value, "v6");
}

TEST_F(LogTest, LatestOnATopicThatDoesNotExistReadsFromItsStart) {
  auto c = Consumer("g", {"t"}, StartAt::kLatest);
  auto p = Producer();
  SendRange(*p, "t", 0, 3);
  auto got = PollN(*c, 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].offset, 0);
}

TEST_F(LogTest, PollTimesOutEmpty) {
  auto c = Consumer("g", {"t"});
  auto got = c->Poll(10, 20ms);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(c->Lag(), 0);
}

TEST_F(LogTest, ConsumerSeesWhatAnotherThreadPublishes) {
  auto c = Consumer("g", {"t"});
  std::vector<stream::Message> got;
  std::thread reader([&] {
    auto r = c->Poll(10, kWaitForMessages);
    if (r.ok()) got = std::move(*r);
  });
  std::this_thread::sleep_for(50ms);
  auto p = Producer();
  SendRange(*p, "t", 0, 1);
  reader.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, "v0");
}

// A writer creates a segment file before its first write; a reader that
// finds it empty must not take it for a sealed segment (it used to, and then
// reported the first records' segment as ending early).
TEST_F(LogTest, EmptySegmentBeforeTheFirstWriteIsNotSealed) {
  const std::string topic_dir = TopicDir(dir_, "t");
  fs::create_directories(topic_dir);
  std::ofstream(SegmentPath(topic_dir, 0)).close();
  auto c = Consumer("g", {"t"});
  auto none = c->Poll(10, 20ms);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  auto p = Producer();
  SendRange(*p, "t", 0, 2);
  auto got = c->Poll(10, kWaitForMessages);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[1].value, "v1");
  auto after = c->Poll(10, 20ms);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->empty());
}

// Cuts `bytes` off the end of `path`.
void Shorten(const std::string& path, uintmax_t bytes) {
  fs::resize_file(path, fs::file_size(path) - bytes);
}

TEST_F(LogTest, TornTailIsUnwrittenForReadersAndRepairedByTheNextWriter) {
  {
    auto p = Producer();
    SendRange(*p, "t", 0, 10);
  }
  Shorten(SegmentFile("t", 0), 3);  // the crash tore record 9

  auto c = Consumer("g", {"t"});
  auto got = PollN(*c, 9);
  ASSERT_EQ(got.size(), 9u);
  auto none = c->Poll(10, 20ms);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(*EndOffset(dir_, "t"), 9);

  auto p = Producer();
  ASSERT_TRUE(p->Send("t", "k", "after repair").ok());
  ASSERT_TRUE(p->Flush(kFlushTimeout).ok());
  auto next = PollN(*c, 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].offset, 9);
  EXPECT_EQ(next[0].value, "after repair");
  EXPECT_EQ(*EndOffset(dir_, "t"), 10);
}

TEST_F(LogTest, RepairShorterThanTheTornRecordIsRead) {
  {
    auto p = Producer();
    SendRange(*p, "t", 0, 3);
    ASSERT_TRUE(p->Send("t", "k", std::string(1000, 'x')).ok());
    ASSERT_TRUE(p->Flush(kFlushTimeout).ok());
  }
  Shorten(SegmentFile("t", 0), 500);

  // The reader has read half of the torn record when the repair replaces it
  // with a record that ends before those bytes did.
  auto c = Consumer("g", {"t"});
  ASSERT_EQ(PollN(*c, 3).size(), 3u);
  auto none = c->Poll(10, 20ms);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto p = Producer();
  SendRange(*p, "t", 3, 4);
  auto next = PollN(*c, 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].value, "v3");
}

TEST_F(LogTest, IncompleteRecordBeforeALaterSegmentIsCorruption) {
  LogOptions small;
  small.segment_bytes = 100;
  {
    auto p = Producer(small);
    SendRange(*p, "t", 0, 10);
  }
  std::string first = SegmentFile("t", 0);
  Shorten(first, 3);
  auto c = Consumer("g", {"t"});
  auto got = c->Poll(100, 20ms);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->empty());
  auto bad = c->Poll(100, 20ms);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kCorruption);
  EXPECT_NE(bad.status().message().find(first), std::string::npos) << bad.status().ToString();
}

TEST_F(LogTest, DamagedOffsetFileIsCorruption) {
  auto p = Producer();
  SendRange(*p, "t", 0, 1);
  fs::create_directories(GroupsDir(TopicDir(dir_, "t")));
  { std::ofstream(OffsetPath(TopicDir(dir_, "t"), "g")) << "12x\n"; }
  auto c = OpenLogConsumer(dir_, "g", {"t"}, StartAt::kEarliest);
  EXPECT_EQ(c.status().code(), Status::Code::kCorruption);
}

TEST_F(LogTest, ZeroFilledTailIsUnwrittenToo) {
  {
    auto p = Producer();
    SendRange(*p, "t", 0, 4);
  }
  // Some file systems extend a file with zeros when a crash cuts a write.
  { std::ofstream(SegmentFile("t", 0), std::ios::app) << std::string(100, '\0'); }

  auto c = Consumer("g", {"t"});
  ASSERT_EQ(PollN(*c, 4).size(), 4u);
  auto none = c->Poll(10, 20ms);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());

  auto p = Producer();
  SendRange(*p, "t", 4, 5);
  auto next = PollN(*c, 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].offset, 4);
}

TEST_F(LogTest, DamageInTheMiddleIsCorruption) {
  {
    auto p = Producer();
    SendRange(*p, "t", 0, 10);
  }
  std::string path = SegmentFile("t", 0);
  // Each record here is 16 header + 20 fixed + "k<i>" + "v<i>" = 40 bytes:
  // flip a byte inside record 3's value.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3 * 40 + 38);
    f.put('X');
  }
  auto c = Consumer("g", {"t"});
  auto first = c->Poll(100, 20ms);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 3u);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto bad = c->Poll(100, 20ms);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), Status::Code::kCorruption);
    EXPECT_NE(bad.status().message().find(path + " at byte 120"), std::string::npos)
        << bad.status().ToString();
  }
  EXPECT_EQ(c->Lag(), -1);

  // A writer will not append after damage either.
  auto p = Producer();
  ASSERT_TRUE(p->Send("t", "k", "v").ok());
  Status s = p->Flush(kFlushTimeout);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  auto e = EndOffset(dir_, "t");
  EXPECT_EQ(e.status().code(), Status::Code::kCorruption);
}

TEST_F(LogTest, SeveralProcessesAppendWithoutLosingOrMixingRecords) {
  constexpr int kWriters = 3;
  constexpr int kPerWriter = 1500;
  LogOptions small;
  small.segment_bytes = 8 * 1024;  // many rolls, some of them racing
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int failures = 0;
      {
        auto p = OpenLogProducer(dir_, small);
        if (!p.ok()) ::_exit(2);
        for (int i = 0; i < kPerWriter; ++i) {
          std::string key = "w" + std::to_string(w);
          failures += !(*p)->Send("t", key, key + ":" + std::to_string(i)).ok();
          if (i % 37 == 0) failures += !(*p)->Flush(kFlushTimeout).ok();
        }
        failures += !(*p)->Flush(kFlushTimeout).ok();
      }
      ::_exit(failures == 0 ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }

  auto c = Consumer("g", {"t"});
  auto got = PollN(*c, kWriters * kPerWriter);
  ASSERT_EQ(got.size(), static_cast<size_t>(kWriters * kPerWriter));
  std::vector<int> next(kWriters, 0);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].offset, static_cast<int64_t>(i));
    int w = got[i].key[1] - '0';
    ASSERT_EQ(got[i].value, got[i].key + ":" + std::to_string(next[w]));
    ++next[w];
  }
  EXPECT_EQ(next, std::vector<int>(kWriters, kPerWriter));
}

TEST_F(LogTest, ProducersInThreadsShareOneTopic) {
  constexpr int kPerWriter = 500;
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      auto p = Producer();  // separate descriptors: the LOCK flock is what orders them
      std::string key = "w" + std::to_string(w);
      for (int i = 0; i < kPerWriter; ++i) {
        EXPECT_TRUE(p->Send("t", key, std::to_string(i)).ok());
        if (i % 10 == 0) {
          EXPECT_TRUE(p->Flush(kFlushTimeout).ok());
        }
      }
      EXPECT_TRUE(p->Flush(kFlushTimeout).ok());
    });
  }
  for (auto& t : writers) t.join();
  auto c = Consumer("g", {"t"});
  auto got = PollN(*c, 2 * kPerWriter);
  ASSERT_EQ(got.size(), 2u * kPerWriter);
  std::map<std::string, int> next;
  for (const auto& m : got) EXPECT_EQ(m.value, std::to_string(next[m.key]++));
}

TEST_F(LogTest, AFileWhereADirectoryBelongsIsAClearError) {
  { std::ofstream(root_.path() + "/file") << "x"; }
  auto p = OpenLogProducer(root_.path() + "/file");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Status::Code::kIOError);
  EXPECT_NE(p.status().message().find(root_.path() + "/file"), std::string::npos);
  auto c = OpenLogConsumer(root_.path() + "/file", "g", {"t"}, StartAt::kEarliest);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kIOError);

  // A file where a topic's directory belongs.
  auto producer = Producer();
  { std::ofstream(dir_ + "/t") << "x"; }
  Status s = producer->Send("t", "k", "v");
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  auto bad = OpenLogConsumer(dir_, "g", {"t"}, StartAt::kLatest);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kIOError);
}

TEST_F(LogTest, AConsumerOfAMissingDirectoryFailsAndCreatesNothing) {
  const std::string missing = root_.path() + "/typo/log";
  auto c = OpenLogConsumer(missing, "g", {"t"}, StartAt::kLatest);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(c.status().message(), "log directory " + missing + " does not exist");
  EXPECT_FALSE(fs::exists(root_.path() + "/typo"));

  // A producer creates it (parents too); then the consumer reads what it wrote.
  auto p = OpenLogProducer(missing);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  SendRange(**p, "t", 0, 2);
  auto now = OpenLogConsumer(missing, "g", {"t"}, StartAt::kEarliest);
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_EQ(PollN(**now, 2).size(), 2u);
}

TEST_F(LogTest, BadNamesAndSizesAreInvalidArguments) {
  auto p = Producer();
  EXPECT_EQ(p->Send("../t", "k", "v").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(p->Send("", "k", "v").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(p->Send("t", "k", std::string(kMaxMessageBytes + 1, 'x')).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(OpenLogConsumer(dir_, "a/b", {"t"}, StartAt::kEarliest).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(OpenLogConsumer(dir_, "g", {}, StartAt::kEarliest).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(OpenLogConsumer(dir_, "g", {"t", "t"}, StartAt::kEarliest).status().code(),
            Status::Code::kInvalidArgument);
  LogOptions zero;
  zero.segment_bytes = 0;
  EXPECT_EQ(OpenLogProducer(dir_, zero).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace tempo::log
