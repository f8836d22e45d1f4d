// A stress test: threads mixing lookups, loads, inserts, invalidations and
// clock moves (so that refreshes and expiry run too). Its value is mostly
// under ASan+UBSan and TSan; it also checks invariants that must hold at the end.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cache/cache.h"
#include "cache/cache_test_util.h"

namespace tempo::cache::testing {
namespace {

constexpr int kThreads = 8;
constexpr auto kRunTime = std::chrono::seconds(1);
constexpr int kMaxOpsPerThread = 2'000'000;  // bounds a run on a fast machine
constexpr int kKeys = 600;
constexpr int kTenants = 6;

std::string KeyOf(int i) {
  return "tenant" + std::to_string(i % kTenants) + '\x1f' + "web" + '\x1f' + std::to_string(i);
}

TEST(CacheConcurrencyTest, MixedOperationsKeepTheCacheConsistent) {
  FakeClock clock;
  CacheOptions o;
  o.capacity_bytes = 40'000;  // far less than the key set needs: constant eviction
  o.shards = 4;
  o.ttl = std::chrono::seconds(5);
  o.max_stale = std::chrono::seconds(5);
  o.refresh_threads = 2;
  o.refresh_retry_backoff = std::chrono::milliseconds(100);
  o.clock = clock.Fn();
  SliceCache cache(o);

  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back(KeyOf(i));
  std::atomic<uint64_t> lookups{0};
  std::atomic<uint64_t> wrong_values{0};
  const auto deadline = std::chrono::steady_clock::now() + kRunTime;

  auto worker = [&](int id) {
    std::mt19937 rng(id);
    uint64_t my_lookups = 0;
    for (int op = 0; op < kMaxOpsPerThread; ++op) {
      if (op % 256 == 0 && std::chrono::steady_clock::now() > deadline) break;
      const std::string& key = keys[rng() % kKeys];
      const int dice = static_cast<int>(rng() % 1000);
      if (dice < 600) {
        const bool fail = rng() % 20 == 0;
        const size_t charge = 50 + rng() % 400;
        auto r = cache.GetOrLoad(key, [key, fail, charge]() -> Result<SliceCache::Loaded> {
          if (fail) return Status::Unavailable("injected");
          return SliceCache::Loaded{MakeSlice(key, 1), charge, std::nullopt};
        });
        ++my_lookups;
        if (r.ok() && r->value->key != key) ++wrong_values;
      } else if (dice < 850) {
        auto v = cache.Get(key);
        ++my_lookups;
        if (v.has_value() && (*v)->key != key) ++wrong_values;
      } else if (dice < 950) {
        cache.Insert(key, MakeSlice(key, 2), 50 + rng() % 400);
      } else if (dice < 990) {
        cache.Invalidate(key);
      } else if (dice < 995) {
        cache.InvalidatePrefix("tenant" + std::to_string(rng() % kTenants) + '\x1f');
      } else if (dice < 998) {
        clock.Advance(std::chrono::seconds(1));
      } else {
        const CacheStats s = cache.Stats();
        EXPECT_LE(s.bytes, o.capacity_bytes);
      }
    }
    lookups += my_lookups;
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& t : threads) t.join();

  EXPECT_EQ(wrong_values, 0u);
  const CacheStats s = cache.Stats();
  EXPECT_LE(s.bytes, o.capacity_bytes);
  EXPECT_EQ(s.hits + s.stale_served + s.misses, lookups.load());
  EXPECT_GT(s.hits, 0u);
  EXPECT_GT(s.evictions, 0u);
  EXPECT_GT(s.invalidations, 0u);
  EXPECT_GT(s.stale_served, 0u);
  // Every resident entry is found, and the entry count matches the table.
  size_t found = 0;
  for (const std::string& key : keys) found += cache.Get(key).has_value();
  EXPECT_LE(found, s.entries);  // some may have expired since
}

}  // namespace
}  // namespace tempo::cache::testing
