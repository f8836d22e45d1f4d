// Tests for PageSource: L1 and L2 (real memcached) in front of a real
// RocksDB origin.
#include "api/page_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "cache/cache_test_util.h"
#include "events/events.h"
#include "l2/l2.h"
#include "origin/rocks_origin.h"
#include "testing/memcached_cluster.h"
#include "testing/origin_wrapper.h"
#include "testing/temp_dir.h"

namespace tempo::api {
namespace {

// Counts reads and can be told to fail, around a real origin.
class CountingOrigin final : public testing::OriginWrapper {
 public:
  explicit CountingOrigin(origin::Origin* real) : OriginWrapper(real) {}
  Result<std::vector<origin::Row>> ReadScope(const origin::PartitionKey& p,
                                             std::string_view scope) override {
    ++reads;
    Hang();
    if (failing) return Status::Unavailable("origin down (test)");
    return OriginWrapper::ReadScope(p, scope);
  }
  Result<bool> TenantKnown(std::string_view t) override {
    ++tenant_reads;
    Hang();
    if (failing) return Status::Unavailable("origin down (test)");
    return OriginWrapper::TenantKnown(t);
  }
  // While set, reads take 800 ms before answering (a hung dependency).
  void Hang() const {
    if (hanging) std::this_thread::sleep_for(std::chrono::milliseconds(800));
  }
  std::atomic<int> reads{0};
  std::atomic<int> tenant_reads{0};
  std::atomic<bool> failing{false};
  std::atomic<bool> hanging{false};
};

class PageSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto origin = origin::OpenRocksOrigin(dir_.path());
    ASSERT_TRUE(origin.ok()) << origin.status().ToString();
    real_ = std::move(origin).value();
    counting_ = std::make_unique<CountingOrigin>(real_.get());
  }
  void TearDown() override {
    counting_.reset();
    real_.reset();
  }
  void Publish(std::string_view id, int64_t version, std::string_view page_ids = "[]") {
    const std::string line =
        std::string(R"({"schema":1,"kind":"module","op":"upsert","record":{"id":")") +
        std::string(id) + R"(","tenant":"T","channels":["web"],"pageType":"home","pageIds":)" +
        std::string(page_ids) + R"(,"zone":"z","version":)" + std::to_string(version) + "}}";
    auto event = events::DecodeEvent(line);
    ASSERT_TRUE(event.ok()) << event.status().ToString();
    ASSERT_TRUE(real_->Apply(*event).ok());
  }

  // Options for a PageSource with the given L1 and no probe (tests count reads).
  static PageSourceOptions Options(L1Options l1 = {}, l2::L2Client* l2 = nullptr) {
    PageSourceOptions options;
    options.l1 = l1;
    options.l2 = l2;
    options.l2_timeout = std::chrono::milliseconds(1000);
    options.origin.probe_interval = std::chrono::milliseconds(0);
    options.load_wait = std::chrono::seconds(5);
    return options;
  }
  // A deadline that a healthy test origin always meets, even under sanitizers.
  static Deadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(5); }

  static constexpr int kMaxStaleMs = 60'000;
  // L1's clock (L1Options::clock): TTLs pass when a test advances it.
  cache::testing::FakeClock clock_;
  ::tempo::testing::TempDir dir_{"tempo-page-source-test"};
  std::unique_ptr<origin::Origin> real_;
  std::unique_ptr<CountingOrigin> counting_;
  const origin::PartitionKey partition_{"T", "web", "home"};
  cache::ReadScope scope_;  // keeps what the test's Get calls return
};

TEST_F(PageSourceTest, HitRightAfterMissIsL1) {
  Publish("a", 1);
  Publish("p", 2, R"(["p1"])");
  PageSource source(counting_.get(), Options());
  auto first = source.Get(partition_, "p1", Soon(), &scope_);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->tier, Tier::kOrigin);
  EXPECT_EQ(counting_->reads, 2);  // scope "*" and scope "p1"
  auto second = source.Get(partition_, "p1", Soon(), &scope_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->tier, Tier::kL1);
  EXPECT_EQ(second->type_slice, first->type_slice);  // shared, not copied
  EXPECT_EQ(counting_->reads, 2);
  EXPECT_EQ(source.L1Stats().hits, 2u);
}

TEST_F(PageSourceTest, ConcurrentMissesMakeOneOriginRead) {
  Publish("a", 1);
  PageSource source(counting_.get(), Options());
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      cache::ReadScope scope;
      ASSERT_TRUE(source.Get(partition_, std::nullopt, Soon(), &scope).ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counting_->reads, 1);
}

// With a live publish stream a tenant's slices are invalidated all the time;
// an outage right after one must not make the tenant unknown (fault matrix,
// pg-stop row: 503s for pages every tier held).
TEST_F(PageSourceTest, TenantKnownThroughAnInvalidationDuringAnOutage) {
  Publish("a", 1);
  PageSource source(counting_.get(), Options());
  ASSERT_TRUE(*source.TenantKnown("T", Soon()));
  source.InvalidateSlice(partition_, "*");
  counting_->failing = true;
  auto known = source.TenantKnown("T", Soon());
  ASSERT_TRUE(known.ok()) << known.status().ToString();
  EXPECT_TRUE(*known);
  EXPECT_EQ(source.TenantKnown("nobody", Soon()).status().code(), Status::Code::kUnavailable);
  counting_->failing = false;
  // Once the origin answers, its answer counts again: the last record deleted.
  const std::string line =
      R"({"schema":1,"kind":"module","op":"delete","record":{"id":"a","tenant":"T",)"
      R"("version":2}})";
  auto event = events::DecodeEvent(line);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  ASSERT_TRUE(real_->Apply(*event).ok());
  source.InvalidateSlice(partition_, "*");
  EXPECT_FALSE(*source.TenantKnown("T", Soon()));
  source.InvalidateSlice(partition_, "*");
  counting_->failing = true;
  EXPECT_EQ(source.TenantKnown("T", Soon()).status().code(), Status::Code::kUnavailable);
}

TEST_F(PageSourceTest, InvalidateSliceAndTenantReload) {
  Publish("a", 1);
  PageSource source(counting_.get(), Options());
  ASSERT_EQ(source.Get(partition_, std::nullopt, Soon(), &scope_)->type_slice->modules.size(), 1u);
  Publish("b", 2);
  // Still the cached slice until it is invalidated.
  EXPECT_EQ(source.Get(partition_, std::nullopt, Soon(), &scope_)->type_slice->modules.size(), 1u);
  source.InvalidateSlice(partition_, "*");
  auto fresh = source.Get(partition_, std::nullopt, Soon(), &scope_);
  EXPECT_EQ(fresh->tier, Tier::kOrigin);
  EXPECT_EQ(fresh->type_slice->modules.size(), 2u);
  Publish("c", 3);
  source.InvalidateTenant("T");
  EXPECT_EQ(source.Get(partition_, std::nullopt, Soon(), &scope_)->type_slice->modules.size(), 3u);
  EXPECT_GE(source.L1Stats().invalidations, 2u);
}

TEST_F(PageSourceTest, DisabledL1AlwaysReadsTheOrigin) {
  Publish("a", 1);
  L1Options off;
  off.capacity_bytes = 0;
  PageSource source(counting_.get(), Options(off));
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(source.Get(partition_, std::nullopt, Soon(), &scope_)->tier, Tier::kOrigin);
  EXPECT_EQ(counting_->reads, 3);
}

TEST_F(PageSourceTest, OriginDownServesStaleAndCountsIt) {
  Publish("a", 1);
  L1Options options;
  options.ttl = std::chrono::milliseconds(1);
  options.max_stale = std::chrono::milliseconds(kMaxStaleMs);
  options.clock = clock_.Fn();
  PageSource source(counting_.get(), Options(options));
  ASSERT_TRUE(source.Get(partition_, std::nullopt, Soon(), &scope_).ok());
  counting_->failing = true;
  clock_.Advance(std::chrono::milliseconds(20));  // past the 1 ms TTL
  auto stale = source.Get(partition_, std::nullopt, Soon(), &scope_);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_EQ(stale->tier, Tier::kL1);
  EXPECT_EQ(stale->type_slice->modules.size(), 1u);
  EXPECT_GE(source.L1Stats().stale_served, 1u);
  // A page never cached has nothing to fall back on.
  EXPECT_FALSE(source.Get({"T", "ios", "home"}, std::nullopt, Soon(), &scope_).ok());
}

TEST_F(PageSourceTest, ChargeIsTheSlicesMeasuredBytes) {
  Publish("a", 1);
  Publish("b", 2);
  PageSource source(counting_.get(), Options());
  auto page = source.Get(partition_, std::nullopt, Soon(), &scope_);
  ASSERT_TRUE(page.ok());
  // The slice's measured bytes and the small entry that says where it came from.
  EXPECT_GE(source.L1Stats().bytes, page->type_slice->bytes);
  EXPECT_LE(source.L1Stats().bytes,
            page->type_slice->bytes + 64 +
                cache::Cache<std::shared_ptr<const int>>::EntryOverhead("T\x1fweb\x1fhome\x1f*"));
  EXPECT_GT(page->type_slice->bytes, 2 * sizeof(select::CompiledModule));
}

TEST_F(PageSourceTest, HungOriginCostsAtMostTheDeadline) {
  Publish("a", 1);
  L1Options l1;
  l1.ttl = std::chrono::milliseconds(1);
  l1.clock = clock_.Fn();
  PageSource source(counting_.get(), Options(l1));
  ASSERT_TRUE(source.Get(partition_, std::nullopt, Soon(), &scope_).ok());
  counting_->hanging = true;
  clock_.Advance(std::chrono::milliseconds(20));  // past the 1 ms TTL

  // A page never cached: the request gives up at its deadline, long before
  // the origin would answer.
  auto start = std::chrono::steady_clock::now();
  auto missing = source.Get({"T", "ios", "home"}, std::nullopt,
                            start + std::chrono::milliseconds(50), &scope_);
  EXPECT_EQ(missing.status().code(), Status::Code::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(600));
  EXPECT_GE(source.origin_reader().Stats().timeouts, 1u);

  // A cached page is served stale meanwhile, without waiting.
  start = std::chrono::steady_clock::now();
  auto stale = source.Get(partition_, std::nullopt, start + std::chrono::milliseconds(50), &scope_);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_EQ(stale->type_slice->modules.size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(600));
  counting_->hanging = false;
}

TEST_F(PageSourceTest, TenantKnowledgeIsRememberedAndSurvivesAnOutage) {
  Publish("a", 1);
  PageSource source(counting_.get(), Options());
  ASSERT_TRUE(*source.TenantKnown("T", Soon()));
  ASSERT_FALSE(*source.TenantKnown("nobody", Soon()));
  EXPECT_EQ(counting_->tenant_reads, 2);
  EXPECT_TRUE(*source.TenantKnown("T", Soon()));
  EXPECT_FALSE(*source.TenantKnown("nobody", Soon()));
  EXPECT_EQ(counting_->tenant_reads, 2);  // remembered

  counting_->failing = true;
  auto known = source.TenantKnown("T", Soon());
  ASSERT_TRUE(known.ok());
  EXPECT_TRUE(*known);
  // A tenant never asked about cannot be answered.
  EXPECT_EQ(source.TenantKnown("other", Soon()).status().code(), Status::Code::kUnavailable);
  counting_->failing = false;

  // A first record of a tenant arrives with an invalidation of its slice.
  const std::string line =
      R"({"schema":1,"kind":"module","op":"upsert","record":{"id":"n","tenant":"nobody",)"
      R"("channels":["web"],"pageType":"home","zone":"z","version":1}})";
  auto event = events::DecodeEvent(line);
  ASSERT_TRUE(event.ok());
  ASSERT_TRUE(real_->Apply(*event).ok());
  EXPECT_FALSE(*source.TenantKnown("nobody", Soon()));  // not told yet
  source.InvalidateSlice({"nobody", "web", "home"}, "*");
  EXPECT_TRUE(*source.TenantKnown("nobody", Soon()));
}

TEST_F(PageSourceTest, HasRecordsSaysWhetherThePageMakesTheTenantKnown) {
  Publish("p", 1, R"(["p1"])");
  PageSource source(counting_.get(), Options());
  auto type_only = source.Get(partition_, std::nullopt, Soon(), &scope_);
  ASSERT_TRUE(type_only.ok());
  EXPECT_FALSE(type_only->HasRecords());  // the module is page-scoped
  auto with_page = source.Get(partition_, "p1", Soon(), &scope_);
  ASSERT_TRUE(with_page.ok());
  EXPECT_TRUE(with_page->HasRecords());
}

// Two instances sharing one L2 on real memcached nodes.
class PageSourceL2Test : public PageSourceTest {
 protected:
  void SetUp() override {
    PageSourceTest::SetUp();
    auto cluster = testing::MemcachedCluster::Start(2);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(cluster).value();
    l2::L2Options options;
    options.servers = cluster_->servers();
    options.ns = "page-source-test";
    options.timeout = std::chrono::milliseconds(1000);  // sanitizers, shared cores
    auto client = l2::L2Client::Open(options);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    l2_ = std::move(client).value();
  }
  void TearDown() override {
    l2_.reset();
    cluster_.reset();
    PageSourceTest::TearDown();
  }
  std::unique_ptr<testing::MemcachedCluster> cluster_;
  std::unique_ptr<l2::L2Client> l2_;
};

TEST_F(PageSourceL2Test, SecondInstanceReadsL2InsteadOfTheOrigin) {
  Publish("a", 1);
  Publish("p", 2, R"(["p1"])");
  PageSource first(counting_.get(), Options({}, l2_.get()));
  auto loaded = first.Get(partition_, "p1", Soon(), &scope_);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->tier, Tier::kOrigin);
  EXPECT_EQ(counting_->reads, 2);
  // Filled by the reader's threads just after answering: a real thread must
  // run, so poll (bounded) for it.
  for (int i = 0; i < 500 && l2_->Stats().sets < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(l2_->Stats().sets, 2u);

  PageSource second(counting_.get(), Options({}, l2_.get()));
  auto from_l2 = second.Get(partition_, "p1", Soon(), &scope_);
  ASSERT_TRUE(from_l2.ok());
  EXPECT_EQ(from_l2->tier, Tier::kL2);
  EXPECT_EQ(counting_->reads, 2);  // the origin was not read again
  EXPECT_EQ(from_l2->type_slice->modules.size(), 1u);
  EXPECT_EQ(from_l2->page_slice->modules.size(), 1u);
  EXPECT_EQ(from_l2->type_slice->max_version, loaded->type_slice->max_version);
  EXPECT_EQ(second.Get(partition_, "p1", Soon(), &scope_)->tier, Tier::kL1);

  // With the origin down, a third instance still serves from L2.
  counting_->failing = true;
  PageSource third(counting_.get(), Options({}, l2_.get()));
  auto during_outage = third.Get(partition_, "p1", Soon(), &scope_);
  ASSERT_TRUE(during_outage.ok()) << during_outage.status().ToString();
  EXPECT_EQ(during_outage->tier, Tier::kL2);
  counting_->failing = false;
}

TEST_F(PageSourceL2Test, ReadPastTheDeadlineStillFillsL2) {
  Publish("a", 1);
  PageSource source(counting_.get(), Options({}, l2_.get()));
  counting_->hanging = true;
  // 200 ms: long enough for a reader thread to take the read (a read nobody
  // waits for is skipped), far shorter than the 800 ms hang.
  auto late =
      source.Get(partition_, std::nullopt,
                 std::chrono::steady_clock::now() + std::chrono::milliseconds(200), &scope_);
  EXPECT_EQ(late.status().code(), Status::Code::kUnavailable);
  // The reader's thread finishes the read and fills L2: poll (bounded) for it.
  for (int i = 0; i < 500 && l2_->Stats().sets < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  counting_->hanging = false;
  auto next = source.Get(partition_, std::nullopt, Soon(), &scope_);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->tier, Tier::kL2);
  EXPECT_EQ(counting_->reads, 1);
}

TEST_F(PageSourceL2Test, DeadL2FallsThroughToTheOrigin) {
  Publish("a", 1);
  cluster_->Kill(0);
  cluster_->Kill(1);
  PageSource source(counting_.get(), Options({}, l2_.get()));
  auto loaded = source.Get(partition_, std::nullopt, Soon(), &scope_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->tier, Tier::kOrigin);
  EXPECT_EQ(loaded->type_slice->modules.size(), 1u);
  EXPECT_GE(l2_->Stats().errors, 1u);
}

using OriginReaderTest = PageSourceTest;

TEST_F(OriginReaderTest, ReadyTurnsFalseOnlyAfterTheGracePeriod) {
  Publish("a", 1);
  OriginReaderOptions options;
  options.probe_interval = std::chrono::milliseconds(0);
  OriginReader reader(counting_.get(), options);
  std::string why;
  ASSERT_TRUE(reader.ReadScope(partition_, "*", Soon()).ok());
  EXPECT_TRUE(reader.Ready(std::chrono::milliseconds(0), &why));

  counting_->failing = true;
  EXPECT_FALSE(reader.ReadScope(partition_, "*", Soon()).ok());
  EXPECT_FALSE(reader.Stats().reachable);
  EXPECT_TRUE(reader.Ready(std::chrono::hours(1), &why));  // within the grace period
  // OriginReader times the outage on the steady clock (it takes no fake one):
  // real time must pass the 1 ms grace.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(reader.Ready(std::chrono::milliseconds(1), &why));
  EXPECT_NE(why.find("origin down (test)"), std::string::npos) << why;

  counting_->failing = false;
  ASSERT_TRUE(reader.TenantKnown("T", Soon()).ok());
  EXPECT_TRUE(reader.Ready(std::chrono::milliseconds(0), &why));
  const OriginReaderStats stats = reader.Stats();
  EXPECT_EQ(stats.reads, 3u);
  EXPECT_EQ(stats.failures, 1u);
}

TEST_F(OriginReaderTest, ProbeNoticesAnOutageWithoutTraffic) {
  OriginReaderOptions options;
  options.probe_interval = std::chrono::milliseconds(5);
  OriginReader reader(counting_.get(), options);
  counting_->failing = true;
  std::string why;
  // The reader's probe thread must run: poll (bounded) for what it notices.
  for (int i = 0; i < 400 && reader.Ready(std::chrono::milliseconds(0), &why); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(reader.Ready(std::chrono::milliseconds(0), &why));
  counting_->failing = false;
  for (int i = 0; i < 400 && !reader.Ready(std::chrono::milliseconds(0), &why); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(reader.Ready(std::chrono::milliseconds(0), &why));
  EXPECT_GE(counting_->tenant_reads, 2);
}

TEST_F(OriginReaderTest, ShedsReadsBeyondMaxPending) {
  OriginReaderOptions options;
  options.threads = 1;
  options.max_pending = 1;
  options.probe_interval = std::chrono::milliseconds(0);
  OriginReader reader(counting_.get(), options);
  counting_->hanging = true;
  const auto soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
  EXPECT_EQ(reader.ReadScope(partition_, "*", soon).status().code(), Status::Code::kUnavailable);
  // The first read still occupies the only slot.
  auto shed = reader.ReadScope(partition_, "*", Soon());
  EXPECT_EQ(shed.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(shed.status().message().find("too many reads pending"), std::string::npos);
  const OriginReaderStats stats = reader.Stats();
  EXPECT_EQ(stats.timeouts, 1u);
  EXPECT_EQ(stats.shed, 1u);
  counting_->hanging = false;
}

}  // namespace
}  // namespace tempo::api
