// Micro-benchmarks of the L1 cache (src/cache): hits from 1, 2 and 4 threads
// over a small and a large resident key set, and a miss followed by the
// insert of the loaded value.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache.h"

namespace tempo::cache {
namespace {

struct Value {
  int64_t payload = 0;
};
using ValuePtr = std::shared_ptr<const Value>;
using ValueCache = Cache<ValuePtr>;

constexpr size_t kChargeBytes = 1024;
constexpr int kAccessPatternLength = 1 << 14;  // per thread, a power of two
constexpr int kMissKeys = 1 << 20;             // a power of two
constexpr int kSmallKeySet = 1'000;            // fits the CPU caches with the cache's nodes
constexpr int kLargeKeySet = 20'000;           // does not: most hits miss the CPU caches

// Slice keys as the API builds them (tenant, channel, page type, scope),
// stored back to back: a server builds its key in a buffer that is already
// in the CPU cache, and a vector of heap strings would add a memory miss per
// lookup that a server does not pay.
class KeySet {
 public:
  explicit KeySet(int count) {
    std::vector<size_t> ends;
    for (int i = 0; i < count; ++i) {
      bytes_ += "tenant" + std::to_string(i % 97) + '\x1f' + "web" + '\x1f' + "homepage" + '\x1f' +
                "page-" + std::to_string(i);
      ends.push_back(bytes_.size());
    }
    size_t begin = 0;
    for (size_t end : ends) {
      keys_.emplace_back(bytes_.data() + begin, end - begin);
      begin = end;
    }
  }
  std::string_view operator[](size_t i) const { return keys_[i]; }

 private:
  std::string bytes_;
  std::vector<std::string_view> keys_;
};

const KeySet& Keys() {
  static const KeySet* keys = new KeySet(kMissKeys);
  return *keys;
}

ValueCache::Loaded NewValue() {
  return ValueCache::Loaded{std::make_shared<const Value>(), kChargeBytes, std::nullopt};
}

// A cache holding the first `resident` keys, shared by the threads of a run.
ValueCache& HitCache(int resident) {
  static std::mutex mu;
  static std::map<int, ValueCache*> caches;
  std::lock_guard<std::mutex> lock(mu);
  ValueCache*& cache = caches[resident];
  if (cache == nullptr) {
    CacheOptions o;
    o.capacity_bytes = size_t{4} * resident * kChargeBytes;
    o.ttl = std::chrono::hours(1);
    o.expected_entry_charge = 1;  // 16 shards, as `tempo serve`'s L1 has, however small
    cache = new ValueCache(o);
    for (int i = 0; i < resident; ++i) {
      (void)cache->GetOrLoad(Keys()[i], [] { return Result<ValueCache::Loaded>(NewValue()); });
    }
  }
  return *cache;
}

std::vector<int> AccessPattern(int seed, int key_count) {
  std::mt19937 rng(seed);
  std::vector<int> pattern(kAccessPatternLength);
  for (int& i : pattern) i = static_cast<int>(rng() % key_count);
  return pattern;
}

// The runs of every hit benchmark: both key sets, on 1, 2 and 4 threads.
void HitRuns(benchmark::internal::Benchmark* b) {
  b->ArgName("keys")->Arg(kSmallKeySet)->Arg(kLargeKeySet);
  b->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
}

void BM_GetOrLoadHit(benchmark::State& state) {
  const int resident = static_cast<int>(state.range(0));
  ValueCache& cache = HitCache(resident);
  const std::vector<int> pattern = AccessPattern(state.thread_index() + 1, resident);
  const ValueCache::Loader loader = [] { return Result<ValueCache::Loaded>(NewValue()); };
  size_t i = 0;
  int64_t not_hits = 0;
  for (auto _ : state) {
    auto r = cache.GetOrLoad(Keys()[pattern[i++ & (kAccessPatternLength - 1)]], loader);
    not_hits += r->source != Source::kHit;
    benchmark::DoNotOptimize(r);
  }
  if (not_hits != 0) state.SkipWithError("a lookup of a resident key was not a hit");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetOrLoadHit)->Apply(HitRuns);

void BM_GetHit(benchmark::State& state) {
  const int resident = static_cast<int>(state.range(0));
  ValueCache& cache = HitCache(resident);
  const std::vector<int> pattern = AccessPattern(state.thread_index() + 101, resident);
  size_t i = 0;
  for (auto _ : state) {
    auto v = cache.Get(Keys()[pattern[i++ & (kAccessPatternLength - 1)]]);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetHit)->Apply(HitRuns);

// Get within a ReadScope, as the request path does: no reference is taken,
// so the threads share no written line for a key they both hit. One scope
// per lookup here (a server opens one per request, for its one or two
// slices), so the pin's cost is counted too.
void BM_GetHitPinned(benchmark::State& state) {
  const int resident = static_cast<int>(state.range(0));
  ValueCache& cache = HitCache(resident);
  const std::vector<int> pattern = AccessPattern(state.thread_index() + 301, resident);
  size_t i = 0;
  for (auto _ : state) {
    ReadScope scope;
    const Value* v = cache.Get(Keys()[pattern[i++ & (kAccessPatternLength - 1)]], &scope);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetHitPinned)->Apply(HitRuns);

// Each thread hits its own cache: nothing the threads touch is shared, so
// this is the ceiling that BM_GetHit's sharing of shards is measured against.
void BM_GetHitPrivateCache(benchmark::State& state) {
  CacheOptions o;
  o.capacity_bytes = size_t{4} * kSmallKeySet * kChargeBytes;
  o.ttl = std::chrono::hours(1);
  o.expected_entry_charge = 1;
  ValueCache cache(o);
  for (int i = 0; i < kSmallKeySet; ++i) {
    (void)cache.GetOrLoad(Keys()[i], [] { return Result<ValueCache::Loaded>(NewValue()); });
  }
  const std::vector<int> pattern = AccessPattern(state.thread_index() + 201, kSmallKeySet);
  size_t i = 0;
  for (auto _ : state) {
    auto v = cache.Get(Keys()[pattern[i++ & (kAccessPatternLength - 1)]]);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetHitPrivateCache)->Threads(1)->Threads(2)->UseRealTime();

// Every lookup misses (the keys cycle through far more than the cache holds),
// so each iteration is a lookup, a load (allocating the value), an insert
// and an eviction.
void BM_MissAndInsert(benchmark::State& state) {
  static ValueCache* cache = [] {
    CacheOptions o;
    o.capacity_bytes = size_t{kLargeKeySet} * kChargeBytes;
    o.ttl = std::chrono::hours(1);
    o.expected_entry_charge = 1;
    return new ValueCache(o);
  }();
  const ValueCache::Loader loader = [] { return Result<ValueCache::Loaded>(NewValue()); };
  size_t i = static_cast<size_t>(state.thread_index()) * (kMissKeys / 4);
  for (auto _ : state) {
    auto r = cache->GetOrLoad(Keys()[i++ & (kMissKeys - 1)], loader);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MissAndInsert)->Threads(1)->Threads(2)->UseRealTime();

// A full cache under skewed traffic (100 000 keys, the most popular far
// more often: the cube of a uniform draw), most lookups hits: the cost of a
// lookup with the policy at work, window tuner (adaptive:1) or not
// (adaptive:0). The tuner replays a sample of the requests through its
// ghosts, under the shard's lock, as hits are drained and misses added.
void BM_SkewedOnFullCache(benchmark::State& state) {
  constexpr int kKeys = 100'000;
  CacheOptions o;
  o.capacity_bytes = size_t{kLargeKeySet} * kChargeBytes;
  o.ttl = std::chrono::hours(1);
  o.expected_entry_charge = 1;
  o.adaptive_window = state.range(0) != 0;
  ValueCache cache(o);
  std::mt19937 rng(17);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<int> pattern(1 << 20);
  for (int& i : pattern) i = static_cast<int>(kKeys * std::pow(u(rng), 3));
  const ValueCache::Loader loader = [] { return Result<ValueCache::Loaded>(NewValue()); };
  for (int i : pattern) (void)cache.GetOrLoad(Keys()[i], loader);  // fills it, starts the tuner
  const CacheStats warm = cache.Stats();
  size_t i = 0;
  for (auto _ : state) {
    ReadScope scope;
    auto r = cache.GetOrLoad(Keys()[pattern[i++ & (pattern.size() - 1)]], loader, &scope);
    benchmark::DoNotOptimize(r);
  }
  const CacheStats end = cache.Stats();
  const double lookups = static_cast<double>(end.hits + end.misses - warm.hits - warm.misses);
  state.counters["hit_ratio"] = static_cast<double>(end.hits - warm.hits) / lookups;
  state.counters["window"] = end.window_fraction;
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SkewedOnFullCache)->ArgName("adaptive")->Arg(0)->Arg(1);

}  // namespace
}  // namespace tempo::cache

BENCHMARK_MAIN();
