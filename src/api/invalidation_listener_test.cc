// Tests for InvalidationListener: its thread reads invalidations from an
// in-memory stream and drops slices from a PageSource over a real RocksDB
// origin while the test thread reads it (run under TSan too).
#include "api/invalidation_listener.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "events/events.h"
#include "events/invalidation.h"
#include "origin/rocks_origin.h"
#include "sync/memory_stream_test_util.h"
#include "testing/origin_wrapper.h"
#include "testing/temp_dir.h"

namespace tempo::api {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Long enough for any wait the listener's thread has to make, even under
// sanitizers; a wait that runs out fails the test instead of hanging it.
constexpr auto kWaitLimit = std::chrono::seconds(5);
// A bound on the destructor: it must not wait out a backoff or catch-up pause.
constexpr auto kStopLimit = std::chrono::seconds(2);
// Pauses the listener would otherwise sit in for the whole test.
constexpr auto kLongPause = std::chrono::minutes(1);

// Counts CatchUp calls (the listener's thread) around a real origin, and can
// be told to fail them.
class CountingOrigin final : public testing::OriginWrapper {
 public:
  explicit CountingOrigin(origin::Origin* real) : OriginWrapper(real) {}
  Status CatchUp() override {
    ++catch_ups;
    if (failing) return Status::Unavailable("origin cannot catch up (test)");
    return OriginWrapper::CatchUp();
  }
  std::atomic<int> catch_ups{0};
  std::atomic<bool> failing{false};
};

// Polls `done` until it holds or kWaitLimit passes; true when it held.
bool WaitFor(const std::function<bool()>& done) {
  const auto deadline = steady_clock::now() + kWaitLimit;
  while (!done()) {
    if (steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

class InvalidationListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto origin = origin::OpenRocksOrigin(dir_.path());
    ASSERT_TRUE(origin.ok()) << origin.status().ToString();
    real_ = std::move(origin).value();
    counting_ = std::make_unique<CountingOrigin>(real_.get());
    PageSourceOptions options;
    options.origin.probe_interval = milliseconds(0);  // only the test's reads reach the origin
    options.load_wait = std::chrono::seconds(5);
    pages_ = std::make_unique<PageSource>(counting_.get(), options);
  }
  void TearDown() override {
    pages_.reset();
    counting_.reset();
    real_.reset();
  }

  // Applies a module of the type-wide slice straight to the origin: no
  // invalidation is sent.
  void Publish(std::string_view id, int64_t version) {
    const std::string line =
        std::string(R"({"schema":1,"kind":"module","op":"upsert","record":{"id":")") +
        std::string(id) +
        R"(","tenant":"T","channels":["web"],"pageType":"home","pageIds":[],"zone":"z",)" +
        R"("version":)" + std::to_string(version) + "}}";
    auto event = events::DecodeEvent(line);
    ASSERT_TRUE(event.ok()) << event.status().ToString();
    ASSERT_TRUE(real_->Apply(*event).ok());
  }

  // Appends the invalidation of `scope` of the test's partition, as `tempo
  // sync` would after applying `version`.
  void SendInvalidation(std::string_view scope, int64_t version) {
    const events::SliceKey slice{partition_, std::string(scope)};
    log_.Append(stream::kInvalidationTopic, 0, events::InvalidationKey(slice),
                events::EncodeInvalidation(slice, version));
  }

  // A consumer of the invalidation topic on the test's log.
  std::unique_ptr<sync::testing::MemoryConsumer> Consumer() {
    return std::make_unique<sync::testing::MemoryConsumer>(
        &log_, std::vector<std::string>{std::string(stream::kInvalidationTopic)});
  }

  // Waits until `listener` has joined the stream and dropped L1 once (which
  // it does before handling its first message): afterwards only messages
  // evict. Sends one invalidation of a slice no test reads.
  void WaitUntilListening(const InvalidationListener& listener) {
    const uint64_t evicted = listener.Stats().evicted;
    SendInvalidation("unused-page", 1);
    ASSERT_TRUE(WaitFor([&] { return listener.Stats().evicted > evicted; }));
  }

  // The type-wide slice: how many modules it has and the tier that served it.
  std::pair<size_t, Tier> ReadTypeSlice() {
    cache::ReadScope scope;
    auto slices = pages_->Get(partition_, std::nullopt, steady_clock::now() + kWaitLimit, &scope);
    EXPECT_TRUE(slices.ok()) << slices.status().ToString();
    if (!slices.ok()) return {0, Tier::kOrigin};
    return {slices->type_slice->modules.size(), slices->tier};
  }

  // Options that keep the listener's waits short, so a test does not wait on them.
  static InvalidationListenerOptions FastOptions() {
    InvalidationListenerOptions options;
    options.poll_timeout = milliseconds(10);
    options.catch_up_every = milliseconds(10);
    options.retry_backoff = milliseconds(10);
    return options;
  }

  const origin::PartitionKey partition_{"T", "web", "home"};
  testing::TempDir dir_{"tempo_invalidation_listener_test"};
  std::unique_ptr<origin::Origin> real_;
  std::unique_ptr<CountingOrigin> counting_;
  std::unique_ptr<PageSource> pages_;
  sync::testing::MemoryLog log_;
};

TEST_F(InvalidationListenerTest, MessageDropsSliceSoNextReadSeesOrigin) {
  Publish("a", 1);
  InvalidationListenerOptions options = FastOptions();
  options.catch_up_every = kLongPause;  // only batches make the origin catch up
  InvalidationListener listener(Consumer(), counting_.get(), pages_.get(), options);
  WaitUntilListening(listener);

  EXPECT_EQ(ReadTypeSlice(), std::make_pair(size_t{1}, Tier::kOrigin));
  EXPECT_EQ(ReadTypeSlice(), std::make_pair(size_t{1}, Tier::kL1));
  Publish("b", 2);
  // Nothing told L1 yet: it still serves the slice it holds.
  EXPECT_EQ(ReadTypeSlice(), std::make_pair(size_t{1}, Tier::kL1));

  const int catch_ups = counting_->catch_ups;
  const uint64_t evicted = listener.Stats().evicted;
  SendInvalidation("*", 2);
  ASSERT_TRUE(WaitFor([&] { return listener.Stats().evicted > evicted; }));
  EXPECT_EQ(counting_->catch_ups, catch_ups + 1);  // for the batch, before dropping the slice

  EXPECT_EQ(ReadTypeSlice(), std::make_pair(size_t{2}, Tier::kOrigin));
  EXPECT_EQ(ReadTypeSlice(), std::make_pair(size_t{2}, Tier::kL1));
  const InvalidationStats stats = listener.Stats();
  EXPECT_EQ(stats.received, 2u);  // the warm-up and the slice's
  EXPECT_EQ(stats.evicted, 2u);
  EXPECT_EQ(stats.malformed, 0u);
  EXPECT_EQ(stats.poll_failures, 0u);
  EXPECT_EQ(stats.catch_up_failures, 0u);
}

TEST_F(InvalidationListenerTest, MalformedMessageIsCountedAndSkipped) {
  Publish("a", 1);
  InvalidationListener listener(Consumer(), counting_.get(), pages_.get(), FastOptions());
  WaitUntilListening(listener);
  EXPECT_EQ(ReadTypeSlice(), std::make_pair(size_t{1}, Tier::kOrigin));
  Publish("b", 2);

  const uint64_t evicted = listener.Stats().evicted;
  log_.Append(stream::kInvalidationTopic, 0, "T/web/home", "{not an invalidation");
  log_.Append(stream::kInvalidationTopic, 0, "T/web/home",
              R"({"tenant":"T","channel":"web","pageType":"home","pageId":"*"})");  // no version
  ASSERT_TRUE(WaitFor([&] { return listener.Stats().malformed == 2; }));
  EXPECT_EQ(listener.Stats().evicted, evicted);
  EXPECT_EQ(ReadTypeSlice(), std::make_pair(size_t{1}, Tier::kL1));

  // The listener goes on: a good message after them still evicts.
  SendInvalidation("*", 2);
  ASSERT_TRUE(WaitFor([&] { return listener.Stats().evicted > evicted; }));
  EXPECT_EQ(ReadTypeSlice(), std::make_pair(size_t{2}, Tier::kOrigin));
  const InvalidationStats stats = listener.Stats();
  EXPECT_EQ(stats.received, 4u);
  EXPECT_EQ(stats.malformed, 2u);
  EXPECT_EQ(stats.evicted, 2u);
}

TEST_F(InvalidationListenerTest, AGroupedInstanceIgnoresOtherGroupsTenants) {
  auto groups = config::TenantGroups::Parse(
      YAML::Load("tenant_groups: {TG1: [T], TG2: [\"*\"]}")["tenant_groups"], "groups.yaml");
  ASSERT_TRUE(groups.ok());
  InvalidationListenerOptions options = FastOptions();
  auto filter = config::TenantGroupFilter::Create(*groups, "TG1");
  ASSERT_TRUE(filter.ok());
  options.tenant_groups = *filter;
  InvalidationListener listener(Consumer(), counting_.get(), pages_.get(), options);
  WaitUntilListening(listener);  // T's: evicted
  const events::SliceKey other{{"U", "web", "home"}, "*"};
  log_.Append(stream::kInvalidationTopic, 0, events::InvalidationKey(other),
              events::EncodeInvalidation(other, 1));
  ASSERT_TRUE(WaitFor([&] { return listener.Stats().ignored == 1; }));
  EXPECT_EQ(listener.Stats().evicted, 1u);
  EXPECT_EQ(listener.Stats().received, 2u);
}

// `tempo invalidate`'s message: every slice of the tenant it matches goes.
TEST_F(InvalidationListenerTest, AnOperatorsDropDropsTheMatchingSlices) {
  Publish("a", 1);
  InvalidationListener listener(Consumer(), counting_.get(), pages_.get(), FastOptions());
  WaitUntilListening(listener);
  EXPECT_EQ(ReadTypeSlice(), std::make_pair(size_t{1}, Tier::kOrigin));
  EXPECT_EQ(ReadTypeSlice().second, Tier::kL1);
  // Another channel's drop leaves the slice; the tenant's drops it.
  const events::CacheDrop ios{"T", "ios", "", ""};
  log_.Append(stream::kInvalidationTopic, 0, events::CacheDropKey(ios),
              events::EncodeCacheDrop(ios));
  ASSERT_TRUE(WaitFor([&] { return listener.Stats().drops == 1; }));
  EXPECT_EQ(ReadTypeSlice().second, Tier::kL1);
  Publish("b", 1);
  const events::CacheDrop tenant{"T", "", "", ""};
  log_.Append(stream::kInvalidationTopic, 0, events::CacheDropKey(tenant),
              events::EncodeCacheDrop(tenant));
  ASSERT_TRUE(WaitFor([&] { return listener.Stats().drops == 2; }));
  EXPECT_EQ(ReadTypeSlice(), std::make_pair(size_t{2}, Tier::kOrigin));
  EXPECT_EQ(listener.Stats().malformed, 0u);
}

TEST_F(InvalidationListenerTest, WithoutStreamCatchesUpPeriodically) {
  InvalidationListener listener(nullptr, counting_.get(), pages_.get(), FastOptions());
  ASSERT_TRUE(WaitFor([&] { return counting_->catch_ups >= 3; }));

  // Failures are counted, and the listener keeps trying.
  counting_->failing = true;
  ASSERT_TRUE(WaitFor([&] { return listener.Stats().catch_up_failures >= 2; }));
  counting_->failing = false;
  const int catch_ups = counting_->catch_ups;
  ASSERT_TRUE(WaitFor([&] { return counting_->catch_ups >= catch_ups + 2; }));

  const InvalidationStats stats = listener.Stats();
  EXPECT_EQ(stats.received, 0u);
  EXPECT_EQ(stats.poll_failures, 0u);
}

TEST_F(InvalidationListenerTest, CatchesUpWhileNoMessageArrives) {
  InvalidationListener listener(Consumer(), counting_.get(), pages_.get(), FastOptions());
  // One catch-up on joining the stream, then one every catch_up_every.
  ASSERT_TRUE(WaitFor([&] { return counting_->catch_ups >= 3; }));
  EXPECT_EQ(listener.Stats().received, 0u);
}

// Destroys `listener` and returns how long that took.
steady_clock::duration TimeDestruction(std::unique_ptr<InvalidationListener> listener) {
  const auto start = steady_clock::now();
  listener.reset();
  return steady_clock::now() - start;
}

TEST_F(InvalidationListenerTest, DestroyDuringRetryBackoffIsPrompt) {
  auto consumer = Consumer();
  consumer->FailPolls(1'000'000, Status::Unavailable("stream down (test)"));
  InvalidationListenerOptions options = FastOptions();
  options.retry_backoff = kLongPause;
  auto listener = std::make_unique<InvalidationListener>(std::move(consumer), counting_.get(),
                                                         pages_.get(), options);
  // The first Poll failed: the thread now waits out the backoff.
  ASSERT_TRUE(WaitFor([&] { return listener->Stats().poll_failures >= 1; }));
  EXPECT_LT(TimeDestruction(std::move(listener)), kStopLimit);
}

TEST_F(InvalidationListenerTest, DestroyDuringCatchUpPauseIsPrompt) {
  InvalidationListenerOptions options = FastOptions();
  options.catch_up_every = kLongPause;
  auto listener =
      std::make_unique<InvalidationListener>(nullptr, counting_.get(), pages_.get(), options);
  EXPECT_LT(TimeDestruction(std::move(listener)), kStopLimit);
  EXPECT_EQ(counting_->catch_ups, 0);  // stopped before its first pause ended
}

TEST_F(InvalidationListenerTest, DestroyDuringBlockedPollIsPrompt) {
  InvalidationListenerOptions options = FastOptions();
  options.poll_timeout = milliseconds(500);  // the longest the destructor may wait for Poll
  options.catch_up_every = kLongPause;
  auto listener =
      std::make_unique<InvalidationListener>(Consumer(), counting_.get(), pages_.get(), options);
  // Joined (one catch-up), so now blocked in a Poll that finds no message.
  ASSERT_TRUE(WaitFor([&] { return counting_->catch_ups >= 1; }));
  EXPECT_LT(TimeDestruction(std::move(listener)), kStopLimit);
}

}  // namespace
}  // namespace tempo::api
