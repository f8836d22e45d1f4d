// Tests of the adaptive window: the tuner must move a shard's window toward
// what the workload rewards, and back when the workload changes again.
#include "cache/window_tuner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "cache/cache.h"
#include "cache/wtinylfu.h"

namespace tempo::cache {
namespace {

using IntCache = Cache<std::shared_ptr<const int>>;
constexpr size_t kEntries = 400;
constexpr size_t kCharge = 1000;

class TunedCache {
 public:
  TunedCache() : cache_(Options()) {}

  static CacheOptions Options() {
    CacheOptions o;
    o.shards = 1;
    o.capacity_bytes = kEntries * kCharge;
    o.ttl = std::chrono::hours(1);
    o.refresh_threads = 0;
    return o;
  }

  // Requests `key`; true on a hit.
  bool Request(uint64_t key) {
    const std::string k = std::to_string(key);
    const size_t charge = kCharge - IntCache::EntryOverhead(k);
    auto r = cache_.GetOrLoad(k, [&]() -> Result<IntCache::Loaded> {
      return IntCache::Loaded{value_, charge, std::nullopt};
    });
    return r.ok() && r->source == Source::kHit;
  }

  double window() const { return cache_.Stats().window_fraction; }
  uint64_t moves() const { return cache_.Stats().window_moves; }

 private:
  IntCache cache_;
  std::shared_ptr<const int> value_ = std::make_shared<const int>(0);
};

// Frequency wins: 4 000 keys requested with a steep skew (the minimum of
// three uniform draws), between one-off keys (a scan): the cache should
// hold the most popular keys, and a large window lets the scan push them out.
void FrequencyPhase(TunedCache* cache, std::mt19937_64* rng, uint64_t* next_one_off, int requests) {
  std::uniform_int_distribution<int> coin(0, 1);
  std::uniform_int_distribution<uint64_t> hot(0, 3999);
  for (int i = 0; i < requests; ++i) {
    if (coin(*rng) == 0) {
      cache->Request(std::min({hot(*rng), hot(*rng), hot(*rng)}));
    } else {
      cache->Request((*next_one_off)++);
    }
  }
}

// Recency wins: a working set of 350 keys that slides forward slowly, each
// key requested a few times while it is in the set and never again: the
// frequency filter keeps rejecting the newcomers that an LRU would keep.
void RecencyPhase(TunedCache* cache, std::mt19937_64* rng, uint64_t* base, int requests) {
  std::uniform_int_distribution<uint64_t> in_set(0, 349);
  for (int i = 0; i < requests; ++i) {
    if (i % 4 == 0) ++*base;
    cache->Request(*base + in_set(*rng));
  }
}

TEST(WindowTunerTest, MovesTheWindowTowardRecencyAndBackTowardFrequency) {
  TunedCache cache;
  std::mt19937_64 rng(7);
  uint64_t one_off = 1'000'000'000;
  uint64_t base = 2'000'000'000;
  FrequencyPhase(&cache, &rng, &one_off, 60'000);
  EXPECT_LE(cache.window(), 0.1) << "frequency phase";
  RecencyPhase(&cache, &rng, &base, 60'000);
  EXPECT_GE(cache.window(), 0.6) << "recency phase";
  FrequencyPhase(&cache, &rng, &one_off, 60'000);
  EXPECT_LE(cache.window(), 0.1) << "frequency phase again";
  EXPECT_GE(cache.moves(), 2u);
}

TEST(WindowTunerTest, WindowStaysPutWithoutATuner) {
  CacheOptions o = TunedCache::Options();
  o.adaptive_window = false;
  o.window_fraction = 0.01;
  IntCache cache(o);
  const auto value = std::make_shared<const int>(0);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50'000; ++i) {
    const uint64_t key = rng() % 2000;
    (void)cache.GetOrLoad(std::to_string(key), [&]() -> Result<IntCache::Loaded> {
      return IntCache::Loaded{value, 500, std::nullopt};
    });
  }
  EXPECT_DOUBLE_EQ(cache.Stats().window_fraction, 0.01);
  EXPECT_EQ(cache.Stats().window_moves, 0u);
}

// The tuner samples keys by hash once a shard outgrows kGhostEntries, and
// only starts when the shard first evicts.
TEST(WindowTunerTest, StartsAtTheFirstEvictionAndSamplesLargeShards) {
  internal::PolicyOptions o;
  o.capacity_bytes = 4096 * 100;
  internal::WindowTuner small(o);
  EXPECT_FALSE(small.started());
  EXPECT_EQ(small.Record(12345, 100), std::nullopt);  // not started: nothing recorded
  small.Start(100);
  EXPECT_TRUE(small.started());
  small.Start(100000);  // a second Start changes nothing
  EXPECT_DOUBLE_EQ(small.window_fraction(), 0.01);
}

}  // namespace
}  // namespace tempo::cache
