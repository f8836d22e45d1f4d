// Tests of the sync loop (syncer.h) over a real RocksDB origin and the
// in-memory stream of memory_stream_test_util.h, once over librdkafka's
// mock cluster (kafka/mock_cluster.h) and once over the embedded log.
#include "sync/syncer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/time.h"
#include "events/events.h"
#include "events/invalidation.h"
#include "kafka/kafka.h"
#include "kafka/mock_cluster.h"
#include "log/log.h"
#include "origin/rocks_origin.h"
#include "sync/event_lines_test_util.h"
#include "sync/memory_stream_test_util.h"
#include "sync/publish.h"
#include "testing/origin_wrapper.h"
#include "testing/temp_dir.h"

namespace tempo::sync {
namespace {

using testing::MemoryConsumer;
using testing::MemoryLog;
using testing::MemoryProducer;
using testing::ModuleDelete;
using testing::ModuleUpsert;
using testing::TemplateUpsert;

constexpr std::chrono::seconds kWaitLimit{20};

using ::tempo::testing::TempDir;

// The real origin, with failures injected in front of it and every Apply and
// Sync noted in the stream's journal.
class JournaledOrigin final : public tempo::testing::OriginWrapper {
 public:
  JournaledOrigin(origin::Origin* base, MemoryLog* log) : OriginWrapper(base), log_(log) {}

  // After `after` more successful Apply calls, the next `n` Apply (or Sync)
  // calls fail with `status`. Apply, not ApplyBatch: the Syncer's batches go
  // through Origin's default ApplyBatch, one Apply per event, so a failure
  // can come after part of a batch was applied.
  void FailApplies(int n, Status status, int after = 0) {
    apply_ok_before_failing_ = after;
    fail_applies_ = n;
    apply_error_ = std::move(status);
  }
  void FailSyncs(int n, Status status) {
    fail_syncs_ = n;
    sync_error_ = std::move(status);
  }
  // The next `n` ApplyBatch calls are applied whole by the base origin (with
  // its outbox) but report Unavailable, as when the connection to a database
  // drops during the COMMIT.
  void LoseBatchOutcomes(int n) { lose_batch_outcomes_ = n; }

  using OriginWrapper::ApplyBatch;
  Status ApplyBatch(std::span<const events::Event* const> events,
                    std::vector<origin::ApplyResult>* results,
                    std::vector<origin::SliceKey>* touched, bool record_pending) override {
    if (lose_batch_outcomes_ > 0) {
      --lose_batch_outcomes_;
      const size_t touched_before = touched == nullptr ? 0 : touched->size();
      if (Status s = OriginWrapper::ApplyBatch(events, results, touched, record_pending); !s.ok()) {
        return s;
      }
      results->clear();  // an atomic batch that failed reports nothing applied
      if (touched != nullptr) touched->resize(touched_before);
      return Status::Unavailable("connection lost during COMMIT");
    }
    return Origin::ApplyBatch(events, results, touched, record_pending);  // one Apply per event
  }
  Result<origin::ApplyOutcome> Apply(const events::Event& event,
                                     std::vector<origin::SliceKey>* touched) override {
    log_->Note("apply");
    if (apply_ok_before_failing_ > 0) {
      --apply_ok_before_failing_;
    } else if (fail_applies_ > 0) {
      --fail_applies_;
      return apply_error_;
    }
    return OriginWrapper::Apply(event, touched);
  }
  Status Sync() override {
    log_->Note("sync");
    if (fail_syncs_ > 0) {
      --fail_syncs_;
      return sync_error_;
    }
    return OriginWrapper::Sync();
  }

 private:
  MemoryLog* const log_;
  std::atomic<int> apply_ok_before_failing_{0}, fail_applies_{0}, fail_syncs_{0},
      lose_batch_outcomes_{0};
  Status apply_error_, sync_error_;
};

// Every record key with its state, one line each, in export order.
std::string Dump(origin::Origin* origin) {
  std::string out;
  Status s = origin->ForEachRecord([&](const origin::StoredRecord& r) {
    out += r.key.tenant + "/" + events::KindName(r.key.kind) + "/" + r.key.id + " v" +
           std::to_string(r.version) + (r.tombstone ? " tombstone " : " ") + r.published_at + " " +
           r.record_json + "\n";
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::string Describe(const origin::SliceKey& s, int64_t version) {
  return s.partition.tenant + "/" + s.partition.channel + "/" + s.partition.page_type + "/" +
         s.scope + "@" + std::to_string(version);
}

std::string Describe(const std::vector<SliceTouch>& touches) {
  std::string out;
  for (const SliceTouch& t : touches) out += Describe(t.slice, t.version) + " ";
  return out;
}

// The origin's pending invalidations, described.
std::string Pending(origin::Origin* origin) {
  Result<std::vector<SliceTouch>> pending = origin->PendingInvalidations();
  EXPECT_TRUE(pending.ok()) << pending.status().ToString();
  return pending.ok() ? Describe(*pending) : pending.status().ToString();
}

// Runs `syncer` on a thread until `done` holds (bounded by kWaitLimit), then stops it.
void RunUntil(Syncer* syncer, const std::function<bool()>& done) {
  Status run_status = Status::Internal("not returned");
  std::thread runner([&] { run_status = syncer->Run(); });
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  syncer->Stop();
  runner.join();
  EXPECT_TRUE(run_status.ok()) << run_status.ToString();
}

class SyncerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<origin::Origin>> opened = origin::OpenRocksOrigin(dir_.path() + "/db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    rocks_ = std::move(*opened);
    origin_ = std::make_unique<JournaledOrigin>(rocks_.get(), &log_);
  }

  // Appends an event line to the content topic with its record key (a
  // placeholder key for lines that do not decode); returns its offset.
  int64_t Append(const std::string& line, int32_t partition = 0) {
    Result<events::Event> event = events::DecodeEvent(line);
    const std::string key = event.ok() ? ContentKey(event->key) : "?/poison";
    return log_.Append(stream::kContentTopic, partition, key, line);
  }

  std::unique_ptr<MemoryConsumer> NewConsumer() {
    return std::make_unique<MemoryConsumer>(
        &log_, std::vector<std::string>{std::string(stream::kContentTopic)});
  }

  static SyncOptions FastOptions(size_t max_batch = 2000) {
    SyncOptions options;
    options.max_batch = max_batch;
    options.poll_timeout = std::chrono::milliseconds(5);
    options.retry_backoff_min = std::chrono::milliseconds(1);
    options.retry_backoff_max = std::chrono::milliseconds(4);
    return options;
  }

  // RunOnce until a poll comes back empty; returns the non-empty batches.
  std::vector<BatchResult> Drain(Syncer* syncer) {
    std::vector<BatchResult> batches;
    for (int i = 0; i < 1000; ++i) {
      Result<BatchResult> r = syncer->RunOnce();
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok() || r->messages == 0) break;
      batches.push_back(*r);
    }
    return batches;
  }

  // The invalidation topic, decoded, in order.
  std::vector<std::string> Invalidations() { return InvalidationsOf(&log_); }
  static std::vector<std::string> InvalidationsOf(MemoryLog* log) {
    std::vector<std::string> out;
    for (const stream::Message& m : log->Read(stream::kInvalidationTopic)) {
      Result<events::Invalidation> inv = events::DecodeInvalidation(m.value);
      EXPECT_TRUE(inv.ok()) << inv.status().ToString();
      if (!inv.ok()) continue;
      EXPECT_EQ(m.key, events::InvalidationKey(inv->slice));
      out.push_back(Describe(inv->slice, inv->version));
    }
    return out;
  }

  // The same lines applied directly, in order, to a fresh origin.
  std::string ReferenceDump(const std::vector<std::string>& lines) {
    TempDir dir;
    Result<std::unique_ptr<origin::Origin>> ref = origin::OpenRocksOrigin(dir.path() + "/db");
    EXPECT_TRUE(ref.ok());
    if (!ref.ok()) return "";
    for (const std::string& line : lines) {
      Result<events::Event> event = events::DecodeEvent(line);
      if (!event.ok()) continue;
      EXPECT_TRUE((*ref)->Apply(*event).ok());
    }
    return Dump(ref->get());
  }

  TempDir dir_;
  MemoryLog log_;
  std::unique_ptr<origin::Origin> rocks_;
  std::unique_ptr<JournaledOrigin> origin_;
};

TEST_F(SyncerTest, AppliesEveryEventOnceAndCommitsEachPartition) {
  std::vector<std::string> lines;
  for (int i = 0; i < 40; ++i) {
    const std::string tenant = i % 2 ? "A" : "B";
    lines.push_back(ModuleUpsert(
        tenant, "m" + std::to_string(i % 15), 1 + i / 15, {"web", "app"},
        i % 3 ? std::vector<std::string>{} : std::vector<std::string>{"p" + std::to_string(i)}));
    Append(lines.back(), i % 2);  // each record key stays in one partition
  }
  lines.push_back(TemplateUpsert("A", "web", "home", 1));
  Append(lines.back(), 1);
  lines.push_back(ModuleDelete("B", "m0", 9));
  Append(lines.back(), 0);

  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions(7));
  const std::vector<BatchResult> batches = Drain(&syncer);

  EXPECT_EQ(batches.size(), 6u);  // 42 messages in batches of 7
  const SyncStats stats = syncer.Stats();
  EXPECT_EQ(stats.batches, 6u);
  EXPECT_EQ(stats.events, 42u);
  EXPECT_EQ(stats.applied, 42u);
  EXPECT_EQ(stats.stale, 0u);
  EXPECT_EQ(stats.invalid, 0u);
  EXPECT_EQ(stats.lag, 0);
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 21);
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 1), 21);
  EXPECT_EQ(Dump(origin_.get()), ReferenceDump(lines));
  EXPECT_TRUE(log_.Read(stream::kDlqTopic).empty());
}

// `line` (an envelope with "publishedAt":"2026-11-22T10:00:00.123Z") published at `at`.
std::string PublishedAt(std::string line, UnixNanos at) {
  const std::string old_value = "\"publishedAt\":\"2026-11-22T10:00:00.123Z\"";
  const size_t where = line.find(old_value);
  EXPECT_NE(where, std::string::npos) << line;
  if (where == std::string::npos) return line;
  return line.replace(where, old_value.size(), "\"publishedAt\":\"" + FormatRfc3339(at) + "\"");
}

TEST_F(SyncerTest, TheApplyLagOfEveryAppliedEventIsObserved) {
  const UnixNanos now = NowUnixNanos();
  constexpr int64_t kSecondNs = 1'000'000'000;
  Append(PublishedAt(ModuleUpsert("A", "m1", 1, {"web"}), now - 2 * kSecondNs));
  Append(PublishedAt(ModuleUpsert("A", "m2", 1, {"web"}), now - 2 * kSecondNs));
  Append(PublishedAt(ModuleUpsert("A", "m3", 1, {"web"}), now - 3600 * kSecondNs));  // replayed
  Append(PublishedAt(ModuleUpsert("A", "m4", 1, {"web"}), now + 3600 * kSecondNs));  // skewed
  Append(TemplateUpsert("A", "web", "home", 1));                  // no publishedAt
  Append(PublishedAt(ModuleUpsert("A", "m1", 1, {"web"}), now));  // stale: not applied
  Append("not json");                                             // invalid: not applied

  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions());
  Drain(&syncer);

  const SyncStats stats = syncer.Stats();
  EXPECT_EQ(stats.applied, 5u);
  EXPECT_EQ(stats.apply_lag_unknown, 1u);
  const HistogramSnapshot& lag = stats.apply_lag;
  ASSERT_EQ(lag.bounds.size(), std::size(kLagBounds));
  EXPECT_EQ(lag.count, 4u);
  // The future publishedAt counts as no lag: the first bucket (1 ms).
  EXPECT_EQ(lag.bucket_counts.front(), 1u);
  // The two published 2 s before the test began were applied at least 2 s after: above
  // the 1 s bound, like the hour-old one.
  uint64_t up_to_1s = 0, above_1s = 0;
  for (size_t i = 0; i < lag.bounds.size(); ++i) {
    (lag.bounds[i] <= std::chrono::seconds(1) ? up_to_1s : above_1s) += lag.bucket_counts[i];
  }
  above_1s += lag.bucket_counts.back();
  EXPECT_EQ(up_to_1s, 1u);
  EXPECT_EQ(above_1s, 3u);
  EXPECT_GE(lag.bucket_counts.back(), 1u);  // the hour-old one, past 60 s
  EXPECT_GE(lag.sum_seconds, 3600.0 + 4.0);
}

TEST_F(SyncerTest, ReplayAfterACrashBeforeCommitChangesNothing) {
  std::vector<std::string> lines = {
      ModuleUpsert("A", "m1", 1, {"web"}), ModuleUpsert("A", "m2", 4, {"web", "app"}, {"p1"}),
      TemplateUpsert("A", "web", "home", 2), ModuleDelete("A", "m1", 3), "not json"};
  for (const std::string& line : lines) Append(line);
  MemoryProducer producer(&log_);

  std::string before;
  size_t invalidations = 0;
  {
    auto consumer = NewConsumer();
    consumer->FailCommits(1);  // the process dies before its commit is durable
    Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions());
    Result<BatchResult> r = syncer.RunOnce();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
    EXPECT_EQ(syncer.Stats().commit_failures, 1u);
    EXPECT_EQ(syncer.Stats().applied, 4u);
    before = Dump(origin_.get());
    invalidations = Invalidations().size();
    EXPECT_EQ(invalidations, 3u);  // web/* (m1 and the template), web/p1, app/p1
  }
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 0);

  // The restarted process gets the whole batch again.
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions());
  Result<BatchResult> r = syncer.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->messages, 5u);
  EXPECT_EQ(r->applied, 0u);
  EXPECT_EQ(r->stale, 4u);
  EXPECT_EQ(r->invalid, 1u);
  EXPECT_EQ(r->invalidations, 0u);
  EXPECT_EQ(Dump(origin_.get()), before);
  EXPECT_EQ(Dump(origin_.get()), ReferenceDump(lines));
  EXPECT_EQ(Invalidations().size(), invalidations);
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 5);
}

TEST_F(SyncerTest, DuplicatesAndOlderVersionsAfterNewerAreHarmless) {
  const std::vector<std::string> lines = {
      ModuleUpsert("A", "m1", 1, {"web"}), ModuleUpsert("A", "m1", 3, {"web", "app"}),
      ModuleUpsert("A", "m1", 2, {"app"}), ModuleUpsert("A", "m1", 3, {"web", "app"}),
      ModuleUpsert("A", "m1", 1, {"web"}), ModuleDelete("A", "m1", 2),
      ModuleDelete("A", "m1", 4),          ModuleUpsert("A", "m1", 4, {"web"})};
  for (const std::string& line : lines) Append(line);
  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions(3));
  const std::vector<BatchResult> batches = Drain(&syncer);

  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].applied, 2u);  // v1, v3 (v2 stale)
  EXPECT_EQ(batches[1].applied, 0u);  // v3 again, v1 again, delete v2: all stale
  EXPECT_EQ(batches[1].stale, 3u);
  EXPECT_EQ(batches[1].invalidations, 0u);
  EXPECT_EQ(batches[2].applied, 1u);  // delete v4; the upsert v4 is stale
  EXPECT_EQ(syncer.Stats().stale, 5u);
  EXPECT_EQ(Dump(origin_.get()),
            "A/module/m1 v4 tombstone  {\"id\":\"m1\",\"tenant\":\"A\",\"version\":4}\n");
  EXPECT_EQ(Invalidations(),
            (std::vector<std::string>{"A/app/home/*@3", "A/web/home/*@3",     // batch 1
                                      "A/app/home/*@4", "A/web/home/*@4"}));  // batch 3
}

TEST_F(SyncerTest, PoisonEventsGoToTheDlqWithTheirBytesAndTheLoopCarriesOn) {
  const std::vector<std::string> poison = {
      "{\"schema\":1,\"kind\":\"module\"",
      R"({"schema":2,"kind":"module","op":"delete","record":{"id":"m","tenant":"A","version":1}})",
      R"({"schema":1,"kind":"module","op":"upsert","record":{"id":"m","tenant":"A",)"
      R"("pageType":"home","channels":[],"version":1}})",
      "{\"schema\":1,\"kind\":\"module\",\"op\":\"delete\",\"record\":{\"id\":\"m\xff\","
      "\"tenant\":\"A\",\"version\":1}}"};
  Append(ModuleUpsert("A", "m0", 1, {"web"}), 1);
  std::vector<int64_t> offsets;
  for (const std::string& line : poison) offsets.push_back(Append(line, 1));
  Append(ModuleUpsert("A", "m1", 1, {"web"}), 1);

  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions(4));
  Drain(&syncer);

  const SyncStats stats = syncer.Stats();
  EXPECT_EQ(stats.applied, 2u);
  EXPECT_EQ(stats.invalid, 4u);
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 1), 6);
  const std::vector<stream::Message> dlq = log_.Read(stream::kDlqTopic);
  ASSERT_EQ(dlq.size(), poison.size());
  for (size_t i = 0; i < poison.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(dlq[i].key, "?/poison");
    EXPECT_EQ(dlq[i].value, poison[i]);
    const std::string reason = events::DecodeEvent(poison[i]).status().message();
    ASSERT_EQ(dlq[i].headers.size(), 4u);
    EXPECT_EQ(dlq[i].headers[0].name, "reason");
    EXPECT_EQ(dlq[i].headers[0].value, reason);
    EXPECT_EQ(dlq[i].headers[1].name, "topic");
    EXPECT_EQ(dlq[i].headers[1].value, stream::kContentTopic);
    EXPECT_EQ(dlq[i].headers[2].name, "partition");
    EXPECT_EQ(dlq[i].headers[2].value, "1");
    EXPECT_EQ(dlq[i].headers[3].name, "offset");
    EXPECT_EQ(dlq[i].headers[3].value, std::to_string(offsets[i]));
  }
  EXPECT_EQ(dlq[1].headers[0].value.substr(0, 8), "schema: ");
  EXPECT_EQ(dlq[2].headers[0].value.substr(0, 13), "record.zone: ");
  // m0 in the first batch, m1 in the second.
  EXPECT_EQ(Invalidations(), (std::vector<std::string>{"A/web/home/*@1", "A/web/home/*@1"}));
}

// A module upsert whose record is `extra_bytes` larger than ModuleUpsert's.
std::string PaddedModuleUpsert(const std::string& tenant, const std::string& id, int64_t version,
                               size_t extra_bytes) {
  std::string line = ModuleUpsert(tenant, id, version, {"web"});
  line.insert(line.find("\"title\":\"") + 9, std::string(extra_bytes, 'x'));
  return line;
}

// The record's size in the "record: N bytes ..." reason of a line.
size_t RecordBytes(const std::string& line) {
  return events::DecodeEvent(line)->record_json.size();
}

TEST_F(SyncerTest, ARecordOverTheSizeLimitGoesToTheDlqWithItsReason) {
  const SyncOptions defaults;
  const size_t limit = defaults.decode.max_record_bytes;
  ASSERT_EQ(limit, size_t{1} << 20);
  const std::string small = ModuleUpsert("A", "m0", 1, {"web"});
  const std::string at_limit = PaddedModuleUpsert("A", "m1", 1, limit - RecordBytes(small));
  ASSERT_EQ(RecordBytes(at_limit), limit);
  const std::string over = PaddedModuleUpsert("A", "m2", 1, limit - RecordBytes(small) + 1);
  Append(small);
  Append(at_limit);
  const int64_t over_offset = log_.Append(stream::kContentTopic, 0, "A/module/m2", over);

  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions());
  Drain(&syncer);

  EXPECT_EQ(syncer.Stats().applied, 2u);
  EXPECT_EQ(syncer.Stats().invalid, 1u);
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 3);
  const std::vector<stream::Message> dlq = log_.Read(stream::kDlqTopic);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].key, "A/module/m2");
  EXPECT_EQ(dlq[0].value, over);
  ASSERT_EQ(dlq[0].headers.size(), 4u);
  EXPECT_EQ(dlq[0].headers[0].name, "reason");
  EXPECT_EQ(dlq[0].headers[0].value,
            "record: 1048577 bytes of JSON, more than the limit of 1048576");
  EXPECT_EQ(dlq[0].headers[3].value, std::to_string(over_offset));
}

TEST_F(SyncerTest, TheRecordSizeLimitIsAnOption) {
  const std::string line = ModuleUpsert("A", "m1", 1, {"web"});
  Append(line);
  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  SyncOptions options = FastOptions();
  options.decode.max_record_bytes = RecordBytes(line) - 1;
  Syncer syncer(consumer.get(), &producer, origin_.get(), options);
  Drain(&syncer);
  EXPECT_EQ(syncer.Stats().applied, 0u);
  const std::vector<stream::Message> dlq = log_.Read(stream::kDlqTopic);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].headers.at(0).value, "record: " + std::to_string(RecordBytes(line)) +
                                            " bytes of JSON, more than the limit of " +
                                            std::to_string(RecordBytes(line) - 1));
  EXPECT_EQ(Dump(origin_.get()), ReferenceDump({}));
}

// The size limit over the embedded log, as `tempo sync --log` runs it: the
// oversized event lands in the log's DLQ topic with its reason, the rest applies.
TEST(LogSyncerTest, ARecordOverTheSizeLimitLandsInTheLogsDlq) {
  using namespace std::chrono_literals;
  TempDir dir;
  const std::string log_dir = dir.path() + "/log";
  auto producer = log::OpenLogProducer(log_dir);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  const std::string small = ModuleUpsert("A", "m1", 1, {"web"});
  const std::string big = PaddedModuleUpsert("A", "m2", 1, 200);
  for (const std::string& line : {small, big}) {
    ASSERT_TRUE((*producer)->Send(stream::kContentTopic, "A/module", line, {}).ok());
  }
  ASSERT_TRUE((*producer)->Flush(kWaitLimit).ok());

  auto origin = origin::OpenRocksOrigin(dir.path() + "/db");
  ASSERT_TRUE(origin.ok()) << origin.status().ToString();
  auto consumer = log::OpenLogConsumer(log_dir, "tempo-sync", {std::string(stream::kContentTopic)},
                                       log::StartAt::kEarliest);
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  SyncOptions options;
  options.poll_timeout = 5ms;
  options.decode.max_record_bytes = RecordBytes(small) + 100;
  Syncer syncer(consumer->get(), producer->get(), origin->get(), options);
  Result<BatchResult> batch = syncer.RunOnce();
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->applied, 1u);
  EXPECT_EQ(batch->invalid, 1u);

  auto dlq = log::OpenLogConsumer(log_dir, "reader", {std::string(stream::kDlqTopic)},
                                  log::StartAt::kEarliest);
  ASSERT_TRUE(dlq.ok()) << dlq.status().ToString();
  Result<std::vector<stream::Message>> got = (*dlq)->Poll(10, 1s);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].value, big);
  ASSERT_FALSE((*got)[0].headers.empty());
  EXPECT_EQ((*got)[0].headers[0].name, "reason");
  EXPECT_EQ((*got)[0].headers[0].value, "record: " + std::to_string(RecordBytes(big)) +
                                            " bytes of JSON, more than the limit of " +
                                            std::to_string(options.decode.max_record_bytes));
}

TEST_F(SyncerTest, InvalidatesOldAndNewSlicesWithTheHighestAppliedVersion) {
  std::vector<std::string> observed;
  Syncer::Observer observer = [&](const std::vector<SliceTouch>& touches) {
    observed.push_back(Describe(touches));
  };
  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions(), observer);

  Append(ModuleUpsert("A", "m1", 1, {"web", "app"}));
  Append(ModuleUpsert("A", "m2", 5, {"web"}, {"p1", "p2"}));
  Append(TemplateUpsert("A", "web", "home", 2));
  ASSERT_EQ(Drain(&syncer).size(), 1u);
  EXPECT_EQ(Invalidations(), (std::vector<std::string>{"A/app/home/*@1", "A/web/home/*@2",
                                                       "A/web/home/p1@5", "A/web/home/p2@5"}));

  // m1 moves from both channels, type-wide, to app/p9; m2's older version is stale.
  Append(ModuleUpsert("A", "m1", 2, {"app"}, {"p9"}));
  Append(ModuleUpsert("A", "m2", 4, {"app"}));
  ASSERT_EQ(Drain(&syncer).size(), 1u);
  // Then m1 moves to another page type.
  Append(ModuleUpsert("A", "m1", 3, {"app"}, {"p9"}, "pdp"));
  ASSERT_EQ(Drain(&syncer).size(), 1u);

  const std::vector<std::string> batch2 = {"A/app/home/*@2", "A/app/home/p9@2", "A/web/home/*@2"};
  const std::vector<std::string> batch3 = {"A/app/home/p9@3", "A/app/pdp/p9@3"};
  std::vector<std::string> expected = {"A/app/home/*@1", "A/web/home/*@2", "A/web/home/p1@5",
                                       "A/web/home/p2@5"};
  expected.insert(expected.end(), batch2.begin(), batch2.end());
  expected.insert(expected.end(), batch3.begin(), batch3.end());
  EXPECT_EQ(Invalidations(), expected);
  EXPECT_EQ(observed, (std::vector<std::string>{
                          "A/app/home/*@1 A/web/home/*@2 A/web/home/p1@5 A/web/home/p2@5 ",
                          "A/app/home/*@2 A/app/home/p9@2 A/web/home/*@2 ",
                          "A/app/home/p9@3 A/app/pdp/p9@3 "}));
  EXPECT_EQ(syncer.Stats().invalidations, 9u);
}

TEST_F(SyncerTest, TheInvalidationsOfABatchAppliedBeforeACrashAreSentAtRestart) {
  const std::vector<std::string> lines = {ModuleUpsert("A", "m1", 1, {"web"}),
                                          ModuleUpsert("A", "m2", 4, {"web", "app"}, {"p1"}),
                                          TemplateUpsert("A", "web", "home", 2), "not json"};
  for (const std::string& line : lines) Append(line);
  {
    // The process applies the batch, then dies before any message gets out.
    MemoryProducer producer(&log_);
    producer.FailFlushes(1 << 30);
    auto consumer = NewConsumer();
    Syncer syncer(consumer.get(), &producer, rocks_.get(), FastOptions());
    RunUntil(&syncer, [&] { return syncer.Stats().producer_retries > 0; });
    EXPECT_EQ(syncer.Stats().applied, 3u);
  }
  EXPECT_TRUE(log_.Read(stream::kInvalidationTopic).empty());
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 0);
  const std::string owed = "A/app/home/p1@4 A/web/home/*@2 A/web/home/p1@4 ";
  EXPECT_EQ(Pending(rocks_.get()), owed);

  // The restarted process gets the batch again, all stale: the invalidations
  // come from the outbox, observed first, with the usual delivery retries.
  std::vector<std::string> observed;
  const Syncer::Observer observer = [&](const std::vector<SliceTouch>& touches) {
    observed.push_back(Describe(touches));
  };
  MemoryProducer producer(&log_);
  producer.FailFlushes(1);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, rocks_.get(), FastOptions(), observer);
  Result<BatchResult> r = syncer.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->messages, 4u);
  EXPECT_EQ(r->applied, 0u);
  EXPECT_EQ(r->stale, 3u);
  EXPECT_EQ(r->invalid, 1u);
  EXPECT_EQ(r->invalidations, 0u);
  EXPECT_EQ(observed, std::vector<std::string>{owed});
  EXPECT_EQ(Invalidations(),
            (std::vector<std::string>{"A/app/home/p1@4", "A/web/home/*@2", "A/web/home/p1@4"}));
  EXPECT_EQ(syncer.Stats().recovered_invalidations, 3u);
  EXPECT_EQ(syncer.Stats().producer_retries, 1u);
  EXPECT_EQ(log_.Read(stream::kDlqTopic).size(), 1u);  // the replayed poison, once
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 4);
  EXPECT_EQ(Pending(rocks_.get()), "");
  EXPECT_EQ(Dump(rocks_.get()), ReferenceDump(lines));

  // Delivered and cleared: a further restart owes nothing.
  auto next_consumer = NewConsumer();
  Syncer next(next_consumer.get(), &producer, rocks_.get(), FastOptions(), observer);
  EXPECT_TRUE(Drain(&next).empty());
  EXPECT_EQ(Invalidations().size(), 3u);
  EXPECT_EQ(observed.size(), 1u);
}

TEST_F(SyncerTest, EachBatchRecordsTheInvalidationsItSends) {
  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, rocks_.get(), FastOptions());
  std::vector<std::string> sent;
  // The slices each batch invalidates, as sent and as recorded with it.
  const auto batch = [&](const std::vector<std::string>& events) {
    for (const std::string& line : events) Append(line);
    const size_t before = Invalidations().size();
    EXPECT_EQ(Drain(&syncer).size(), 1u);
    std::string out;
    for (size_t i = before; i < Invalidations().size(); ++i) out += Invalidations()[i] + " ";
    return std::make_pair(out, Pending(rocks_.get()));
  };
  auto [sent1, recorded1] = batch({ModuleUpsert("A", "m1", 1, {"web", "app"}),
                                   ModuleUpsert("A", "m2", 5, {"web"}, {"p1", "p2"}),
                                   TemplateUpsert("A", "web", "home", 2)});
  EXPECT_EQ(sent1, "A/app/home/*@1 A/web/home/*@2 A/web/home/p1@5 A/web/home/p2@5 ");
  EXPECT_EQ(recorded1, sent1);
  // A move to a page, and a stale event: replaced by this batch's set.
  auto [sent2, recorded2] =
      batch({ModuleUpsert("A", "m1", 2, {"app"}, {"p9"}), ModuleUpsert("A", "m2", 4, {"app"})});
  EXPECT_EQ(sent2, "A/app/home/*@2 A/app/home/p9@2 A/web/home/*@2 ");
  EXPECT_EQ(recorded2, sent2);
  // A batch that touches nothing sends nothing and leaves the record as it is.
  auto [sent3, recorded3] = batch({ModuleUpsert("A", "m2", 3, {"ios"})});
  EXPECT_EQ(sent3, "");
  EXPECT_EQ(recorded3, sent2);

  // After a clean stop the last set is sent again at the next start: a
  // duplicate, the price of not clearing after every batch.
  auto restarted_consumer = NewConsumer();
  Syncer restarted(restarted_consumer.get(), &producer, rocks_.get(), FastOptions());
  const size_t before = Invalidations().size();
  EXPECT_TRUE(Drain(&restarted).empty());
  EXPECT_EQ(Invalidations().size(), before + 3);
  EXPECT_EQ(Pending(rocks_.get()), "");
}

TEST_F(SyncerTest, StopDuringTheRestartDeliveryKeepsThePendingInvalidations) {
  const events::Event event = [] {
    Result<events::Event> e = events::DecodeEvent(ModuleUpsert("A", "m1", 1, {"web"}));
    EXPECT_TRUE(e.ok());
    return *e;
  }();
  const events::Event* const batch[] = {&event};
  std::vector<origin::ApplyResult> results;
  ASSERT_TRUE(rocks_->ApplyBatch(batch, &results, nullptr, /*record_pending=*/true).ok());
  {
    MemoryProducer producer(&log_);
    producer.FailFlushes(1 << 30);
    auto consumer = NewConsumer();
    Syncer syncer(consumer.get(), &producer, rocks_.get(), FastOptions());
    RunUntil(&syncer, [&] { return syncer.Stats().producer_retries > 0; });
    EXPECT_EQ(syncer.Stats().recovered_invalidations, 0u);
  }
  EXPECT_EQ(Pending(rocks_.get()), "A/web/home/*@1 ");
  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, rocks_.get(), FastOptions());
  Drain(&syncer);
  EXPECT_EQ(Invalidations(), std::vector<std::string>{"A/web/home/*@1"});
  EXPECT_EQ(Pending(rocks_.get()), "");
}

TEST_F(SyncerTest, ABatchAppliedDespiteAFailureStillInvalidatesItsSlices) {
  Append(ModuleUpsert("A", "m1", 2, {"web"}, {"p1"}));
  Append(ModuleUpsert("A", "m2", 1, {"app"}));
  origin_->LoseBatchOutcomes(1);
  std::vector<std::string> observed;
  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(
      consumer.get(), &producer, origin_.get(), FastOptions(),
      [&](const std::vector<SliceTouch>& touches) { observed.push_back(Describe(touches)); });
  ASSERT_EQ(Drain(&syncer).size(), 1u);
  // The retry found both events stale; the outbox says what they touched.
  EXPECT_EQ(syncer.Stats().origin_retries, 1u);
  EXPECT_EQ(syncer.Stats().stale, 2u);
  EXPECT_EQ(Invalidations(), (std::vector<std::string>{"A/app/home/*@1", "A/web/home/p1@2"}));
  EXPECT_EQ(observed, std::vector<std::string>{"A/app/home/*@1 A/web/home/p1@2 "});
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 2);
}

TEST_F(SyncerTest, CommitsOnlyAfterOriginSyncAndProducerFlush) {
  Append(ModuleUpsert("A", "m1", 1, {"web"}));
  Append("[]");
  Append(ModuleUpsert("A", "m2", 1, {"app"}));
  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions(),
                [&](const std::vector<SliceTouch>&) { log_.Note("observe"); });
  ASSERT_EQ(Drain(&syncer).size(), 1u);
  EXPECT_EQ(log_.Journal(),
            (std::vector<std::string>{
                "apply", "apply", "observe", std::string("send ") + std::string(stream::kDlqTopic),
                std::string("send ") + std::string(stream::kInvalidationTopic),
                std::string("send ") + std::string(stream::kInvalidationTopic), "flush", "sync",
                "commit"}));
}

TEST_F(SyncerTest, RetriesAFailingOriginAndSkipsNothing) {
  std::vector<std::string> lines;
  for (int i = 0; i < 10; ++i) {
    lines.push_back(ModuleUpsert("A", "m" + std::to_string(i), 1, {"web"}));
    Append(lines.back());
  }
  origin_->FailApplies(3, Status::IOError("disk hiccup"));
  origin_->FailSyncs(2, Status::Unavailable("busy"));
  std::vector<std::string> logged;
  SyncOptions options = FastOptions(4);
  options.log = [&](const std::string& line) { logged.push_back(line); };
  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), options);
  Drain(&syncer);

  const SyncStats stats = syncer.Stats();
  EXPECT_EQ(stats.origin_retries, 5u);
  EXPECT_EQ(stats.applied, 10u);
  EXPECT_EQ(stats.events, 10u);
  EXPECT_EQ(Dump(origin_.get()), ReferenceDump(lines));
  ASSERT_EQ(logged.size(), 5u);
  EXPECT_EQ(logged[0], "sync: origin apply failed: IOError: disk hiccup; retrying");
  EXPECT_EQ(logged[3], "sync: origin sync failed: Unavailable: busy; retrying");
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 10);
}

TEST_F(SyncerTest, AFailureAfterPartOfABatchResumesAfterTheAppliedEvents) {
  std::vector<std::string> lines;
  for (int i = 0; i < 5; ++i) {
    lines.push_back(
        ModuleUpsert("A", "m" + std::to_string(i), i + 1, {"web"}, {"p" + std::to_string(i)}));
    Append(lines.back());
  }
  origin_->FailApplies(1, Status::IOError("disk hiccup"), /*after=*/2);
  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions());
  ASSERT_EQ(Drain(&syncer).size(), 1u);
  // m0 and m1 applied, m2 failed, then m2..m4: each event applied once, and
  // the first two still invalidate their slices.
  const std::vector<std::string> journal = log_.Journal();
  EXPECT_EQ(std::count(journal.begin(), journal.end(), "apply"), 6);
  EXPECT_EQ(syncer.Stats().applied, 5u);
  EXPECT_EQ(syncer.Stats().stale, 0u);
  EXPECT_EQ(syncer.Stats().origin_retries, 1u);
  EXPECT_EQ(Invalidations(),
            (std::vector<std::string>{"A/web/home/p0@1", "A/web/home/p1@2", "A/web/home/p2@3",
                                      "A/web/home/p3@4", "A/web/home/p4@5"}));
  EXPECT_EQ(Dump(origin_.get()), ReferenceDump(lines));
}

TEST_F(SyncerTest, OneWriteBatchGivesWhatOneApplyPerEventGives) {
  // Duplicates, versions out of order, deletes, moves and poison, several
  // versions of one key in one batch: through RocksOrigin::ApplyBatch (rocks_
  // directly) and through one Apply per event (origin_), in batches of 9.
  std::vector<std::string> lines;
  for (int i = 0; i < 60; ++i) {
    const std::string id = "m" + std::to_string(i % 7);
    const int64_t version = 1 + (i * 5) % 11;
    const std::vector<std::string> channels =
        i % 2 ? std::vector<std::string>{"web"} : std::vector<std::string>{"web", "app"};
    const std::vector<std::string> pages =
        i % 3 ? std::vector<std::string>{} : std::vector<std::string>{"p" + std::to_string(i % 4)};
    if (i % 13 == 5) {
      lines.push_back(ModuleDelete("A", id, version));
    } else if (i % 17 == 3) {
      lines.push_back("{\"schema\":1}");  // poison
    } else {
      lines.push_back(ModuleUpsert(i % 4 ? "A" : "B", id, version, channels, pages));
    }
  }
  lines.push_back(TemplateUpsert("A", "web", "home", 3));
  lines.push_back(TemplateUpsert("A", "web", "home", 2));

  MemoryLog other_log;
  TempDir other_dir;
  Result<std::unique_ptr<origin::Origin>> other = origin::OpenRocksOrigin(other_dir.path() + "/db");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  JournaledOrigin one_by_one(other->get(), &other_log);
  for (const std::string& line : lines) {
    Append(line);
    Result<events::Event> event = events::DecodeEvent(line);
    other_log.Append(stream::kContentTopic, 0, event.ok() ? ContentKey(event->key) : "?/poison",
                     line);
  }
  const std::vector<std::string> topics = {std::string(stream::kContentTopic)};
  MemoryProducer producer(&log_), other_producer(&other_log);
  MemoryConsumer consumer(&log_, topics), other_consumer(&other_log, topics);
  Syncer batched(&consumer, &producer, rocks_.get(), FastOptions(9));
  Syncer single(&other_consumer, &other_producer, &one_by_one, FastOptions(9));
  EXPECT_EQ(Drain(&batched).size(), 7u);
  EXPECT_EQ(Drain(&single).size(), 7u);

  EXPECT_EQ(Dump(rocks_.get()), Dump(other->get()));
  EXPECT_EQ(Dump(rocks_.get()), ReferenceDump(lines));
  EXPECT_EQ(Invalidations(), InvalidationsOf(&other_log));
  EXPECT_EQ(log_.Read(stream::kDlqTopic).size(), other_log.Read(stream::kDlqTopic).size());
  const SyncStats a = batched.Stats(), b = single.Stats();
  EXPECT_EQ(a.applied, b.applied);
  EXPECT_EQ(a.stale, b.stale);
  EXPECT_EQ(a.invalid, b.invalid);
  EXPECT_GT(a.stale, 0u);
  EXPECT_GT(a.invalid, 0u);
  for (const char* tenant : {"A", "B"}) {
    EXPECT_EQ(*rocks_->TenantKnown(tenant), *(*other)->TenantKnown(tenant)) << tenant;
  }
}

TEST_F(SyncerTest, AnUnrecoverableOriginErrorKeepsTheBatchForTheNextRun) {
  for (int i = 0; i < 5; ++i) Append(ModuleUpsert("A", "m" + std::to_string(i), 1, {"web"}));
  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions());
  Append(ModuleUpsert("A", "m0", 2, {"web"}));
  origin_->FailApplies(1, Status::Corruption("bad block"));
  // The first message fails: nothing is committed, nothing is skipped.
  Result<BatchResult> r = syncer.RunOnce();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().ToString(), "Corruption: bad block");
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 0);
  EXPECT_TRUE(log_.Read(stream::kInvalidationTopic).empty());

  r = syncer.RunOnce();  // resumes the same batch
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->messages, 6u);
  EXPECT_EQ(r->applied, 6u);
  EXPECT_EQ(syncer.Stats().events, 6u);
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 6);
  EXPECT_EQ(Invalidations(), std::vector<std::string>{"A/web/home/*@2"});
}

TEST_F(SyncerTest, AReadOnlyOriginStopsTheLoopInsteadOfDeadLetteringEverything) {
  Append(ModuleUpsert("A", "m1", 1, {"web"}));
  TempDir secondary_dir;
  Result<std::unique_ptr<origin::Origin>> secondary =
      origin::OpenRocksSecondary(dir_.path() + "/db", secondary_dir.path());
  ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, secondary->get(), FastOptions());
  Result<BatchResult> r = syncer.RunOnce();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 0);
  EXPECT_TRUE(log_.Read(stream::kDlqTopic).empty());
}

TEST_F(SyncerTest, AnEventTheOriginRejectsGoesToTheDlq) {
  Append(ModuleUpsert("A", "m1", 1, {"web"}));
  Append(ModuleUpsert("A", "m2", 1, {"web"}));
  origin_->FailApplies(1, Status::InvalidArgument("origin: upsert record does not match its key"));
  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions());
  Drain(&syncer);
  const std::vector<stream::Message> dlq = log_.Read(stream::kDlqTopic);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].key, "A/module/m1");
  EXPECT_EQ(dlq[0].headers.at(0).value, "origin: upsert record does not match its key");
  EXPECT_EQ(syncer.Stats().applied, 1u);
  EXPECT_EQ(syncer.Stats().invalid, 1u);
}

TEST_F(SyncerTest, FailedDeliveryIsSentAgainBeforeTheCommit) {
  Append(ModuleUpsert("A", "m1", 1, {"web"}));
  Append("{}");
  MemoryProducer producer(&log_);
  producer.FailFlushes(2);  // each loses everything queued
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions());
  ASSERT_EQ(Drain(&syncer).size(), 1u);
  EXPECT_EQ(syncer.Stats().producer_retries, 2u);
  EXPECT_EQ(log_.Read(stream::kDlqTopic).size(), 1u);
  EXPECT_EQ(Invalidations(), std::vector<std::string>{"A/web/home/*@1"});
  const std::vector<std::string> journal = log_.Journal();
  EXPECT_EQ(std::count(journal.begin(), journal.end(), "flush"), 3);
  EXPECT_EQ(journal.back(), "commit");
  EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 2);
}

TEST_F(SyncerTest, AFullProducerQueueIsFlushedAndRetried) {
  for (int i = 0; i < 5; ++i) {
    Append(ModuleUpsert("A", "m" + std::to_string(i), 1, {"c" + std::to_string(i)}));
  }
  MemoryProducer producer(&log_, /*queue_capacity=*/2);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions());
  ASSERT_EQ(Drain(&syncer).size(), 1u);
  EXPECT_EQ(Invalidations().size(), 5u);
  EXPECT_EQ(syncer.Stats().producer_retries, 0u);
}

TEST_F(SyncerTest, StopInterruptsARetryAndCommitsNothing) {
  std::vector<std::string> lines;
  for (int i = 0; i < 3; ++i) {
    lines.push_back(ModuleUpsert("A", "m" + std::to_string(i), 1, {"web"}));
    Append(lines.back());
  }
  origin_->FailApplies(1 << 30, Status::IOError("disk gone"));
  MemoryProducer producer(&log_);
  {
    auto consumer = NewConsumer();
    Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions());
    Status run_status = Status::Internal("not returned");
    std::thread runner([&] { run_status = syncer.Run(); });
    const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
    while (syncer.Stats().origin_retries < 3 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    syncer.Stop();
    runner.join();
    EXPECT_GE(syncer.Stats().origin_retries, 3u);
    EXPECT_TRUE(run_status.ok()) << run_status.ToString();
    EXPECT_EQ(syncer.Stats().batches, 0u);
    EXPECT_EQ(log_.Committed(stream::kContentTopic, 0), 0);
  }
  // After a restart with a healthy origin the same events are applied.
  origin_->FailApplies(0, Status::OK());
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions());
  Drain(&syncer);
  EXPECT_EQ(syncer.Stats().applied, 3u);
  EXPECT_EQ(Dump(origin_.get()), ReferenceDump(lines));
}

TEST_F(SyncerTest, RunFollowsTheStreamUntilStopped) {
  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  Syncer syncer(consumer.get(), &producer, origin_.get(), FastOptions(3));
  Status run_status = Status::Internal("not returned");
  std::thread runner([&] { run_status = syncer.Run(); });
  std::vector<std::string> lines;
  for (int i = 0; i < 20; ++i) {
    lines.push_back(ModuleUpsert("T" + std::to_string(i % 3), "m" + std::to_string(i), 1, {"web"}));
    Append(lines.back(), i % 3);
    if (i % 7 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (syncer.Stats().batches == 0 || syncer.Stats().lag != 0 ||
         syncer.Stats().applied < lines.size()) {
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  syncer.Stop();
  runner.join();
  EXPECT_TRUE(run_status.ok()) << run_status.ToString();
  EXPECT_EQ(syncer.Stats().applied, lines.size());
  EXPECT_EQ(Dump(origin_.get()), ReferenceDump(lines));
  for (int32_t p = 0; p < 3; ++p) EXPECT_EQ(log_.Committed(stream::kContentTopic, p), 7 - (p > 1));
}

TEST_F(SyncerTest, RunRetriesAnUnreachableStreamAndStopsOnAMisconfiguredOne) {
  Append(ModuleUpsert("A", "m1", 1, {"web"}));
  std::vector<std::string> logged;
  SyncOptions options = FastOptions();
  options.log = [&](const std::string& line) { logged.push_back(line); };
  MemoryProducer producer(&log_);
  auto consumer = NewConsumer();
  consumer->FailPolls(2, Status::Unavailable("broker down"));
  Syncer syncer(consumer.get(), &producer, origin_.get(), options);
  Status run_status = Status::Internal("not returned");
  std::thread runner([&] { run_status = syncer.Run(); });
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (syncer.Stats().batches == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  syncer.Stop();
  runner.join();
  EXPECT_TRUE(run_status.ok()) << run_status.ToString();
  EXPECT_EQ(syncer.Stats().applied, 1u);
  EXPECT_EQ(logged, (std::vector<std::string>(2, "sync: Unavailable: broker down; retrying")));

  // An error that retrying cannot fix ends Run with it.
  auto misconfigured = NewConsumer();
  misconfigured->FailPolls(1, Status::InvalidArgument("unknown topic"));
  Syncer stuck(misconfigured.get(), &producer, origin_.get(), FastOptions());
  EXPECT_EQ(stuck.Run().ToString(), "InvalidArgument: unknown topic");
}

// The crash test again on a real Kafka protocol stack: librdkafka's mock
// cluster, the Kafka consumer group and the idempotent producer.
TEST(KafkaSyncerTest, TheInvalidationsOfABatchAppliedBeforeACrashReachTheTopic) {
  using namespace std::chrono_literals;
  auto cluster = kafka::MockCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  for (std::string_view topic :
       {stream::kContentTopic, stream::kInvalidationTopic, stream::kDlqTopic}) {
    ASSERT_TRUE((*cluster)->CreateTopic(std::string(topic), 1).ok());
  }
  kafka::KafkaOptions options;
  options.brokers = (*cluster)->bootstrap();
  // The mock cluster holds a group's first join for 3 s: sessions must outlast it.
  options.session_timeout = 4s;
  options.extra = {{"fetch.wait.max.ms", "10"}, {"reconnect.backoff.ms", "10"}};
  auto producer = kafka::OpenKafkaProducer(options);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();

  const std::vector<std::string> lines = {ModuleUpsert("A", "m1", 3, {"web"}, {"p1", "p2"}),
                                          TemplateUpsert("A", "app", "home", 2)};
  std::vector<events::Event> decoded;
  for (const std::string& line : lines) {
    decoded.push_back(*events::DecodeEvent(line));
    ASSERT_TRUE(
        (*producer)->Send(stream::kContentTopic, ContentKey(decoded.back().key), line, {}).ok());
  }
  ASSERT_TRUE((*producer)->Flush(kWaitLimit).ok());

  // What the crashed process left: the batch and its outbox in the origin,
  // nothing sent, nothing committed.
  TempDir dir;
  auto origin = origin::OpenRocksOrigin(dir.path() + "/db");
  ASSERT_TRUE(origin.ok()) << origin.status().ToString();
  std::vector<const events::Event*> batch;
  for (const events::Event& e : decoded) batch.push_back(&e);
  std::vector<origin::ApplyResult> results;
  ASSERT_TRUE((*origin)->ApplyBatch(batch, &results, nullptr, /*record_pending=*/true).ok());

  auto consumer = kafka::OpenKafkaConsumer(
      options, "tempo-sync", {std::string(stream::kContentTopic)}, kafka::StartAt::kEarliest);
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  auto reader = kafka::OpenKafkaConsumer(
      options, "test-reader", {std::string(stream::kInvalidationTopic)}, kafka::StartAt::kEarliest);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<std::string> observed;
  SyncOptions sync_options;
  sync_options.poll_timeout = 20ms;
  Syncer syncer(
      consumer->get(), producer->get(), origin->get(), sync_options,
      [&](const std::vector<SliceTouch>& touches) { observed.push_back(Describe(touches)); });

  // Both groups join while the syncer runs; the reader collects the topic.
  std::vector<std::string> invalidations;
  RunUntil(&syncer, [&] {
    Result<std::vector<stream::Message>> got = (*reader)->Poll(10, 10ms);
    if (got.ok()) {
      for (const stream::Message& m : *got) {
        Result<events::Invalidation> inv = events::DecodeInvalidation(m.value);
        EXPECT_TRUE(inv.ok()) << inv.status().ToString();
        if (inv.ok()) invalidations.push_back(Describe(inv->slice, inv->version));
      }
    }
    return invalidations.size() >= 3 && syncer.Stats().stale == 2;
  });
  EXPECT_EQ(invalidations,
            (std::vector<std::string>{"A/app/home/*@2", "A/web/home/p1@3", "A/web/home/p2@3"}));
  EXPECT_EQ(observed, std::vector<std::string>{"A/app/home/*@2 A/web/home/p1@3 A/web/home/p2@3 "});
  const SyncStats stats = syncer.Stats();
  EXPECT_EQ(stats.recovered_invalidations, 3u);
  EXPECT_EQ(stats.stale, 2u);  // the redelivered batch changes nothing
  EXPECT_EQ(stats.applied, 0u);
  EXPECT_EQ(stats.invalidations, 0u);
  EXPECT_EQ(Pending(origin->get()), "");
}

}  // namespace
}  // namespace tempo::sync
