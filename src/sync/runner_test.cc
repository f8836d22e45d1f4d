// Tests of the sync runners: Syncer::Run's RunOptions (the loop of `tempo
// sync`, --drain included) and BackgroundSync (serve --embedded's loop).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "events/events.h"
#include "log/log.h"
#include "origin/rocks_origin.h"
#include "sync/background_sync.h"
#include "sync/event_lines_test_util.h"
#include "sync/memory_stream_test_util.h"
#include "sync/publish.h"
#include "sync/syncer.h"
#include "testing/temp_dir.h"

namespace tempo::sync {
namespace {

using testing::MemoryConsumer;
using testing::MemoryLog;
using testing::MemoryProducer;
using testing::ModuleUpsert;

constexpr std::chrono::seconds kWaitLimit{20};

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    Result<std::unique_ptr<origin::Origin>> opened = origin::OpenRocksOrigin(dir_.path() + "/db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    origin_ = std::move(opened).value();
  }

  // Appends `n` module upserts (ids from `first`) to the content topic.
  void Append(int first, int n) {
    for (int i = first; i < first + n; ++i) {
      const std::string line = ModuleUpsert("acme", "m" + std::to_string(i), 1, {"web"});
      Result<events::Event> event = events::DecodeEvent(line);
      ASSERT_TRUE(event.ok()) << event.status().ToString();
      log_.Append(stream::kContentTopic, 0, ContentKey(event->key), line);
    }
  }

  std::unique_ptr<MemoryConsumer> NewConsumer() {
    return std::make_unique<MemoryConsumer>(
        &log_, std::vector<std::string>{std::string(stream::kContentTopic)});
  }

  SyncOptions FastOptions(size_t max_batch) {
    SyncOptions options;
    options.max_batch = max_batch;
    options.poll_timeout = std::chrono::milliseconds(5);
    options.retry_backoff_min = std::chrono::milliseconds(1);
    options.retry_backoff_max = std::chrono::milliseconds(4);
    options.log = [this](const std::string& line) { logged_.push_back(line); };
    return options;
  }

  ::tempo::testing::TempDir dir_{"tempo-runner"};
  std::unique_ptr<origin::Origin> origin_;
  MemoryLog log_;
  std::vector<std::string> logged_;  // from the syncing thread; read after it stopped
};

TEST_F(RunnerTest, UntilIdleReturnsOnceTheBacklogIsConsumed) {
  Append(0, 10);
  std::unique_ptr<MemoryConsumer> consumer = NewConsumer();
  MemoryProducer producer(&log_);
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions(/*max_batch=*/4));
  RunOptions run;
  run.until_idle = true;
  int calls = 0;
  run.after_batch = [&] { ++calls; };
  ASSERT_TRUE(syncer.Run(run).ok());
  EXPECT_EQ(syncer.Stats().applied, 10u);
  EXPECT_EQ(syncer.Stats().batches, 3u);  // 4 + 4 + 2
  EXPECT_EQ(calls, 4);                    // three batches and the empty poll
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 10);
}

TEST_F(RunnerTest, RetriesAStreamThatIsDownThenDrains) {
  Append(0, 3);
  std::unique_ptr<MemoryConsumer> consumer = NewConsumer();
  consumer->FailPolls(2, Status::Unavailable("broker down"));
  MemoryProducer producer(&log_);
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions(100));
  RunOptions run;
  run.until_idle = true;
  int calls = 0;
  run.after_batch = [&] { ++calls; };  // failed attempts count too (stats keep printing)
  ASSERT_TRUE(syncer.Run(run).ok());
  EXPECT_EQ(syncer.Stats().applied, 3u);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(logged_, (std::vector<std::string>(2, "sync: Unavailable: broker down; retrying")));
}

TEST_F(RunnerTest, AnErrorRetryingCannotFixEndsRun) {
  std::unique_ptr<MemoryConsumer> consumer = NewConsumer();
  consumer->FailPolls(1, Status::InvalidArgument("unknown topic"));
  MemoryProducer producer(&log_);
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions(100));
  RunOptions run;
  run.until_idle = true;
  EXPECT_EQ(syncer.Run(run).ToString(), "InvalidArgument: unknown topic");
}

TEST_F(RunnerTest, BackgroundSyncCatchesUpThenFollowsTheStream) {
  Append(0, 7);
  BackgroundSync sync(NewConsumer(), std::make_unique<MemoryProducer>(&log_), origin_.get(),
                      FastOptions(/*max_batch=*/3));
  ASSERT_TRUE(sync.CatchUp().ok());
  EXPECT_EQ(sync.Stats().applied, 7u);  // all of it before CatchUp returned
  std::atomic<bool> failed{false};
  sync.Start([&](const Status&) { failed = true; });
  Append(7, 5);
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (sync.Stats().applied < 12 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  sync.Stop();
  sync.Stop();  // idempotent
  EXPECT_EQ(sync.Stats().applied, 12u);
  EXPECT_FALSE(failed);
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 12);
}

TEST_F(RunnerTest, BackgroundSyncCatchUpDoesNotRetry) {
  auto consumer = NewConsumer();
  consumer->FailPolls(1, Status::Unavailable("log busy"));
  BackgroundSync sync(std::move(consumer), std::make_unique<MemoryProducer>(&log_), origin_.get(),
                      FastOptions(10));
  EXPECT_EQ(sync.CatchUp().ToString(), "Unavailable: log busy");
}

TEST_F(RunnerTest, BackgroundSyncReportsTheErrorThatEndsIt) {
  auto consumer = NewConsumer();
  consumer->FailPolls(1, Status::InvalidArgument("unknown topic"));
  BackgroundSync sync(std::move(consumer), std::make_unique<MemoryProducer>(&log_), origin_.get(),
                      FastOptions(10));
  std::atomic<bool> reported{false};
  std::string error;
  sync.Start([&](const Status& s) {
    error = s.ToString();
    reported = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (!reported && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  sync.Stop();
  EXPECT_EQ(error, "InvalidArgument: unknown topic");
}

TEST_F(RunnerTest, BackgroundSyncRunsTheLogRetentionBetweenBatches) {
  // The embedded log with small segments: 200 events make dozens of them.
  const std::string log_dir = dir_.path() + "/log";
  log::LogOptions log_options;
  log_options.segment_bytes = 2048;
  auto producer = log::OpenLogProducer(log_dir, log_options);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  auto publish = [&](int first, int n) {
    for (int i = first; i < first + n; ++i) {
      const std::string line = ModuleUpsert("acme", "m" + std::to_string(i), 1, {"web"});
      ASSERT_TRUE(
          (*producer)->Send(stream::kContentTopic, "acme/module/m" + std::to_string(i), line).ok());
    }
    ASSERT_TRUE((*producer)->Flush(std::chrono::seconds(5)).ok());
  };
  publish(0, 200);
  const std::string content_dir = log_dir + "/" + std::string(stream::kContentTopic);
  const size_t segments_before = std::distance(std::filesystem::directory_iterator(content_dir),
                                               std::filesystem::directory_iterator());
  auto consumer = log::OpenLogConsumer(log_dir, "sync", {std::string(stream::kContentTopic)},
                                       log::StartAt::kEarliest);
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  auto sync_producer = log::OpenLogProducer(log_dir, log_options);
  ASSERT_TRUE(sync_producer.ok());
  log::RetentionOptions retention;
  retention.max_bytes = 4096;
  retention.interval = std::chrono::milliseconds(0);  // a pass after every batch
  retention.uncommitted_topics = {std::string(stream::kInvalidationTopic)};
  BackgroundSync sync(std::move(*consumer), std::move(*sync_producer), origin_.get(),
                      FastOptions(/*max_batch=*/50), nullptr,
                      std::make_unique<log::PeriodicRetention>(log_dir, retention));

  ASSERT_TRUE(sync.CatchUp().ok());
  EXPECT_EQ(sync.Stats().applied, 200u);
  const SyncStats caught_up = sync.Stats();
  EXPECT_GT(caught_up.log_retention_deleted_segments, 0u);
  EXPECT_GT(caught_up.log_retention_deleted_bytes, caught_up.log_retention_deleted_segments);
  uint64_t content_bytes = 0;
  size_t segments_after = 0;
  for (const auto& e : std::filesystem::directory_iterator(content_dir)) {
    if (e.path().extension() != ".log") continue;
    content_bytes += e.file_size();
    ++segments_after;
  }
  EXPECT_LT(segments_after, segments_before);
  EXPECT_LE(content_bytes, retention.max_bytes);

  std::atomic<bool> failed{false};
  sync.Start([&](const Status&) { failed = true; });
  publish(200, 100);
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while ((sync.Stats().applied < 300 || sync.Stats().log_retention_deleted_segments ==
                                            caught_up.log_retention_deleted_segments) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  sync.Stop();
  EXPECT_FALSE(failed);
  EXPECT_EQ(sync.Stats().applied, 300u);
  EXPECT_GT(sync.Stats().log_retention_deleted_segments, caught_up.log_retention_deleted_segments);
}

}  // namespace
}  // namespace tempo::sync
