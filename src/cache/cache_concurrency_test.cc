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
  o.expected_entry_charge = 1;  // the shards asked for, however small the cache
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

// The lock-free hit path against writers that replace, evict and invalidate
// the very entries being read: every value returned belongs to its key (a
// node is never reused or freed under a reader; ASan reports any premature
// free), hits are counted exactly, and the byte budget holds throughout.
TEST(CacheConcurrencyTest, LockFreeHitsRaceReplacementEvictionAndInvalidation) {
  constexpr int kReaders = 6;
  constexpr int kWriters = 2;
  constexpr int kHotKeys = 32;
  constexpr int kColdKeys = 4'000;
  FakeClock clock;
  CacheOptions o;
  // About 64 entries (of 100 bytes, keys of up to 13) over 2 shards: constant eviction.
  o.capacity_bytes = 64 * (100 + SliceCache::EntryOverhead(std::string(13, 'k')));
  o.shards = 2;
  o.expected_entry_charge = 1;  // the shards asked for, however small the cache
  o.clock = clock.Fn();
  SliceCache cache(o);
  std::vector<std::string> hot, cold;
  for (int i = 0; i < kHotKeys; ++i) hot.push_back("hot" + std::to_string(i));
  for (int i = 0; i < kColdKeys; ++i)
    cold.push_back("tenant" + std::to_string(i % 4) + '\x1f' + std::to_string(i));
  for (const std::string& key : hot) cache.Insert(key, MakeSlice(key, 0), 100);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> wrong_values{0}, lookups{0};
  const auto deadline = std::chrono::steady_clock::now() + kRunTime;
  std::vector<std::thread> threads;
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 rng(r);
      uint64_t mine = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const std::string& key = hot[rng() % kHotKeys];
        const int dice = static_cast<int>(rng() % 3);
        if (dice == 0) {
          auto v = cache.Get(key);
          if (v.has_value() && (*v)->key != key) ++wrong_values;
        } else if (dice == 1) {
          auto e = cache.GetOrLoad(key, Returning(key, 1));
          if (!e.ok() || e->value->key != key) ++wrong_values;
        } else {
          // Pinned reads, held while writers replace and evict them: read
          // again after a yield, so a premature free would be a use after free.
          ReadScope scope;
          const Slice* v = cache.Get(key, &scope);
          auto e = cache.GetOrLoad(key, Returning(key, 1), &scope);
          std::this_thread::yield();
          if (v != nullptr && v->key != key) ++wrong_values;
          if (!e.ok() || e->value->key != key) ++wrong_values;
          ++mine;
        }
        ++mine;
      }
      lookups += mine;
    });
  }
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(100 + w);
      for (int op = 0; std::chrono::steady_clock::now() < deadline && op < kMaxOpsPerThread; ++op) {
        const int dice = static_cast<int>(rng() % 100);
        if (dice < 40) {
          const std::string& key = hot[rng() % kHotKeys];
          cache.Insert(key, MakeSlice(key, op), 50 + rng() % 100);  // replaces a node being read
        } else if (dice < 85) {
          const std::string& key = cold[rng() % kColdKeys];
          auto e = cache.GetOrLoad(key, Returning(key, op, 100));  // evicts
          if (!e.ok() || e->value->key != key) ++wrong_values;
          ++lookups;
        } else if (dice < 97) {
          cache.Invalidate(hot[rng() % kHotKeys]);
        } else {
          cache.InvalidatePrefix("tenant" + std::to_string(rng() % 4) + '\x1f');
        }
        if (op % 64 == 0) {
          EXPECT_LE(cache.Stats().bytes, o.capacity_bytes);
        }
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[kReaders + w].join();
  stop = true;
  for (int r = 0; r < kReaders; ++r) threads[r].join();

  EXPECT_EQ(wrong_values, 0u);
  const CacheStats s = cache.Stats();
  EXPECT_LE(s.bytes, o.capacity_bytes);
  EXPECT_GT(s.evictions, 0u);
  EXPECT_GT(s.hits, 0u);
  // Every lookup is one hit or one miss (nothing expires here): hits are
  // counted exactly despite the lossy read buffers.
  EXPECT_EQ(s.stale_served, 0u);
  EXPECT_EQ(s.hits + s.misses, lookups.load());
}

}  // namespace
}  // namespace tempo::cache::testing
