// The Kafka producer, consumer and topic helper against librdkafka's mock
// cluster, with kcat as an independent client.
#include "kafka/kafka.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/logging.h"
#include "kafka/client_config.h"
#include "kafka/mock_cluster.h"

namespace tempo::kafka {
namespace {

using namespace std::chrono_literals;
using stream::Header;
using stream::Message;

// Every wait in these tests is bounded by this; a consumer group's first
// join alone takes 3 s on the mock cluster.
constexpr auto kDeadline = 20s;

class KafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = MockCluster::Start(3);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
  }

  KafkaOptions ProducerOptions() const {
    KafkaOptions options;
    options.brokers = cluster_->bootstrap();
    options.extra = {{"retry.backoff.ms", "10"}, {"reconnect.backoff.ms", "10"}};
    return options;
  }

  // The mock cluster holds a group's first JoinGroup for 3 s and drops members
  // silent for session_timeout meanwhile, so that must be longer; it waits
  // session_timeout - 1 s for members to rejoin after one left. An idle fetch
  // waits fetch.wait.max.ms.
  KafkaOptions ConsumerOptions() const {
    KafkaOptions options;
    options.brokers = cluster_->bootstrap();
    options.session_timeout = 4s;
    options.extra = {{"fetch.wait.max.ms", "10"},
                     {"reconnect.backoff.ms", "10"},
                     {"fetch.error.backoff.ms", "10"}};
    return options;
  }

  std::unique_ptr<stream::Producer> Producer() {
    auto producer = OpenKafkaProducer(ProducerOptions());
    EXPECT_TRUE(producer.ok()) << producer.status().ToString();
    return producer.ok() ? std::move(*producer) : nullptr;
  }

  std::unique_ptr<stream::Consumer> Consumer(const std::string& group, const std::string& topic,
                                             StartAt start_at = StartAt::kEarliest) {
    auto consumer = OpenKafkaConsumer(ConsumerOptions(), group, {topic}, start_at);
    EXPECT_TRUE(consumer.ok()) << consumer.status().ToString();
    return consumer.ok() ? std::move(*consumer) : nullptr;
  }

  // Produces `count` messages "<prefix><i>" with keys "k<i % keys>", flushed.
  void ProduceNumbered(const std::string& topic, int count, const std::string& prefix,
                       int keys = 1) {
    auto producer = Producer();
    ASSERT_NE(producer, nullptr);
    for (int i = 0; i < count; ++i) {
      ASSERT_TRUE(
          producer->Send(topic, "k" + std::to_string(i % keys), prefix + std::to_string(i)).ok());
    }
    Status st = producer->Flush(kDeadline);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::unique_ptr<MockCluster> cluster_;
};

// Polls until `want` messages arrived or the deadline passed. Unavailable
// from Poll is tolerated (the client retries); it is counted in *errors.
std::vector<Message> ConsumeAtLeast(stream::Consumer& consumer, size_t want,
                                    int* errors = nullptr) {
  std::vector<Message> got;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    auto batch = consumer.Poll(want - got.size(), 100ms);
    if (!batch.ok()) {
      EXPECT_EQ(batch.status().code(), Status::Code::kUnavailable) << batch.status().ToString();
      if (errors) ++*errors;
      continue;
    }
    for (Message& m : *batch) got.push_back(std::move(m));
  }
  return got;
}

// Polls for `window` and returns whatever arrives.
std::vector<Message> ConsumeFor(stream::Consumer& consumer, std::chrono::milliseconds window) {
  std::vector<Message> got;
  const auto end = std::chrono::steady_clock::now() + window;
  while (std::chrono::steady_clock::now() < end) {
    auto batch = consumer.Poll(100, 50ms);
    if (!batch.ok()) continue;
    for (Message& m : *batch) got.push_back(std::move(m));
  }
  return got;
}

std::vector<std::string> Values(const std::vector<Message>& messages) {
  std::vector<std::string> values;
  for (const Message& m : messages) values.push_back(m.value);
  return values;
}

std::vector<std::string> Numbered(const std::string& prefix, int begin, int end) {
  std::vector<std::string> values;
  for (int i = begin; i < end; ++i) values.push_back(prefix + std::to_string(i));
  return values;
}

// Runs a shell command and returns its stdout.
std::string RunShell(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int rc = pclose(pipe);
  EXPECT_EQ(rc, 0) << command;
  return out;
}

TEST_F(KafkaTest, RoundTripKeepsKeysBinaryValuesAndHeaders) {
  ASSERT_TRUE(cluster_->CreateTopic("rt", 1).ok());
  const std::string binary("\0\x01\xff\xfe zero\0end", 14);
  const std::vector<Header> headers = {{"reason", "bad json"}, {"bytes", binary}, {"empty", ""}};
  auto producer = Producer();
  ASSERT_TRUE(producer->Send("rt", "ACME/module/m1", binary, headers).ok());
  ASSERT_TRUE(producer->Send("rt", "ACME/module/m2", "", {}).ok());
  ASSERT_TRUE(producer->Send("rt", "", "no key").ok());
  ASSERT_TRUE(producer->Flush(kDeadline).ok());

  auto consumer = Consumer("rt-group", "rt");
  auto got = ConsumeAtLeast(*consumer, 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].topic, "rt");
  EXPECT_EQ(got[0].partition, 0);
  EXPECT_EQ(got[0].key, "ACME/module/m1");
  EXPECT_EQ(got[0].value, binary);
  ASSERT_EQ(got[0].headers.size(), 3u);
  for (size_t i = 0; i < headers.size(); ++i) {
    EXPECT_EQ(got[0].headers[i].name, headers[i].name);
    EXPECT_EQ(got[0].headers[i].value, headers[i].value);
  }
  EXPECT_EQ(got[1].key, "ACME/module/m2");
  EXPECT_EQ(got[1].value, "");
  EXPECT_TRUE(got[1].headers.empty());
  EXPECT_EQ(got[2].key, "");
  EXPECT_EQ(got[2].value, "no key");
  EXPECT_LT(got[0].offset, got[1].offset);
  EXPECT_LT(got[1].offset, got[2].offset);
  EXPECT_EQ(consumer->Lag(), 0);
}

TEST_F(KafkaTest, OneKeyStaysInOnePartitionInOrder) {
  ASSERT_TRUE(cluster_->CreateTopic("order", 4).ok());
  constexpr int kKeys = 7;
  constexpr int kCount = 700;
  ProduceNumbered("order", kCount, "", kKeys);
  auto consumer = Consumer("order-group", "order");
  auto got = ConsumeAtLeast(*consumer, kCount);
  ASSERT_EQ(got.size(), size_t{kCount});
  std::map<std::string, int> last_seq;
  std::map<std::string, int32_t> partition_of;
  std::map<int32_t, int64_t> last_offset;
  for (const Message& m : got) {
    const int seq = std::stoi(m.value);
    EXPECT_EQ(m.key, "k" + std::to_string(seq % kKeys));
    auto [it, first] = last_seq.try_emplace(m.key, seq);
    if (!first) {
      EXPECT_LT(it->second, seq) << m.key;
      it->second = seq;
    }
    EXPECT_EQ(partition_of.try_emplace(m.key, m.partition).first->second, m.partition) << m.key;
    auto [off, new_partition] = last_offset.try_emplace(m.partition, m.offset);
    if (!new_partition) {
      EXPECT_LT(off->second, m.offset);
      off->second = m.offset;
    }
  }
  EXPECT_EQ(last_seq.size(), size_t{kKeys});
  EXPECT_GT(last_offset.size(), 1u) << "7 keys should spread over several of 4 partitions";
}

TEST_F(KafkaTest, GroupResumesAfterCommitAndGroupsAreIndependent) {
  ASSERT_TRUE(cluster_->CreateTopic("resume", 1).ok());
  ProduceNumbered("resume", 10, "m");
  // Both groups join at once: each first join waits 3 s on the mock.
  auto first = Consumer("resume-a", "resume");
  auto other_group = Consumer("resume-b", "resume");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(other_group, nullptr);
  EXPECT_EQ(first->Lag(), -1) << "no assignment yet";

  auto got = ConsumeAtLeast(*first, 4);
  ASSERT_EQ(Values(got), Numbered("m", 0, 4));
  EXPECT_EQ(first->Lag(), 6);
  ASSERT_TRUE(first->Commit(got).ok());
  ASSERT_TRUE(first->Commit({}).ok());
  auto more = ConsumeAtLeast(*first, 6);
  ASSERT_EQ(Values(more), Numbered("m", 4, 10));
  EXPECT_EQ(first->Lag(), 0);
  // Only m4 and m5 are done; the highest offset of the partition counts.
  ASSERT_TRUE(first->Commit({more[1], more[0]}).ok());
  first.reset();

  auto second = Consumer("resume-a", "resume");
  auto resumed = ConsumeAtLeast(*second, 4);
  EXPECT_EQ(Values(resumed), Numbered("m", 6, 10));
  EXPECT_TRUE(ConsumeFor(*second, 200ms).empty());

  auto independent = ConsumeAtLeast(*other_group, 10);
  EXPECT_EQ(Values(independent), Numbered("m", 0, 10));
}

TEST_F(KafkaTest, LagCountsFromTheCommittedOffsetBeforeAnythingIsRead) {
  ASSERT_TRUE(cluster_->CreateTopic("lag", 1).ok());
  ProduceNumbered("lag", 8, "m");
  {
    auto consumer = Consumer("lag-group", "lag");
    auto got = ConsumeAtLeast(*consumer, 8);
    ASSERT_EQ(got.size(), 8u);
    ASSERT_TRUE(consumer->Commit(got).ok());
  }
  // A new member of the group has read nothing, so only the committed offset
  // says that it is caught up.
  auto consumer = Consumer("lag-group", "lag");
  auto deadline = std::chrono::steady_clock::now() + kDeadline;
  int64_t lag = -1;
  while (lag == -1 && std::chrono::steady_clock::now() < deadline) {
    auto batch = consumer->Poll(10, 50ms);
    ASSERT_TRUE(batch.ok());
    EXPECT_TRUE(batch->empty());
    lag = consumer->Lag();
  }
  EXPECT_EQ(lag, 0);
  // Fetched in the background but not yet polled: still lag.
  ProduceNumbered("lag", 3, "n");
  deadline = std::chrono::steady_clock::now() + kDeadline;
  while (consumer->Lag() != 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(consumer->Lag(), 3);
  EXPECT_EQ(Values(ConsumeAtLeast(*consumer, 3)), Numbered("n", 0, 3));
  EXPECT_EQ(consumer->Lag(), 0);
}

TEST_F(KafkaTest, StartAtLatestSkipsEarlierMessages) {
  ASSERT_TRUE(cluster_->CreateTopic("latest", 2).ok());
  ProduceNumbered("latest", 20, "old", 5);
  auto consumer = Consumer("latest-group", "latest", StartAt::kLatest);
  // Wait until both partitions have been fetched from (so the start offsets
  // are fixed) before producing more.
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (consumer->Lag() != 0 && std::chrono::steady_clock::now() < deadline) {
    auto batch = consumer->Poll(100, 50ms);
    ASSERT_TRUE(batch.ok());
    EXPECT_TRUE(batch->empty());
  }
  ASSERT_EQ(consumer->Lag(), 0);
  std::this_thread::sleep_for(100ms);  // let both partitions' fetchers start
  ProduceNumbered("latest", 6, "new", 5);
  auto got = ConsumeAtLeast(*consumer, 6);
  std::set<std::string> values;
  for (const Message& m : got) values.insert(m.value);
  EXPECT_EQ(values, std::set<std::string>({"new0", "new1", "new2", "new3", "new4", "new5"}));
  EXPECT_TRUE(ConsumeFor(*consumer, 200ms).empty());
}

// Retried Produce requests neither lose, duplicate nor reorder messages,
// although requests behind a failed one are in flight and succeed (without
// idempotence, the retried batch would land after them).
TEST_F(KafkaTest, IdempotentProducerSurvivesProduceErrors) {
  ASSERT_TRUE(cluster_->CreateTopic("idem", 1).ok());
  cluster_->SetRoundTrip(20ms);
  KafkaOptions options = ProducerOptions();
  options.linger = 1ms;  // one batch per burst below
  auto producer = OpenKafkaProducer(options);
  ASSERT_TRUE(producer.ok());
  constexpr int kBursts = 20;
  constexpr int kPerBurst = 25;
  auto send_burst = [&](int burst) {
    for (int i = burst * kPerBurst; i < (burst + 1) * kPerBurst; ++i) {
      ASSERT_TRUE((*producer)->Send("idem", "k", "m" + std::to_string(i)).ok());
    }
  };
  send_burst(0);  // connects and learns the partition leader
  ASSERT_TRUE((*producer)->Flush(kDeadline).ok());
  cluster_->PushRequestErrors(
      kApiProduce, {RD_KAFKA_RESP_ERR_NO_ERROR, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                    RD_KAFKA_RESP_ERR_NO_ERROR, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                    RD_KAFKA_RESP_ERR_NO_ERROR, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                    RD_KAFKA_RESP_ERR_NO_ERROR, RD_KAFKA_RESP_ERR__TRANSPORT});
  for (int burst = 1; burst < kBursts; ++burst) {
    send_burst(burst);
    std::this_thread::sleep_for(5ms);
  }
  Status st = (*producer)->Flush(kDeadline);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto consumer = Consumer("idem-group", "idem");
  auto got = ConsumeAtLeast(*consumer, kBursts * kPerBurst);
  EXPECT_EQ(Values(got), Numbered("m", 0, kBursts * kPerBurst));
  EXPECT_TRUE(ConsumeFor(*consumer, 200ms).empty());
}

TEST_F(KafkaTest, ConsumerRecoversFromFetchErrors) {
  ASSERT_TRUE(cluster_->CreateTopic("fetch", 2).ok());
  constexpr int kCount = 200;
  ProduceNumbered("fetch", kCount, "m", 10);
  cluster_->PushRequestErrors(
      kApiFetch, {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR__TRANSPORT,
                  RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                  RD_KAFKA_RESP_ERR__TRANSPORT});
  auto consumer = Consumer("fetch-group", "fetch");
  auto got = ConsumeAtLeast(*consumer, kCount);
  std::multiset<std::string> values;
  for (const Message& m : got) values.insert(m.value);
  const auto want = Numbered("m", 0, kCount);
  EXPECT_EQ(values, std::multiset<std::string>(want.begin(), want.end()));
}

// Brokers taken down (tempo dev-kafka's SIGUSR1): what is sent meanwhile waits
// in the producer and is delivered, once, when they are back.
TEST_F(KafkaTest, MessagesSentWhileBrokersAreDownArriveOnceTheyAreUp) {
  ASSERT_TRUE(cluster_->CreateTopic("outage", 1).ok());
  auto producer = Producer();
  ASSERT_NE(producer, nullptr);
  ASSERT_TRUE(producer->Send("outage", "k", "before").ok());
  ASSERT_TRUE(producer->Flush(kDeadline).ok());
  cluster_->SetBrokersUp(false);
  ASSERT_TRUE(producer->Send("outage", "k", "during").ok());
  EXPECT_FALSE(producer->Flush(500ms).ok()) << "delivered while every broker was down";
  cluster_->SetBrokersUp(true);
  Status st = producer->Flush(kDeadline);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto consumer = Consumer("outage-group", "outage");
  EXPECT_EQ(Values(ConsumeAtLeast(*consumer, 2)), (std::vector<std::string>{"before", "during"}));
  EXPECT_TRUE(ConsumeFor(*consumer, 200ms).empty());
}

TEST_F(KafkaTest, ConsumerReadsWhatKcatProduces) {
  ASSERT_TRUE(cluster_->CreateTopic("from-kcat", 1).ok());
  RunShell(
      "printf 'ACME/module/a:one\\nACME/module/b:two\\nACME/module/a:three\\n' | timeout 20 "
      "kcat -P -b " +
      cluster_->bootstrap() + " -t from-kcat -K: 2>&1");
  auto consumer = Consumer("kcat-group", "from-kcat");
  auto got = ConsumeAtLeast(*consumer, 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].key, "ACME/module/a");
  EXPECT_EQ(got[0].value, "one");
  EXPECT_EQ(got[1].key, "ACME/module/b");
  EXPECT_EQ(got[1].value, "two");
  EXPECT_EQ(got[2].key, "ACME/module/a");
  EXPECT_EQ(got[2].value, "three");
}

TEST_F(KafkaTest, KcatReadsWhatProducerSends) {
  ASSERT_TRUE(cluster_->CreateTopic("to-kcat", 1).ok());
  ProduceNumbered("to-kcat", 5, "v", 2);
  const std::string out = RunShell("timeout 20 kcat -C -q -e -b " + cluster_->bootstrap() +
                                   " -t to-kcat -o beginning -f '%k=%s\\n'");
  EXPECT_EQ(out, "k0=v0\nk1=v1\nk0=v2\nk1=v3\nk0=v4\n");
}

TEST_F(KafkaTest, FlushReportsUndeliveredMessages) {
  KafkaOptions options;
  options.brokers = "127.0.0.1:1";  // nothing listens on port 1
  options.delivery_timeout = 300ms;
  auto producer = OpenKafkaProducer(options);
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE((*producer)->Send("t", "k", "v").ok());
  Status st = (*producer)->Flush(50ms);
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("undelivered"), std::string::npos) << st.ToString();
  // After message.timeout.ms the message fails for good, reported once.
  st = (*producer)->Flush(5s);
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("1 deliveries failed"), std::string::npos) << st.ToString();
  EXPECT_TRUE((*producer)->Flush(50ms).ok());
}

TEST_F(KafkaTest, SendFailsWhenTheQueueStaysFull) {
  KafkaOptions options;
  options.brokers = "127.0.0.1:1";
  options.extra["queue.buffering.max.messages"] = "5";
  auto producer = OpenKafkaProducer(options);
  ASSERT_TRUE(producer.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*producer)->Send("t", "k", "v").ok());
  Status st = (*producer)->Send("t", "k", "v");
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.ToString();
}

TEST_F(KafkaTest, PollReportsAnUnreachableCluster) {
  KafkaOptions options = ConsumerOptions();
  options.brokers = "127.0.0.1:1";  // nothing listens on port 1
  auto consumer = OpenKafkaConsumer(options, "g", {"t"}, StartAt::kEarliest);
  ASSERT_TRUE(consumer.ok());
  Status st;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (st.ok() && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*consumer)->Poll(10, 100ms);
    if (!batch.ok()) st = batch.status();
  }
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.ToString();
  EXPECT_EQ((*consumer)->Lag(), -1);
}

TEST_F(KafkaTest, EnsureTopics) {
  ASSERT_TRUE(cluster_->CreateTopic(std::string(stream::kContentTopic), 4).ok());
  ASSERT_TRUE(cluster_->CreateTopic(std::string(stream::kDlqTopic), 1).ok());
  KafkaOptions options = ProducerOptions();
  options.socket_timeout = 500ms;  // bounds the failing CreateTopics below
  EXPECT_TRUE(
      EnsureTopics(options, {std::string(stream::kContentTopic), std::string(stream::kDlqTopic)}, 4)
          .ok());
  // The mock cluster does not implement CreateTopics, so a missing topic
  // exercises the error path (a real cluster would create it).
  Status st = EnsureTopics(options, {std::string(stream::kContentTopic), "created"}, 2);
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.ToString();

  EXPECT_EQ(EnsureTopics(options, {}, 1).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(EnsureTopics(options, {""}, 1).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(EnsureTopics(options, {"t"}, 0).code(), Status::Code::kInvalidArgument);
}

TEST_F(KafkaTest, BadOptionsAreRejected) {
  KafkaOptions options;
  EXPECT_EQ(OpenKafkaProducer(options).status().code(), Status::Code::kInvalidArgument);
  options.brokers = cluster_->bootstrap();
  options.extra = {{"no.such.property", "1"}};
  EXPECT_EQ(OpenKafkaProducer(options).status().code(), Status::Code::kInvalidArgument);
  options.extra = {{"queue.buffering.max.messages", "not a number"}};
  EXPECT_EQ(OpenKafkaProducer(options).status().code(), Status::Code::kInvalidArgument);
  for (const char* fixed :
       {"enable.idempotence", "acks", "enable.auto.commit", "group.id", "auto.offset.reset",
        "bootstrap.servers", "linger.ms", "session.timeout.ms", "partitioner"}) {
    options.extra = {{fixed, "1"}};
    EXPECT_EQ(OpenKafkaProducer(options).status().code(), Status::Code::kInvalidArgument) << fixed;
    EXPECT_EQ(OpenKafkaConsumer(options, "g", {"t"}, StartAt::kEarliest).status().code(),
              Status::Code::kInvalidArgument)
        << fixed;
  }
  options.extra.clear();
  EXPECT_EQ(OpenKafkaConsumer(options, "", {"t"}, StartAt::kEarliest).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(OpenKafkaConsumer(options, "g", {}, StartAt::kEarliest).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(OpenKafkaConsumer(options, "g", {""}, StartAt::kEarliest).status().code(),
            Status::Code::kInvalidArgument);

  EXPECT_EQ(MockCluster::Start(0).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(cluster_->CreateTopic("", 1).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(cluster_->CreateTopic("t", 0).code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(cluster_->CreateTopic("t", 1).ok());
  EXPECT_FALSE(cluster_->CreateTopic("t", 1).ok());
}

// The process log's lines while it lives, at `level`; then stderr and the
// default settings again.
class CapturedLog {
 public:
  explicit CapturedLog(LogLevel level) {
    LogOptions options;
    options.level = level;
    EXPECT_TRUE(ConfigureLogging(options).ok());
    SetLogSinkForTesting([this](std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(line);
    });
  }
  ~CapturedLog() {
    SetLogSinkForTesting(nullptr);
    EXPECT_TRUE(ConfigureLogging({}).ok());
  }

  // The lines that contain `text`.
  std::vector<std::string> Containing(const std::string& text) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> found;
    for (const std::string& line : lines_) {
      if (line.find(text) != std::string::npos) found.push_back(line);
    }
    return found;
  }

  // Waits (at most kDeadline) for a line that contains `text`.
  std::vector<std::string> WaitFor(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    std::vector<std::string> found = Containing(text);
    while (found.empty() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
      found = Containing(text);
    }
    return found;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST(KafkaLogTest, SyslogLevelsMapToOurs) {
  for (int level : {0, 1, 2, 3}) EXPECT_EQ(internal::FromSyslogLevel(level), LogLevel::kError);
  EXPECT_EQ(internal::FromSyslogLevel(4), LogLevel::kWarn);
  EXPECT_EQ(internal::FromSyslogLevel(5), LogLevel::kInfo);
  EXPECT_EQ(internal::FromSyslogLevel(6), LogLevel::kInfo);
  EXPECT_EQ(internal::FromSyslogLevel(7), LogLevel::kDebug);
}

// librdkafka's `debug` output (syslog level 7) comes out as our debug lines.
TEST_F(KafkaTest, LibrdkafkaDebugLinesGoThroughTheLogger) {
  CapturedLog log(LogLevel::kDebug);
  KafkaOptions options = ProducerOptions();
  options.extra["debug"] = "generic";
  auto producer = OpenKafkaProducer(options);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  // rd_kafka_new's own line: "INIT: [thrd:app]: librdkafka v2.0.2 (...) tempo#producer-N
  // initialized (...)", the handle's name (client.id#type-N) again as a field.
  const auto lines = log.WaitFor("INIT: [thrd:app]: librdkafka v");
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find(" DEBUG tempo[kafka]: INIT: [thrd:app]: librdkafka v"), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find(" client=tempo#producer-"), std::string::npos) << lines[0];
}

// The same output at our default level: nothing, and nothing on stderr either
// (the sink would have had it).
TEST_F(KafkaTest, LibrdkafkaLinesBelowTheLevelAreDropped) {
  CapturedLog log(LogLevel::kInfo);
  KafkaOptions options = ProducerOptions();
  options.extra["debug"] = "generic,broker";
  {
    auto producer = OpenKafkaProducer(options);
    ASSERT_TRUE(producer.ok()) << producer.status().ToString();
    ASSERT_TRUE((*producer)->Send("t", "k", "v").ok());
    ASSERT_TRUE((*producer)->Flush(kDeadline).ok());
  }  // rd_kafka_destroy: its threads have stopped
  EXPECT_TRUE(log.Containing("DEBUG").empty());
}

// A broker that cannot be reached is an error line of component kafka.
TEST_F(KafkaTest, AnUnreachableBrokerIsLoggedAsAnError) {
  CapturedLog log(LogLevel::kInfo);
  KafkaOptions options;
  options.brokers = "127.0.0.1:1";  // nothing listens on port 1
  options.extra = {{"reconnect.backoff.ms", "10"}};
  auto producer = OpenKafkaProducer(options);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  ASSERT_TRUE((*producer)->Send("t", "k", "v").ok());  // makes it connect
  const auto lines = log.WaitFor("127.0.0.1:1");
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find(" ERROR tempo[kafka]: "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("Connection refused"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace tempo::kafka
