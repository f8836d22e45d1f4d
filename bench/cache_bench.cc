// Micro-benchmarks of the L1 cache (src/cache): hits from 1, 2 and 4 threads,
// and a miss followed by the insert of the loaded value.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cache/cache.h"

namespace tempo::cache {
namespace {

struct Value {
  int64_t payload = 0;
};
using ValuePtr = std::shared_ptr<const Value>;
using ValueCache = Cache<ValuePtr>;

constexpr int kResidentKeys = 10'000;
constexpr size_t kChargeBytes = 1024;
constexpr int kAccessPatternLength = 1 << 14;  // per thread, a power of two
constexpr int kMissKeys = 1 << 20;

// Slice keys as the API builds them: tenant, channel, page type, scope.
std::string SliceKey(int i) {
  return "tenant" + std::to_string(i % 97) + '\x1f' + "web" + '\x1f' + "homepage" + '\x1f' +
         "page-" + std::to_string(i);
}

// kMissKeys distinct keys, built once.
const std::vector<std::string>& Keys() {
  static const std::vector<std::string>* keys = [] {
    auto* k = new std::vector<std::string>();
    for (int i = 0; i < kMissKeys; ++i) k->push_back(SliceKey(i));
    return k;
  }();
  return *keys;
}

ValueCache::Loader MakeLoader() {
  auto value = std::make_shared<const Value>();
  return [value]() -> Result<ValueCache::Loaded> {
    return ValueCache::Loaded{value, kChargeBytes, std::nullopt};
  };
}

// A cache holding kResidentKeys entries, shared by the threads of a run.
ValueCache& HitCache() {
  static ValueCache* cache = [] {
    CacheOptions o;
    o.capacity_bytes = size_t{4} * kResidentKeys * kChargeBytes;
    o.ttl = std::chrono::hours(1);
    auto* c = new ValueCache(o);
    const ValueCache::Loader loader = MakeLoader();
    for (int i = 0; i < kResidentKeys; ++i) (void)c->GetOrLoad(Keys()[i], loader);
    return c;
  }();
  return *cache;
}

std::vector<int> AccessPattern(int seed, int key_count) {
  std::mt19937 rng(seed);
  std::vector<int> pattern(kAccessPatternLength);
  for (int& i : pattern) i = static_cast<int>(rng() % key_count);
  return pattern;
}

void BM_GetOrLoadHit(benchmark::State& state) {
  ValueCache& cache = HitCache();
  const std::vector<std::string>& keys = Keys();
  const std::vector<int> pattern = AccessPattern(state.thread_index() + 1, kResidentKeys);
  const ValueCache::Loader loader = MakeLoader();
  size_t i = 0;
  int64_t not_hits = 0;
  for (auto _ : state) {
    auto r = cache.GetOrLoad(keys[pattern[i++ & (kAccessPatternLength - 1)]], loader);
    not_hits += r->source != Source::kHit;
    benchmark::DoNotOptimize(r);
  }
  if (not_hits != 0) state.SkipWithError("a lookup of a resident key was not a hit");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetOrLoadHit)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

void BM_GetHit(benchmark::State& state) {
  ValueCache& cache = HitCache();
  const std::vector<std::string>& keys = Keys();
  const std::vector<int> pattern = AccessPattern(state.thread_index() + 101, kResidentKeys);
  size_t i = 0;
  for (auto _ : state) {
    auto v = cache.Get(keys[pattern[i++ & (kAccessPatternLength - 1)]]);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetHit)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

// Every lookup misses (the keys cycle through far more than the cache holds),
// so each iteration is a lookup, a load, an insert and an eviction.
void BM_MissAndInsert(benchmark::State& state) {
  static ValueCache* cache = [] {
    CacheOptions o;
    o.capacity_bytes = size_t{kResidentKeys} * kChargeBytes;
    o.ttl = std::chrono::hours(1);
    return new ValueCache(o);
  }();
  const std::vector<std::string>& keys = Keys();
  const ValueCache::Loader loader = MakeLoader();
  size_t i = static_cast<size_t>(state.thread_index()) * (kMissKeys / 4);
  for (auto _ : state) {
    auto r = cache->GetOrLoad(keys[i++ & (kMissKeys - 1)], loader);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MissAndInsert)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace tempo::cache

BENCHMARK_MAIN();
