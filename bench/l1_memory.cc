// L1 memory under cache-busting: a client that asks for a random pageId on
// every request fills L1 with small (empty) slices. Fills a cache far past
// its capacity with such entries, charged as api::PageSource charges them,
// and prints the RSS growth (/proc/self/statm) against the capacity: the
// charges must bound the real memory (issue 12; goal: growth <= 1.25 x the
// capacity).
//
// usage: l1_memory [--l1-mb N] [--cache slices|tenants] [--shards N] [--fill X]
//   --l1-mb    the cache's capacity in MiB (default 64)
//   --cache    slices: the slice cache, keys ACME\x1fweb\x1fproduct\x1f<random pageId>,
//                values compiled empty slices (default);
//              tenants: the tenant-knowledge cache, keys <random tenant>, a shared value
//   --shards   the cache's shards (default 16, as serve)
//   --fill     stored entries, in multiples of what the cache holds at the end (default 4)
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "rss.h"
#include "select/slice.h"

namespace {

using tempo::Result;
using tempo::cache::Cache;
using tempo::cache::CacheOptions;
using tempo::cache::CacheStats;
using tempo::cache::ReadScope;

using tempo::bench::RssBytes;

size_t HeapInUseBytes() { return mallinfo2().uordblks; }

double Mib(size_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

// The value api::PageSource caches for a slice (its CachedSlice): the slice
// and the tier it came from.
struct CachedSlice {
  std::shared_ptr<const tempo::select::PageSlice> slice;
  int loaded_from = 0;
};

struct Flags {
  size_t capacity_mb = 64;
  bool tenants = false;
  int shards = 16;
  double fill = 4;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const char* value = argv[i + 1];
    if (name == "--l1-mb") {
      flags->capacity_mb = std::strtoull(value, nullptr, 10);
    } else if (name == "--cache") {
      flags->tenants = std::strcmp(value, "tenants") == 0;
      if (!flags->tenants && std::strcmp(value, "slices") != 0) return false;
    } else if (name == "--shards") {
      flags->shards = std::atoi(value);
    } else if (name == "--fill") {
      flags->fill = std::atof(value);
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && flags->capacity_mb > 0 && flags->fill > 0;
}

// Stores entries under random keys through GetOrLoad (the miss path of a
// request) until `fill` times the resident entries have been stored; prints
// what it measured. `make` returns the loader's value and charge.
template <typename V, typename Make>
void Fill(const Flags& flags, const char* what, const std::string& key_prefix, Make make) {
  CacheOptions options;
  options.capacity_bytes = flags.capacity_mb << 20;
  options.shards = flags.shards;
  Cache<V> cache(options);
  const size_t rss_before = RssBytes();
  const size_t heap_before = HeapInUseBytes();
  std::mt19937_64 rng(12);
  std::string key;
  size_t stored = 0, value_charge = 0;
  for (;; ++stored) {
    if (stored % 4096 == 0) {
      const CacheStats s = cache.Stats();
      if (s.entries > 0 && static_cast<double>(stored) >= flags.fill * s.entries) break;
    }
    const std::string id = std::to_string(rng());
    key = key_prefix + id;
    ReadScope scope;  // one request
    auto entry = cache.GetOrLoad(
        key,
        [&id, &make, &value_charge]() -> Result<typename Cache<V>::Loaded> {
          auto [value, charge] = make(id);
          value_charge = charge;
          return typename Cache<V>::Loaded{std::move(value), charge, std::nullopt};
        },
        &scope);
    if (!entry.ok()) {
      std::fprintf(stderr, "load failed: %s\n", entry.status().ToString().c_str());
      std::exit(1);
    }
  }
  const size_t rss_growth = RssBytes() - rss_before;
  const size_t heap_growth = HeapInUseBytes() - heap_before;
  const CacheStats s = cache.Stats();
  std::printf("%s cache: capacity %.1f MiB, %d shards; stored %zu entries, %zu resident\n", what,
              Mib(options.capacity_bytes), flags.shards, stored, s.entries);
  std::printf(
      "  charged per entry: %zu bytes = value %zu + entry overhead %zu (key of %zu bytes)\n",
      value_charge + Cache<V>::EntryOverhead(key), value_charge, Cache<V>::EntryOverhead(key),
      key.size());
  std::printf("  charged (Stats().bytes): %.1f MiB = %.3f x capacity\n", Mib(s.bytes),
              static_cast<double>(s.bytes) / static_cast<double>(options.capacity_bytes));
  std::printf("  heap in use growth (mallinfo2): %.1f MiB = %.3f x capacity, %.0f bytes/entry\n",
              Mib(heap_growth),
              static_cast<double>(heap_growth) / static_cast<double>(options.capacity_bytes),
              static_cast<double>(heap_growth) / static_cast<double>(s.entries));
  std::printf("  RSS growth: %.1f MiB = %.3f x capacity (goal <= 1.25), %.0f bytes/entry\n",
              Mib(rss_growth),
              static_cast<double>(rss_growth) / static_cast<double>(options.capacity_bytes),
              static_cast<double>(rss_growth) / static_cast<double>(s.entries));
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: l1_memory [--l1-mb N] [--cache slices|tenants] [--shards N] [--fill X]\n");
    return 2;
  }
  if (flags.tenants) {
    // As api::PageSource: every entry shares one value, so the entry's
    // overhead is all it costs.
    const auto known = std::make_shared<const bool>(true);
    Fill<std::shared_ptr<const bool>>(flags, "tenant", "", [&known](const std::string&) {
      return std::make_pair(known, size_t{0});
    });
    return 0;
  }
  const std::string prefix = std::string("ACME\x1f") + "web\x1f" + "product\x1f";
  Fill<std::shared_ptr<const CachedSlice>>(flags, "slice", prefix, [](const std::string& id) {
    auto slice = tempo::select::CompileSlice(id, {});  // no records: an empty slice
    const size_t charge = slice->bytes + tempo::cache::SharedValueBytes<CachedSlice>();
    return std::make_pair(std::make_shared<const CachedSlice>(CachedSlice{std::move(slice), 0}),
                          charge);
  });
  return 0;
}
