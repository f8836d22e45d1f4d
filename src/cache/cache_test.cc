// Tests of Cache<V> through its public API: loading, expiry, stale-while-
// revalidate, single flight, invalidation, admission and byte accounting.
#include "cache/cache.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdint>
#include <future>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cache/cache_test_util.h"
#include "cache/node.h"
#include "cache/read_buffer.h"

namespace tempo::cache::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kTtl = seconds(10);
constexpr milliseconds kGrace = seconds(2);
constexpr milliseconds kMaxStale = seconds(60);
constexpr milliseconds kBackoff = seconds(1);

// What an entry of `charge` bytes under `key` counts against the capacity.
size_t Charged(std::string_view key, size_t charge) {
  return charge + SliceCache::EntryOverhead(key);
}

CacheOptions TestOptions(FakeClock* clock) {
  CacheOptions o;
  o.capacity_bytes = 1 << 20;
  o.shards = 1;
  o.ttl = kTtl;
  o.max_stale = kMaxStale;
  o.stale_grace = kGrace;
  o.refresh_retry_backoff = kBackoff;
  o.refresh_threads = 1;
  o.clock = clock->Fn();
  o.expected_entry_charge = 1;  // tests that set shards get that many
  return o;
}

TEST(CacheTest, MissLoadsAndStoresThenHits) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  std::atomic<int> calls{0};
  auto first = cache.GetOrLoad("k", Returning("k", 1, 100, &calls));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->source, Source::kLoaded);
  EXPECT_EQ(first->value->version, 1);
  auto second = cache.GetOrLoad("k", Returning("k", 2, 100, &calls));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->source, Source::kHit);
  EXPECT_EQ(second->value, first->value);  // the same shared object
  EXPECT_EQ(cache.Get("k"), first->value);
  EXPECT_EQ(cache.Get("other"), std::nullopt);
  EXPECT_EQ(calls, 1);
  const CacheStats s = cache.Stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.loads, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes, Charged("k", 100));
}

TEST(CacheTest, LoaderErrorIsReturnedAndNothingIsCached) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  auto r = cache.GetOrLoad(
      "k", []() -> Result<SliceCache::Loaded> { return Status::Unavailable("origin down"); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(r.status().message(), "origin down");
  EXPECT_EQ(cache.Get("k"), std::nullopt);
  EXPECT_EQ(cache.Stats().load_failures, 1u);
  auto again = cache.GetOrLoad("k", Returning("k", 1));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->source, Source::kLoaded);
}

TEST(CacheTest, NullValueFromLoaderIsAnError) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  auto r = cache.GetOrLoad("k", [] { return Result<SliceCache::Loaded>(SliceCache::Loaded{}); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInternal);
  EXPECT_EQ(cache.Stats().entries, 0u);
}

TEST(CacheTest, EntryExpiresAfterTtlWhenStaleServingIsOff) {
  FakeClock clock;
  CacheOptions o = TestOptions(&clock);
  o.max_stale = milliseconds(0);
  SliceCache cache(o);
  ASSERT_TRUE(cache.GetOrLoad("k", Returning("k", 1)).ok());
  clock.Advance(kTtl);  // age == ttl: still fresh
  auto at_ttl = cache.GetOrLoad("k", Returning("k", 2));
  EXPECT_EQ(at_ttl->source, Source::kHit);
  clock.Advance(milliseconds(1));
  EXPECT_EQ(cache.Get("k"), std::nullopt);
  EXPECT_EQ(cache.Stats().expirations, 1u);
  auto reloaded = cache.GetOrLoad("k", Returning("k", 2));
  EXPECT_EQ(reloaded->source, Source::kLoaded);
  EXPECT_EQ(reloaded->value->version, 2);
}

TEST(CacheTest, LoaderAndInsertCanGiveAnEntryItsOwnTtl) {
  FakeClock clock;
  CacheOptions o = TestOptions(&clock);
  o.max_stale = milliseconds(0);
  SliceCache cache(o);
  ASSERT_TRUE(cache
                  .GetOrLoad("short",
                             [] {
                               return Result<SliceCache::Loaded>(
                                   SliceCache::Loaded{MakeSlice("short", 1), 10, seconds(1)});
                             })
                  .ok());
  cache.Insert("long", MakeSlice("long", 1), 10, seconds(100));
  cache.Insert("default", MakeSlice("default", 1), 10);
  clock.Advance(seconds(2));
  EXPECT_EQ(cache.Get("short"), std::nullopt);
  EXPECT_NE(cache.Get("long"), std::nullopt);
  EXPECT_NE(cache.Get("default"), std::nullopt);
  clock.Advance(kTtl);
  EXPECT_NE(cache.Get("long"), std::nullopt);
  EXPECT_EQ(cache.Get("default"), std::nullopt);
}

TEST(CacheTest, BytesNeverExceedCapacityAndCountEveryCharge) {
  FakeClock clock;
  CacheOptions o = TestOptions(&clock);
  o.capacity_bytes = 40'000;
  o.shards = 4;  // 10'000 bytes each
  SliceCache cache(o);
  std::mt19937 rng(3);
  std::map<std::string, size_t> charge_of;
  for (int i = 0; i < 5000; ++i) {
    const std::string key = "k" + std::to_string(rng() % 800);
    const size_t charge = 1 + rng() % 900;
    charge_of[key] = charge;
    if (rng() % 2 == 0) {
      cache.Insert(key, MakeSlice(key, i), charge);
    } else {
      cache.Invalidate(key);
      ASSERT_TRUE(cache.GetOrLoad(key, Returning(key, i, charge)).ok());
    }
    // A value just stored is resident: the next lookup hits.
    ASSERT_NE(cache.Get(key), std::nullopt) << key;
    ASSERT_LE(cache.Stats().bytes, o.capacity_bytes);
  }
  size_t resident_bytes = 0, resident = 0;
  for (const auto& [key, charge] : charge_of) {
    if (cache.Get(key).has_value()) {
      resident_bytes += Charged(key, charge);
      ++resident;
    }
  }
  const CacheStats s = cache.Stats();
  EXPECT_EQ(s.bytes, resident_bytes);
  EXPECT_EQ(s.entries, resident);
  EXPECT_GT(s.evictions, 0u);
  EXPECT_GT(s.bytes, o.capacity_bytes / 2);
}

TEST(CacheTest, SmallCacheUsesFewerShards) {
  CacheOptions o;
  o.capacity_bytes = kMinShardEntries * o.expected_entry_charge;  // one shard's worth
  o.shards = 16;
  o.refresh_threads = 0;
  SliceCache small(o);
  // More than a sixteenth of the capacity: cached only if there is one shard.
  const size_t big = o.capacity_bytes / 2;
  ASSERT_TRUE(small.GetOrLoad("big", Returning("big", 1, big)).ok());
  EXPECT_NE(small.Get("big"), std::nullopt);

  o.capacity_bytes *= 16;  // room for 16 shards of kMinShardEntries
  SliceCache large(o);
  ASSERT_TRUE(large.GetOrLoad("big", Returning("big", 1, o.capacity_bytes / 8)).ok());
  EXPECT_EQ(large.Get("big"), std::nullopt);
}

TEST(CacheTest, EntryLargerThanAShardIsReturnedButNotCached) {
  FakeClock clock;
  CacheOptions o = TestOptions(&clock);
  o.capacity_bytes = 4000;
  o.shards = 2;
  SliceCache cache(o);
  auto r = cache.GetOrLoad("big", Returning("big", 1, 2001));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value->version, 1);
  EXPECT_EQ(cache.Get("big"), std::nullopt);
  EXPECT_EQ(cache.Stats().bytes, 0u);
  EXPECT_EQ(cache.Stats().admissions_rejected, 1u);
  // The entry's overhead counts too: a value that alone fits a shard but
  // not with its overhead is not cached either.
  const size_t fits_alone = 2000 - SliceCache::EntryOverhead("edge") + 1;
  ASSERT_TRUE(cache.GetOrLoad("edge", Returning("edge", 1, fits_alone)).ok());
  EXPECT_EQ(cache.Get("edge"), std::nullopt);
  ASSERT_TRUE(cache.GetOrLoad("fits", Returning("fits", 1, fits_alone - 1)).ok());
  EXPECT_NE(cache.Get("fits"), std::nullopt);
  EXPECT_EQ(cache.Stats().bytes, 2000u);
}

// The overhead the cache charges covers the heap block of the entry's node
// and key, as malloc sizes it, for every key length, aligned as the
// lock-free readers need.
TEST(CacheTest, EntryOverheadCoversTheNodesHeapBlock) {
  for (size_t key_size = 0; key_size < 300; ++key_size) {
    const std::string key(key_size, 'k');
    const internal::NodePtr node(internal::Node::New(key));
    void* block = reinterpret_cast<char*>(node.get()) - node->alignment_offset;
    // glibc may hand out a free block up to 16 bytes larger than the
    // request's size rather than split off a remainder too small to be a
    // block: that memory was free before and is not lost.
    const size_t malloc_header_bytes = 8, unsplit_remainder_bytes = 16;
    EXPECT_LE(malloc_usable_size(block) + malloc_header_bytes,
              internal::Node::AllocatedBytes(key_size) + unsplit_remainder_bytes)
        << key_size;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(node.get()) % alignof(internal::Node), 0u);
    EXPECT_EQ(node->key(), key);
    EXPECT_GT(SliceCache::EntryOverhead(key), internal::Node::AllocatedBytes(key_size));
  }
}

TEST(CacheTest, OneHitWondersDoNotEvictAFrequentEntry) {
  FakeClock clock;
  CacheOptions o = TestOptions(&clock);
  o.capacity_bytes = 10 * Charged("once0000", 100);
  SliceCache cache(o);
  ASSERT_TRUE(cache.GetOrLoad("hot", Returning("hot", 1)).ok());
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(cache.GetOrLoad("hot", Returning("hot", 1))->source, Source::kHit);
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "once" + std::to_string(i);
    ASSERT_EQ(cache.GetOrLoad(key, Returning(key, 1))->source, Source::kLoaded);
    if (i % 50 == 0) {
      ASSERT_EQ(cache.GetOrLoad("hot", Returning("hot", 2))->source, Source::kHit) << i;
    }
  }
  EXPECT_EQ(cache.Get("hot").value()->version, 1);
  EXPECT_GT(cache.Stats().admissions_rejected, 1900u);
}

// Hits found without the lock reach the policy through the read buffer:
// hits from another thread, enough to fill several rings (each drained by
// the hit that fills it), protect the entry as hits under the lock did.
TEST(CacheTest, LockFreeHitsReachThePolicyThroughTheReadBuffer) {
  FakeClock clock;
  CacheOptions o = TestOptions(&clock);
  o.capacity_bytes = 10 * Charged("once0000", 100);
  SliceCache cache(o);
  ASSERT_TRUE(cache.GetOrLoad("hot", Returning("hot", 1)).ok());
  constexpr size_t kHits = 4 * internal::ReadBuffer::kSlots;  // four laps of a ring
  std::thread reader([&cache] {
    for (size_t i = 0; i < kHits; ++i) ASSERT_TRUE(cache.Get("hot").has_value());
  });
  reader.join();
  EXPECT_EQ(cache.Stats().hits, kHits);
  // Fewer one-offs than a shift-detector sample: this is about admission,
  // not about forgetting a key that is requested no more.
  for (int i = 0; i < 900; ++i) {
    const std::string key = "once" + std::to_string(i);
    ASSERT_EQ(cache.GetOrLoad(key, Returning(key, 1))->source, Source::kLoaded);
  }
  EXPECT_EQ(cache.Get("hot").value()->version, 1);
}

TEST(CacheTest, ReplacedValueStaysValidForItsReader) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  cache.Insert("k", MakeSlice("k", 1), 100);
  const SlicePtr held = cache.Get("k").value();
  for (int i = 2; i < 200; ++i) cache.Insert("k", MakeSlice("k", i), 100);  // retires old nodes
  cache.Invalidate("k");
  EXPECT_EQ(held->version, 1);
  // Removed nodes are freed once no lock-free reader can hold them, which
  // later operations on the shard notice (each may advance the epoch once).
  for (int i = 0; i < 3; ++i) cache.Insert("other", MakeSlice("other", i), 100);
  EXPECT_EQ(held.use_count(), 1);        // the cache let go of it
  EXPECT_EQ(cache.Stats().entries, 2u);  // "other", and "k" expired by the invalidation
}

// Counts the live values of a test, so a test can see when the cache frees one.
struct Counted {
  explicit Counted(std::atomic<int>* live) : live(live) { ++*live; }
  ~Counted() { --*live; }
  std::atomic<int>* live;
};
using CountedCache = Cache<std::shared_ptr<const Counted>>;

TEST(CacheTest, PinnedLookupsReadTheCachedValueInPlace) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  cache.Insert("k", MakeSlice("k", 1), 100);
  const SlicePtr shared = cache.Get("k").value();
  ReadScope scope;
  EXPECT_EQ(cache.Get("k", &scope), shared.get());  // the cache's own copy, no new reference
  EXPECT_EQ(shared.use_count(), 2);                 // the test's and the cache's
  EXPECT_EQ(cache.Get("absent", &scope), nullptr);
  auto hit = cache.GetOrLoad("k", Returning("k", 9), &scope);
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ(hit->source, Source::kHit);
  EXPECT_EQ(hit->value, shared.get());
  auto loaded = cache.GetOrLoad("new", Returning("new", 2), &scope);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->source, Source::kLoaded);
  EXPECT_EQ(loaded->value->version, 2);
  EXPECT_EQ(cache.Get("new", &scope), loaded->value);  // stored before GetOrLoad returned
  EXPECT_EQ(cache.Stats().hits, 4u);
}

TEST(CacheTest, PinnedValueOutlivesItsEntryUntilTheScopeEnds) {
  std::atomic<int> live{0};
  CacheOptions o;
  o.capacity_bytes = 16 * Charged("other", 100);
  o.shards = 1;
  o.max_stale = std::chrono::milliseconds(0);  // so that Invalidate removes
  CountedCache cache(o);
  cache.Insert("k", std::make_shared<const Counted>(&live), 100);
  {
    ReadScope scope;
    const Counted* pinned = cache.Get("k", &scope);
    ASSERT_NE(pinned, nullptr);
    for (int i = 0; i < 200; ++i) {  // replaces and retires nodes, and runs collections
      cache.Insert("k", std::make_shared<const Counted>(&live), 100);
      cache.Invalidate("k");
    }
    EXPECT_EQ(pinned->live, &live);  // still readable: ASan reports a use after free
    EXPECT_GE(live.load(), 1);
  }
  // Unpinned: later operations free what was retired (each may advance the
  // epoch once, and a retired node waits for two advances).
  std::atomic<int> filler{0};
  for (int i = 0; i < 64 && live.load() > 0; ++i) {
    cache.Insert("other", std::make_shared<const Counted>(&filler), 100);
    cache.Invalidate("other");
  }
  EXPECT_EQ(live.load(), 0);
}

TEST(CacheTest, PinnedLoadOfAnUncachableValueIsKeptByTheScope) {
  std::atomic<int> live{0};
  CacheOptions o;
  o.capacity_bytes = 1000;
  o.shards = 1;
  CountedCache cache(o);
  {
    ReadScope scope;
    auto loaded = cache.GetOrLoad(
        "big",
        [&live] {
          return Result<CountedCache::Loaded>(
              CountedCache::Loaded{std::make_shared<const Counted>(&live), 5000, std::nullopt});
        },
        &scope);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(loaded->source, Source::kLoaded);
    EXPECT_EQ(cache.Stats().entries, 0u);  // larger than the shard: not stored
    EXPECT_EQ(loaded->value->live, &live);
    EXPECT_EQ(live.load(), 1);
  }
  EXPECT_EQ(live.load(), 0);  // the scope owned it
}

TEST(CacheTest, ConcurrentMissesOfOneKeyMakeOneLoad) {
  constexpr int kThreads = 8;
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  std::atomic<int> calls{0};
  // The load lasts until every thread has missed (and so is waiting for it).
  auto loader = [&]() -> Result<SliceCache::Loaded> {
    ++calls;
    EXPECT_TRUE(Eventually([&] { return cache.Stats().misses == kThreads; }));
    return SliceCache::Loaded{MakeSlice("k", 1), 100, std::nullopt};
  };
  std::vector<SlicePtr> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto r = cache.GetOrLoad("k", loader);
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->source, Source::kLoaded);
      got[t] = r->value;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(calls, 1);
  for (const SlicePtr& v : got) EXPECT_EQ(v, got[0]);
  EXPECT_EQ(cache.Stats().loads, 1u);
  EXPECT_EQ(cache.GetOrLoad("k", loader)->source, Source::kHit);
}

TEST(CacheTest, WaitersShareTheLoadError) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  Gate release;
  std::atomic<int> calls{0};
  auto failing = [&]() -> Result<SliceCache::Loaded> {
    ++calls;
    release.Wait();
    return Status::IOError("disk");
  };
  std::thread leader(
      [&] { EXPECT_EQ(cache.GetOrLoad("k", failing).status().code(), Status::Code::kIOError); });
  ASSERT_TRUE(Eventually([&] { return calls == 1; }));
  std::thread waiter(
      [&] { EXPECT_EQ(cache.GetOrLoad("k", failing).status().code(), Status::Code::kIOError); });
  ASSERT_TRUE(Eventually([&] { return cache.Stats().misses == 2; }));
  release.Open();
  leader.join();
  waiter.join();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(cache.Stats().load_failures, 1u);
}

TEST(CacheTest, WaitingForAnotherLoadIsBoundedByTheTimeout) {
  FakeClock clock;
  CacheOptions o = TestOptions(&clock);
  o.load_wait_timeout = milliseconds(20);
  SliceCache cache(o);
  Gate release;
  std::atomic<int> calls{0};
  const auto slow = LoadBlockedOn(&release, &calls, "k", 1);
  std::thread leader([&] { EXPECT_TRUE(cache.GetOrLoad("k", slow).ok()); });
  ASSERT_TRUE(Eventually([&] { return calls == 1; }));
  auto waited = cache.GetOrLoad("k", slow);
  ASSERT_FALSE(waited.ok());
  EXPECT_EQ(waited.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(cache.Stats().load_timeouts, 1u);
  release.Open();
  leader.join();
  EXPECT_EQ(calls, 1);
  EXPECT_NE(cache.Get("k"), std::nullopt);
}

// A request's scope carries its deadline: waiting for another request's
// load of the same key ends there, long before load_wait_timeout.
TEST(CacheTest, WaitingForAnotherLoadEndsAtTheScopesDeadline) {
  FakeClock clock;
  CacheOptions o = TestOptions(&clock);
  o.load_wait_timeout = std::chrono::seconds(60);
  SliceCache cache(o);
  Gate release;
  std::atomic<int> calls{0};
  const auto slow = LoadBlockedOn(&release, &calls, "k", 1);
  std::thread leader([&] { EXPECT_TRUE(cache.GetOrLoad("k", slow).ok()); });
  ASSERT_TRUE(Eventually([&] { return calls == 1; }));
  auto waiter = std::async(std::launch::async, [&] {
    ReadScope scope(std::chrono::steady_clock::now() + milliseconds(10));
    auto waited = cache.GetOrLoad("k", slow, &scope);
    return waited.ok() ? Status::OK() : waited.status();
  });
  // The load is still blocked: only the scope's deadline can end the wait
  // (60 s of load_wait_timeout would fail this bound).
  const bool ended = waiter.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  EXPECT_TRUE(ended);
  release.Open();
  const Status waited = waiter.get();
  leader.join();
  EXPECT_EQ(waited.code(), Status::Code::kUnavailable);
  EXPECT_EQ(cache.Stats().load_timeouts, 1u);
  EXPECT_EQ(calls, 1);
  ReadScope later;  // no deadline: a hit, as ever
  EXPECT_NE(cache.Get("k", &later), nullptr);
}

TEST(CacheTest, ExpiredEntryIsServedStaleWhileOneRefreshRuns) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  ASSERT_TRUE(cache.GetOrLoad("k", Returning("k", 1)).ok());
  clock.Advance(kTtl + seconds(1));

  Gate release;
  std::atomic<int> refresh_calls{0};
  auto refresh = [&]() -> Result<SliceCache::Loaded> {
    ++refresh_calls;
    release.Wait();
    return SliceCache::Loaded{MakeSlice("k", 2), 100, std::nullopt};
  };
  for (int i = 0; i < 3; ++i) {
    auto r = cache.GetOrLoad("k", refresh);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->source, Source::kStale);
    EXPECT_EQ(r->value->version, 1);
  }
  EXPECT_EQ(cache.Get("k").value()->version, 1);
  release.Open();
  ASSERT_TRUE(Eventually([&] { return cache.Stats().refreshes == 1; }));
  auto fresh = cache.GetOrLoad("k", refresh);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->source, Source::kHit);
  EXPECT_EQ(fresh->value->version, 2);
  EXPECT_EQ(refresh_calls, 1);
  const CacheStats s = cache.Stats();
  EXPECT_EQ(s.stale_served, 4u);
  EXPECT_EQ(s.loads, 1u);
  EXPECT_EQ(s.refresh_failures, 0u);
}

TEST(CacheTest, FailedRefreshKeepsServingStaleUntilMaxStaleThenReloads) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  ASSERT_TRUE(cache.GetOrLoad("k", Returning("k", 1)).ok());
  clock.Advance(kTtl + seconds(1));

  std::atomic<int> failing_calls{0};
  auto failing = [&]() -> Result<SliceCache::Loaded> {
    ++failing_calls;
    return Status::Unavailable("origin down");
  };
  EXPECT_EQ(cache.GetOrLoad("k", failing)->source, Source::kStale);
  ASSERT_TRUE(Eventually([&] { return cache.Stats().refresh_failures == 1; }));
  // Within the retry backoff: stale, and no new refresh.
  auto r = cache.GetOrLoad("k", failing);
  EXPECT_EQ(r->source, Source::kStale);
  EXPECT_EQ(r->value->version, 1);
  EXPECT_EQ(failing_calls, 1);
  // After the backoff the next stale read tries again.
  clock.Advance(kBackoff + milliseconds(1));
  EXPECT_EQ(cache.GetOrLoad("k", failing)->source, Source::kStale);
  ASSERT_TRUE(Eventually([&] { return cache.Stats().refresh_failures == 2; }));
  EXPECT_EQ(failing_calls, 2);
  // Past ttl + max_stale: a miss, loaded on the caller's thread.
  clock.Advance(kMaxStale);
  auto reloaded = cache.GetOrLoad("k", Returning("k", 2));
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(reloaded->source, Source::kLoaded);
  EXPECT_EQ(reloaded->value->version, 2);
  EXPECT_EQ(cache.Stats().expirations, 1u);
  EXPECT_EQ(cache.GetOrLoad("k", failing)->source, Source::kHit);
}

TEST(CacheTest, PastMaxStaleAFailingLoadIsAnError) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  ASSERT_TRUE(cache.GetOrLoad("k", Returning("k", 1)).ok());
  clock.Advance(kTtl + kMaxStale + seconds(1));
  auto r = cache.GetOrLoad(
      "k", []() -> Result<SliceCache::Loaded> { return Status::Unavailable("origin down"); });
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(cache.Get("k"), std::nullopt);
}

TEST(CacheTest, InvalidateExpiresOneKey) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  cache.Insert("a", MakeSlice("a", 1), 10);
  cache.Insert("b", MakeSlice("b", 1), 10);
  cache.Invalidate("a");
  cache.Invalidate("missing");
  EXPECT_EQ(cache.Get("a"), std::nullopt);
  EXPECT_NE(cache.Get("b"), std::nullopt);
  const CacheStats s = cache.Stats();
  EXPECT_EQ(s.invalidations, 1u);
  EXPECT_EQ(s.entries, 2u);  // "a" stays, expired, to stand in for a failed reload
  EXPECT_EQ(s.bytes, Charged("a", 10) + Charged("b", 10));
  std::atomic<int> calls{0};
  auto r = cache.GetOrLoad("a", Returning("a", 2, 10, &calls));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->source, Source::kLoaded);
  EXPECT_EQ(r->value->version, 2);
  EXPECT_EQ(calls, 1);
}

// A publish invalidated the key, then L2 and the origin both failed: the
// value from before the publish stands in (kStale) instead of an error, but
// only after a reload was tried; the first reload that succeeds replaces it.
TEST(CacheTest, AnInvalidatedValueStandsInOnlyWhenItsReloadFails) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  ASSERT_TRUE(cache.GetOrLoad("k", Returning("k", 1)).ok());
  cache.Invalidate("k");
  std::atomic<int> failures{0};
  auto failing = [&]() -> Result<SliceCache::Loaded> {
    ++failures;
    return Status::Unavailable("origin down");
  };
  auto r = cache.GetOrLoad("k", failing);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->source, Source::kStale);
  EXPECT_EQ(r->value->version, 1);
  EXPECT_EQ(failures, 1);
  // Now its loads fail, the stand-in is served at once (as any expired
  // value's after a failed load); another invalidation (another publish)
  // makes the next lookup try a reload again first.
  EXPECT_EQ(cache.GetOrLoad("k", failing)->source, Source::kStale);
  EXPECT_EQ(failures, 1);
  cache.Invalidate("k");
  EXPECT_EQ(cache.GetOrLoad("k", failing)->source, Source::kStale);
  EXPECT_EQ(failures, 2);
  cache.Invalidate("k");
  auto fresh = cache.GetOrLoad("k", Returning("k", 2));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->source, Source::kLoaded);
  EXPECT_EQ(fresh->value->version, 2);
  // Past max_stale from the invalidation the old value is gone: an error.
  cache.Invalidate("k");
  clock.Advance(kMaxStale + milliseconds(1));
  EXPECT_FALSE(cache.GetOrLoad("k", failing).ok());
}

// ttl_jitter shortens each key's ttl by a fixed share of up to ttl_jitter:
// keys stored together expire spread over that share of the ttl.
TEST(CacheTest, TtlJitterSpreadsExpiriesOverItsShareOfTheTtl) {
  FakeClock clock;
  CacheOptions o = TestOptions(&clock);
  o.ttl = seconds(100);
  o.ttl_jitter = 0.1;
  o.max_stale = milliseconds(0);  // an expired entry is a miss
  SliceCache cache(o);
  constexpr int kKeys = 1000;
  for (int i = 0; i < kKeys; ++i) cache.Insert(std::to_string(i), MakeSlice("k", i), 10);
  auto fresh = [&] {
    int n = 0;
    for (int i = 0; i < kKeys; ++i) n += cache.Get(std::to_string(i)).has_value();
    return n;
  };
  clock.Advance(seconds(90));
  EXPECT_EQ(fresh(), kKeys);  // none shortened by more than 10 %
  clock.Advance(seconds(5));
  const int at_95 = fresh();
  EXPECT_GT(at_95, kKeys / 4);  // about half expire in the first 5 s of the spread
  EXPECT_LT(at_95, kKeys * 3 / 4);
  // The share is the key's own: one stored again gets the same ttl.
  cache.Insert("0", MakeSlice("k", 0), 10);
  const bool zero_fresh_at_95 = [&] {
    FakeClock c2;
    CacheOptions o2 = o;
    o2.clock = c2.Fn();
    SliceCache other(o2);
    other.Insert("0", MakeSlice("k", 0), 10);
    c2.Advance(seconds(95));
    return other.Get("0").has_value();
  }();
  clock.Advance(seconds(95));
  EXPECT_EQ(cache.Get("0").has_value(), zero_fresh_at_95);
  clock.Advance(seconds(6));
  EXPECT_FALSE(cache.Get("0").has_value());
}

// kRemove, or any invalidation with stale values off, removes the key:
// nothing stands in.
TEST(CacheTest, InvalidateRemovesTheKeyForKRemoveOrWhenStaleValuesAreOff) {
  for (bool stale_off : {true, false}) {
    FakeClock clock;
    CacheOptions o = TestOptions(&clock);
    if (stale_off) o.max_stale = milliseconds(0);
    SliceCache cache(o);
    cache.Insert("a", MakeSlice("a", 1), 10);
    cache.Insert("b/1", MakeSlice("b", 1), 10);
    cache.Invalidate("a", stale_off ? Invalidation::kExpire : Invalidation::kRemove);
    EXPECT_EQ(
        cache.InvalidatePrefix("b/", stale_off ? Invalidation::kExpire : Invalidation::kRemove),
        1u);
    EXPECT_EQ(cache.Stats().entries, 0u) << stale_off;
    EXPECT_FALSE(
        cache
            .GetOrLoad("a", []() -> Result<SliceCache::Loaded> { return Status::Unavailable("x"); })
            .ok())
        << stale_off;
  }
}

TEST(CacheTest, InvalidatePrefixExpiresEveryKeyWithThePrefixInEveryShard) {
  FakeClock clock;
  CacheOptions o = TestOptions(&clock);
  o.shards = 8;
  SliceCache cache(o);
  const std::string acme = std::string("acme") + '\x1f';
  const std::string acme2 = std::string("acme2") + '\x1f';
  for (int i = 0; i < 50; ++i) {
    cache.Insert(acme + "web" + '\x1f' + std::to_string(i), MakeSlice("x", i), 10);
    cache.Insert(acme2 + "web" + '\x1f' + std::to_string(i), MakeSlice("y", i), 10);
  }
  EXPECT_EQ(cache.InvalidatePrefix(acme), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(cache.Get(acme + "web" + '\x1f' + std::to_string(i)), std::nullopt);
    EXPECT_NE(cache.Get(acme2 + "web" + '\x1f' + std::to_string(i)), std::nullopt);
  }
  const CacheStats s = cache.Stats();
  EXPECT_EQ(s.invalidations, 50u);
  EXPECT_EQ(s.entries, 100u);  // expired, kept to stand in for failed reloads
  EXPECT_EQ(cache.InvalidatePrefix(acme), 50u);
}

TEST(CacheTest, ResidentsListsTheEntriesWithThePrefixAndWhatTheyCost) {
  FakeClock clock;
  CacheOptions o = TestOptions(&clock);
  o.shards = 4;
  SliceCache cache(o);
  cache.Insert("acme/a", MakeSlice("acme/a", 1), 10);
  clock.Advance(std::chrono::milliseconds(5));
  cache.Insert("acme/b", MakeSlice("acme/b", 2), 20);
  cache.Insert("zeta/a", MakeSlice("zeta/a", 3), 30);
  for (int i = 0; i < 3; ++i) ASSERT_NE(cache.Get("acme/b"), std::nullopt);
  std::vector<SliceCache::Resident> acme = cache.Residents("acme/");
  std::sort(acme.begin(), acme.end(), [](const auto& x, const auto& y) { return x.key < y.key; });
  ASSERT_EQ(acme.size(), 2u);
  EXPECT_EQ(acme[0].key, "acme/a");
  EXPECT_EQ(acme[0].value->version, 1);
  EXPECT_EQ(acme[0].charge, 10 + SliceCache::EntryOverhead("acme/a"));
  EXPECT_EQ(acme[0].age, std::chrono::milliseconds(5));
  EXPECT_EQ(acme[0].hits, 0u);
  EXPECT_TRUE(acme[0].fresh);
  EXPECT_EQ(acme[1].key, "acme/b");
  EXPECT_EQ(acme[1].hits, 3u);  // buffered hits are drained before listing
  EXPECT_GT(acme[1].frequency, acme[0].frequency);
  EXPECT_EQ(cache.Residents("").size(), 3u);
  clock.Advance(kTtl + std::chrono::milliseconds(1));
  for (const SliceCache::Resident& r : cache.Residents("acme/")) EXPECT_FALSE(r.fresh) << r.key;
}

// A load that began before an invalidation read data the invalidation made
// obsolete: its caller gets it, but it must not be stored.
TEST(CacheTest, LoadResultIsDiscardedAfterAConcurrentInvalidation) {
  for (bool by_prefix : {false, true}) {
    FakeClock clock;
    SliceCache cache(TestOptions(&clock));
    Gate release;
    std::atomic<int> calls{0};
    auto old_data = [&]() -> Result<SliceCache::Loaded> {
      ++calls;
      release.Wait();
      return SliceCache::Loaded{MakeSlice("t/k", 1), 100, std::nullopt};
    };
    std::thread loading([&] {
      auto r = cache.GetOrLoad("t/k", old_data);
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->value->version, 1);
    });
    ASSERT_TRUE(Eventually([&] { return calls == 1; }));
    if (by_prefix) {
      cache.InvalidatePrefix("t/");
    } else {
      cache.Invalidate("t/k");
    }
    release.Open();
    loading.join();
    EXPECT_EQ(cache.Get("t/k"), std::nullopt) << by_prefix;
    EXPECT_EQ(cache.Stats().loads_discarded, 1u);
  }
}

TEST(CacheTest, LookupAfterAnInvalidationDoesNotJoinTheOlderLoad) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  Gate release;
  std::atomic<int> calls{0};
  const auto old_data = LoadBlockedOn(&release, &calls, "k", 1);
  std::thread loading([&] { EXPECT_EQ(cache.GetOrLoad("k", old_data)->value->version, 1); });
  ASSERT_TRUE(Eventually([&] { return calls == 1; }));
  cache.Invalidate("k");
  auto r = cache.GetOrLoad("k", Returning("k", 2));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->source, Source::kLoaded);
  EXPECT_EQ(r->value->version, 2);
  release.Open();
  loading.join();
  EXPECT_EQ(cache.Get("k").value()->version, 2);
}

TEST(CacheTest, InsertDuringALoadIsNotOverwrittenByIt) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  Gate release;
  std::atomic<int> calls{0};
  const auto old_data = LoadBlockedOn(&release, &calls, "k", 1);
  std::thread loading([&] { EXPECT_TRUE(cache.GetOrLoad("k", old_data).ok()); });
  ASSERT_TRUE(Eventually([&] { return calls == 1; }));
  cache.Insert("k", MakeSlice("k", 3), 100);
  release.Open();
  loading.join();
  EXPECT_EQ(cache.Get("k").value()->version, 3);
}

TEST(CacheTest, RefreshResultIsDiscardedAfterAConcurrentInvalidation) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  ASSERT_TRUE(cache.GetOrLoad("k", Returning("k", 1)).ok());
  clock.Advance(kTtl + seconds(1));
  Gate release;
  std::atomic<int> calls{0};
  const auto refresh = LoadBlockedOn(&release, &calls, "k", 2);
  EXPECT_EQ(cache.GetOrLoad("k", refresh)->source, Source::kStale);
  ASSERT_TRUE(Eventually([&] { return calls == 1; }));
  cache.Invalidate("k");
  release.Open();
  ASSERT_TRUE(Eventually([&] { return cache.Stats().refreshes == 1; }));
  EXPECT_EQ(cache.Get("k"), std::nullopt);
  EXPECT_EQ(cache.Stats().loads_discarded, 1u);
}

TEST(CacheTest, DestroyingTheCacheWithAQueuedRefreshIsClean) {
  FakeClock clock;
  CacheOptions o = TestOptions(&clock);
  Gate release;
  std::atomic<int> calls{0};
  {
    SliceCache cache(o);
    ASSERT_TRUE(cache.GetOrLoad("a", Returning("a", 1)).ok());
    ASSERT_TRUE(cache.GetOrLoad("b", Returning("b", 1)).ok());
    clock.Advance(kTtl + seconds(1));
    auto blocking = [&]() -> Result<SliceCache::Loaded> {
      ++calls;
      release.Wait();
      return SliceCache::Loaded{MakeSlice("x", 2), 100, std::nullopt};
    };
    EXPECT_EQ(cache.GetOrLoad("a", blocking)->source, Source::kStale);  // runs, blocks
    ASSERT_TRUE(Eventually([&] { return calls == 1; }));
    EXPECT_EQ(cache.GetOrLoad("b", blocking)->source, Source::kStale);  // queued
    release.Open();
  }
  EXPECT_LE(calls, 2);
}

// --- Freshness: stale values stand in only for a failing origin ---------

// A loader that fails, counting its calls.
auto FailingLoader(std::atomic<int>* calls) {
  return [calls]() -> Result<SliceCache::Loaded> {
    ++*calls;
    return Status::Unavailable("origin down");
  };
}

int64_t NowMs(const std::function<int64_t()>& clock) { return clock() / 1'000'000; }

TEST(CacheTest, PastTheStaleGraceAnExpiredEntryIsLoadedOnTheRequestPath) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  ASSERT_TRUE(cache.GetOrLoad("k", Returning("k", 1)).ok());
  clock.Advance(kTtl + kGrace);  // the last instant of the grace: stale, refreshed
  Gate release;
  std::atomic<int> refresh_calls{0};
  auto r = cache.GetOrLoad("k", LoadBlockedOn(&release, &refresh_calls, "k", 2));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->source, Source::kStale);
  EXPECT_EQ(r->value->version, 1);
  EXPECT_EQ(cache.Get("k").value()->version, 1);
  clock.Advance(milliseconds(1));
  // Past the grace, with the refresh still running: nothing old is served;
  // a lookup waits for that load, as for a miss.
  EXPECT_EQ(cache.Get("k"), std::nullopt);
  ASSERT_TRUE(Eventually([&] { return refresh_calls == 1; }));
  release.Open();
  std::atomic<int> calls{0};
  auto joined = cache.GetOrLoad("k", Returning("k", 3, 100, &calls));
  ASSERT_TRUE(joined.ok());
  EXPECT_NE(joined->value->version, 1);
  EXPECT_EQ(calls, 0);
  // Past the grace with no load running: loaded on this thread.
  clock.Advance(kTtl + kGrace + milliseconds(1));
  auto loaded = cache.GetOrLoad("k", Returning("k", 4, 100, &calls));
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->source, Source::kLoaded);
  EXPECT_EQ(loaded->value->version, 4);
  EXPECT_EQ(calls, 1);
  const CacheStats s = cache.Stats();
  EXPECT_EQ(s.loads, 2u);
  EXPECT_EQ(s.refreshes, 1u);
  EXPECT_EQ(s.load_failures, 0u);
}

// With loads that succeed, no value older than ttl + stale_grace is ever
// returned, whatever the spacing of the lookups.
TEST(CacheTest, WithAHealthyOriginNoValueIsOlderThanTtlPlusGrace) {
  FakeClock clock;
  const auto now = clock.Fn();
  SliceCache cache(TestOptions(&clock));
  // The version is the clock time of the load, in ms.
  std::atomic<int> calls{0};
  auto loader = [&now, &calls]() -> Result<SliceCache::Loaded> {
    ++calls;
    return SliceCache::Loaded{MakeSlice("k", static_cast<int>(NowMs(now))), 100, std::nullopt};
  };
  std::mt19937 rng(7);
  std::map<Source, int> sources;
  uint64_t refreshes = 0;
  for (int i = 0; i < 2000; ++i) {
    auto r = cache.GetOrLoad("k", loader);
    ASSERT_TRUE(r.ok());
    ++sources[r->source];
    EXPECT_LE(NowMs(now) - r->value->version, (kTtl + kGrace).count()) << i;
    if (r->source == Source::kStale) {
      // Deterministic: let the refresh finish before the clock moves on.
      ASSERT_TRUE(Eventually([&] { return cache.Stats().refreshes == refreshes + 1; }));
      ++refreshes;
    }
    clock.Advance(milliseconds(1 + rng() % 4000));
  }
  EXPECT_GT(sources[Source::kHit], 0);
  EXPECT_GT(sources[Source::kStale], 0);
  EXPECT_GT(sources[Source::kLoaded], 1);
  EXPECT_EQ(cache.Stats().load_failures + cache.Stats().refresh_failures, 0u);
}

// A failing origin: the expired value is served (up to max_stale) when the
// request-path load fails, then at once, without calling the loader on the
// request path, while the failure is recent; refreshes are retried in the
// background after the backoff.
TEST(CacheTest, WithAFailingOriginTheStaleValueIsServedUpToMaxStale) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  ASSERT_TRUE(cache.GetOrLoad("k", Returning("k", 1)).ok());
  clock.Advance(kTtl + kGrace + milliseconds(1));
  std::atomic<int> calls{0};
  auto failed = cache.GetOrLoad("k", FailingLoader(&calls));  // loads on this thread, fails
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->source, Source::kStale);
  EXPECT_EQ(failed->value->version, 1);
  EXPECT_EQ(calls, 1);
  CacheStats s = cache.Stats();
  EXPECT_EQ(s.loads, 2u);
  EXPECT_EQ(s.load_failures, 1u);
  EXPECT_EQ(s.misses, 1u);        // the first load's
  EXPECT_EQ(s.stale_served, 1u);  // the failed load's lookup counts as stale, not as a miss

  // Within the backoff: stale at once, no load at all.
  for (int i = 0; i < 3; ++i) {
    auto r = cache.GetOrLoad("k", FailingLoader(&calls));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->source, Source::kStale);
  }
  EXPECT_EQ(cache.Get("k").value()->version, 1);
  EXPECT_EQ(calls, 1);

  // After the backoff: still stale at once, and the loader runs in the
  // background (blocked here, so a call on this thread would not return).
  clock.Advance(kBackoff + milliseconds(1));
  Gate release;
  std::atomic<int> refresh_calls{0};
  const auto refresh_then_fail = [&release, &refresh_calls]() -> Result<SliceCache::Loaded> {
    ++refresh_calls;
    release.Wait();
    return Status::Unavailable("origin still down");
  };
  auto r = cache.GetOrLoad("k", refresh_then_fail);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->source, Source::kStale);
  ASSERT_TRUE(Eventually([&] { return refresh_calls == 1; }));
  EXPECT_EQ(cache.GetOrLoad("k", refresh_then_fail)->source, Source::kStale);  // one refresh
  release.Open();
  ASSERT_TRUE(Eventually([&] { return cache.Stats().refresh_failures == 1; }));
  EXPECT_EQ(refresh_calls, 1);

  // Up to ttl + max_stale since it was stored, then an error.
  clock.Advance(kMaxStale - kGrace - kBackoff - milliseconds(2));  // age: ttl + max_stale
  EXPECT_EQ(cache.GetOrLoad("k", FailingLoader(&calls))->source, Source::kStale);
  ASSERT_TRUE(Eventually([&] { return cache.Stats().refresh_failures == 2; }));  // retried
  clock.Advance(milliseconds(1));
  auto gone = cache.GetOrLoad("k", FailingLoader(&calls));
  EXPECT_FALSE(gone.ok());
  s = cache.Stats();
  EXPECT_EQ(s.expirations, 1u);
  EXPECT_EQ(s.loads, 3u);
  EXPECT_EQ(s.refreshes, 2u);
  EXPECT_EQ(s.hits + s.stale_served + s.misses, 10u);  // each lookup counted once
}

// A lookup that waits for another caller's load past the grace falls back
// to the expired value when its wait ends first, and later lookups do not
// wait at all while that load is slow; its result then replaces the value.
TEST(CacheTest, AWaitThatTimesOutServesTheExpiredValue) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  ASSERT_TRUE(cache.GetOrLoad("k", Returning("k", 1)).ok());
  clock.Advance(kTtl + kGrace + milliseconds(1));
  Gate release;
  std::atomic<int> calls{0};
  const auto slow = LoadBlockedOn(&release, &calls, "k", 2);
  std::thread leader([&] { EXPECT_EQ(cache.GetOrLoad("k", slow)->value->version, 2); });
  ASSERT_TRUE(Eventually([&] { return calls == 1; }));
  {
    ReadScope scope(std::chrono::steady_clock::now() + milliseconds(10));
    auto waited = cache.GetOrLoad("k", slow, &scope);
    ASSERT_TRUE(waited.ok());
    EXPECT_EQ(waited->source, Source::kStale);
    EXPECT_EQ(waited->value->version, 1);
  }
  EXPECT_EQ(cache.Stats().load_timeouts, 1u);
  ReadScope no_deadline;  // would wait load_wait_timeout (5 s) if it waited
  auto at_once = cache.GetOrLoad("k", slow, &no_deadline);
  ASSERT_TRUE(at_once.ok());
  EXPECT_EQ(at_once->source, Source::kStale);
  EXPECT_EQ(cache.Stats().load_timeouts, 1u);
  release.Open();
  leader.join();
  EXPECT_EQ(cache.GetOrLoad("k", slow)->source, Source::kHit);
  EXPECT_EQ(cache.Get("k").value()->version, 2);
  EXPECT_EQ(calls, 1);
}

// An invalidation during the load of an expired value: the load's result
// would be discarded, but when it fails, the old value stands in as for any
// invalidated value whose reload fails.
TEST(CacheTest, AFailedLoadFallsBackToAValueInvalidatedDuringIt) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  ASSERT_TRUE(cache.GetOrLoad("k", Returning("k", 1)).ok());
  clock.Advance(kTtl + kGrace + milliseconds(1));
  Gate release;
  std::atomic<int> calls{0};
  auto failing = [&]() -> Result<SliceCache::Loaded> {
    ++calls;
    release.Wait();
    return Status::Unavailable("origin down");
  };
  std::thread loading([&] {
    auto r = cache.GetOrLoad("k", failing);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->source, Source::kStale);
    EXPECT_EQ(r->value->version, 1);
  });
  ASSERT_TRUE(Eventually([&] { return calls == 1; }));
  cache.Invalidate("k");
  release.Open();
  loading.join();
  cache.Invalidate("k");  // the publish's next invalidation: a reload is tried again
  EXPECT_EQ(cache.GetOrLoad("k", Returning("k", 2))->value->version, 2);
}

// --- TryGet: GetOrLoad's decisions, never blocking -----------------------

TEST(CacheTest, TryGetReturnsAHitInPlace) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  cache.Insert("k", MakeSlice("k", 1), 100);
  const SlicePtr shared = cache.Get("k").value();
  ReadScope scope;
  std::atomic<int> calls{0};
  auto hit = cache.TryGet("k", Returning("k", 2, 100, &calls), &scope);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->source, Source::kHit);
  EXPECT_EQ(hit->value, shared.get());
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(cache.Stats().hits, 2u);
}

// A miss would load: TryGet says so without loading or counting, and the
// GetOrLoad that follows counts the one miss.
TEST(CacheTest, TryGetOfAMissWouldBlockAndCountsNothing) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  std::atomic<int> calls{0};
  ReadScope scope;
  EXPECT_FALSE(cache.TryGet("k", Returning("k", 1, 100, &calls), &scope).has_value());
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(cache.Stats().misses, 0u);
  auto loaded = cache.GetOrLoad("k", Returning("k", 1, 100, &calls), &scope);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->source, Source::kLoaded);
  const CacheStats s = cache.Stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.loads, 1u);
  EXPECT_EQ(calls, 1);
}

TEST(CacheTest, TryGetWithinTheGraceServesStaleAndRefreshesInTheBackground) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  ASSERT_TRUE(cache.GetOrLoad("k", Returning("k", 1)).ok());
  clock.Advance(kTtl + milliseconds(1));
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> called_on_caller{false};
  std::atomic<int> calls{0};
  auto refresh = [&]() -> Result<SliceCache::Loaded> {
    ++calls;
    if (std::this_thread::get_id() == caller) called_on_caller = true;
    return SliceCache::Loaded{MakeSlice("k", 2), 100, std::nullopt};
  };
  ReadScope scope;
  auto stale = cache.TryGet("k", refresh, &scope);
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(stale->source, Source::kStale);
  EXPECT_EQ(stale->value->version, 1);
  ASSERT_TRUE(Eventually([&] { return cache.Stats().refreshes == 1; }));
  EXPECT_FALSE(called_on_caller);
  EXPECT_EQ(calls, 1);
  auto fresh = cache.TryGet("k", refresh, &scope);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(fresh->source, Source::kHit);
  EXPECT_EQ(fresh->value->version, 2);
  EXPECT_EQ(cache.Stats().stale_served, 1u);
}

TEST(CacheTest, TryGetPastTheGraceWouldBlock) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  ASSERT_TRUE(cache.GetOrLoad("k", Returning("k", 1)).ok());
  clock.Advance(kTtl + kGrace + milliseconds(1));
  std::atomic<int> calls{0};
  ReadScope scope;
  EXPECT_FALSE(cache.TryGet("k", Returning("k", 2, 100, &calls), &scope).has_value());
  EXPECT_EQ(calls, 0);
  const CacheStats before = cache.Stats();
  EXPECT_EQ(before.misses, 1u);  // the first load's
  EXPECT_EQ(before.stale_served, 0u);
  auto loaded = cache.GetOrLoad("k", Returning("k", 2, 100, &calls), &scope);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->source, Source::kLoaded);
  EXPECT_EQ(calls, 1);
  const CacheStats s = cache.Stats();
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.refreshes, 0u);
}

TEST(CacheTest, TryGetDuringAnotherCallersLoadWouldBlock) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  Gate release;
  std::atomic<int> calls{0};
  const auto slow = LoadBlockedOn(&release, &calls, "k", 1);
  std::thread leader([&] { EXPECT_TRUE(cache.GetOrLoad("k", slow).ok()); });
  ASSERT_TRUE(Eventually([&] { return calls == 1; }));
  {
    ReadScope scope;  // TryGet returns although the load is blocked
    EXPECT_FALSE(cache.TryGet("k", slow, &scope).has_value());
  }
  release.Open();
  leader.join();
  ReadScope scope;
  auto hit = cache.TryGet("k", slow, &scope);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->source, Source::kHit);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(cache.Stats().load_timeouts, 0u);
}

TEST(CacheTest, TryGetAfterAFailedLoadServesStaleAtOnce) {
  FakeClock clock;
  SliceCache cache(TestOptions(&clock));
  ASSERT_TRUE(cache.GetOrLoad("k", Returning("k", 1)).ok());
  clock.Advance(kTtl + kGrace + milliseconds(1));
  std::atomic<int> calls{0};
  ReadScope scope;
  EXPECT_FALSE(cache.TryGet("k", FailingLoader(&calls), &scope).has_value());
  auto failed = cache.GetOrLoad("k", FailingLoader(&calls), &scope);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->source, Source::kStale);
  auto stale = cache.TryGet("k", FailingLoader(&calls), &scope);
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(stale->source, Source::kStale);
  EXPECT_EQ(stale->value->version, 1);
  EXPECT_EQ(calls, 1);  // within the backoff: no refresh either
  const CacheStats s = cache.Stats();
  EXPECT_EQ(s.misses, 1u);  // the first lookup's
  EXPECT_EQ(s.stale_served, 2u);
  EXPECT_EQ(s.refreshes, 0u);
}

}  // namespace
}  // namespace tempo::cache::testing
