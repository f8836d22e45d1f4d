// Tests for PageSource: L1 in front of a real RocksDB origin.
#include "api/page_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "events/events.h"

namespace tempo::api {
namespace {

// Counts reads and can be told to fail, around a real origin.
class CountingOrigin final : public origin::Origin {
 public:
  explicit CountingOrigin(origin::Origin* real) : real_(real) {}
  Result<origin::ApplyOutcome> Apply(const events::Event& e,
                                     std::vector<origin::SliceKey>* touched) override {
    return real_->Apply(e, touched);
  }
  Status Sync() override { return real_->Sync(); }
  Result<std::vector<origin::Row>> ReadPage(const origin::PartitionKey& p,
                                            std::optional<std::string_view> page_id) override {
    return real_->ReadPage(p, page_id);
  }
  Result<std::vector<origin::Row>> ReadScope(const origin::PartitionKey& p,
                                             std::string_view scope) override {
    ++reads;
    if (failing) return Status::Unavailable("origin down (test)");
    return real_->ReadScope(p, scope);
  }
  Result<bool> TenantKnown(std::string_view t) override { return real_->TenantKnown(t); }
  Status ForEachRecord(const std::function<Status(const origin::StoredRecord&)>& fn) override {
    return real_->ForEachRecord(fn);
  }
  std::atomic<int> reads{0};
  std::atomic<bool> failing{false};

 private:
  origin::Origin* real_;
};

class PageSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tempo-page-source-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto origin = origin::OpenRocksOrigin(dir_.string());
    ASSERT_TRUE(origin.ok()) << origin.status().ToString();
    real_ = std::move(origin).value();
    counting_ = std::make_unique<CountingOrigin>(real_.get());
  }
  void TearDown() override {
    counting_.reset();
    real_.reset();
    std::filesystem::remove_all(dir_);
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

  static constexpr int kMaxStaleMs = 60'000;
  std::filesystem::path dir_;
  std::unique_ptr<origin::Origin> real_;
  std::unique_ptr<CountingOrigin> counting_;
  const origin::PartitionKey partition_{"T", "web", "home"};
};

TEST_F(PageSourceTest, HitRightAfterMissIsL1) {
  Publish("a", 1);
  Publish("p", 2, R"(["p1"])");
  PageSource source(counting_.get(), L1Options{});
  auto first = source.Get(partition_, "p1");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->tier, Tier::kOrigin);
  EXPECT_EQ(counting_->reads, 2);  // scope "*" and scope "p1"
  auto second = source.Get(partition_, "p1");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->tier, Tier::kL1);
  EXPECT_EQ(second->type_slice, first->type_slice);  // shared, not copied
  EXPECT_EQ(counting_->reads, 2);
  EXPECT_EQ(source.L1Stats().hits, 2u);
}

TEST_F(PageSourceTest, ConcurrentMissesMakeOneOriginRead) {
  Publish("a", 1);
  PageSource source(counting_.get(), L1Options{});
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { ASSERT_TRUE(source.Get(partition_, std::nullopt).ok()); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counting_->reads, 1);
}

TEST_F(PageSourceTest, InvalidateSliceAndTenantReload) {
  Publish("a", 1);
  PageSource source(counting_.get(), L1Options{});
  ASSERT_EQ(source.Get(partition_, std::nullopt)->type_slice->modules.size(), 1u);
  Publish("b", 2);
  // Still the cached slice until it is invalidated.
  EXPECT_EQ(source.Get(partition_, std::nullopt)->type_slice->modules.size(), 1u);
  source.InvalidateSlice(partition_, "*");
  auto fresh = source.Get(partition_, std::nullopt);
  EXPECT_EQ(fresh->tier, Tier::kOrigin);
  EXPECT_EQ(fresh->type_slice->modules.size(), 2u);
  Publish("c", 3);
  source.InvalidateTenant("T");
  EXPECT_EQ(source.Get(partition_, std::nullopt)->type_slice->modules.size(), 3u);
  EXPECT_GE(source.L1Stats().invalidations, 2u);
}

TEST_F(PageSourceTest, DisabledL1AlwaysReadsTheOrigin) {
  Publish("a", 1);
  L1Options off;
  off.capacity_bytes = 0;
  PageSource source(counting_.get(), off);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(source.Get(partition_, std::nullopt)->tier, Tier::kOrigin);
  EXPECT_EQ(counting_->reads, 3);
}

TEST_F(PageSourceTest, OriginDownServesStaleAndCountsIt) {
  Publish("a", 1);
  L1Options options;
  options.ttl = std::chrono::milliseconds(1);
  options.max_stale = std::chrono::milliseconds(kMaxStaleMs);
  PageSource source(counting_.get(), options);
  ASSERT_TRUE(source.Get(partition_, std::nullopt).ok());
  counting_->failing = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past the 1 ms TTL
  auto stale = source.Get(partition_, std::nullopt);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_EQ(stale->tier, Tier::kL1);
  EXPECT_EQ(stale->type_slice->modules.size(), 1u);
  EXPECT_GE(source.L1Stats().stale_served, 1u);
  // A page never cached has nothing to fall back on.
  EXPECT_FALSE(source.Get({"T", "ios", "home"}, std::nullopt).ok());
}

TEST_F(PageSourceTest, ChargeIsTheSlicesMeasuredBytes) {
  Publish("a", 1);
  Publish("b", 2);
  PageSource source(counting_.get(), L1Options{});
  auto page = source.Get(partition_, std::nullopt);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(source.L1Stats().bytes, page->type_slice->bytes);
  EXPECT_GT(page->type_slice->bytes, 2 * sizeof(select::CompiledModule));
}

}  // namespace
}  // namespace tempo::api
