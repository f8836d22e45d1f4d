// ShardedCache: the untyped engine behind Cache<V> (cache.h): sharding,
// single flight, stale-while-revalidate and invalidation, over values held
// as std::shared_ptr<const void>. Use Cache<V>; this is internal.
//
// Concurrency design: the keys are split by hash over independent shards,
// each a mutex guarding an open-addressing table, a W-TinyLFU policy and the
// map of in-flight loads; there is no global lock. A hit holds its shard's
// lock for the find, the policy's bookkeeping (sketch increment, LRU move)
// and a reference count increment. See kShardHashShift in sharded_cache.cc
// for the measurements behind this choice and what it costs.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tempo::cache {

struct CacheOptions;
struct CacheStats;
enum class Source;

namespace internal {

class RefreshPool;
struct Node;

// The hash of a key: picks its shard, its table slot and its sketch counters.
uint64_t KeyHash(std::string_view key);

// Cache<V>::Loaded without its type.
struct ErasedLoaded {
  std::shared_ptr<const void> value;
  size_t charge = 0;
  std::optional<std::chrono::milliseconds> ttl;
};
using ErasedLoader = std::function<Result<ErasedLoaded>()>;

// A loader as the engine sees it: called in place on a miss, and copied into
// an owning function only when a background refresh needs it.
class LoadSource {
 public:
  virtual Result<ErasedLoaded> Load() const = 0;
  virtual ErasedLoader Share() const = 0;

 protected:
  ~LoadSource() = default;
};

// Cache<V>::Entry without its type.
struct ErasedEntry {
  std::shared_ptr<const void> value;
  Source source;
};

class ShardedCache {
 public:
  explicit ShardedCache(const CacheOptions& options);
  ~ShardedCache();
  ShardedCache(const ShardedCache&) = delete;
  ShardedCache& operator=(const ShardedCache&) = delete;

  // The operations of Cache<V>, which documents them. Get returns nullptr on a miss.
  Result<ErasedEntry> GetOrLoad(std::string_view key, const LoadSource& source);
  std::shared_ptr<const void> Get(std::string_view key);
  void Insert(std::string_view key, std::shared_ptr<const void> value, size_t charge,
              std::optional<std::chrono::milliseconds> ttl);
  void Invalidate(std::string_view key);
  void InvalidatePrefix(std::string_view prefix);
  CacheStats Stats() const;

 private:
  struct Shard;
  struct Flight;
  class Graveyard;
  enum class Freshness { kFresh, kStale, kDead };

  Shard& ShardFor(uint64_t hash) const;
  // GetOrLoad and Get past their hit path, with the shard's lock held.
  [[gnu::noinline]] Result<ErasedEntry> GetOrLoadSlow(Shard& shard, std::string_view key,
                                                      uint64_t hash, int64_t now, Node* n,
                                                      std::unique_lock<std::mutex> lock,
                                                      const LoadSource& source);
  [[gnu::noinline]] std::shared_ptr<const void> GetSlow(Shard& shard, int64_t now, Node* n,
                                                        std::unique_lock<std::mutex> lock);
  int64_t Now() const;
  Freshness Classify(int64_t written_ns, int64_t ttl_ns, int64_t now) const;

  // Stores a value (new entry or replacement), evicting as needed.
  void StoreLocked(Shard& shard, std::string_view key, uint64_t hash,
                   std::shared_ptr<const void> value, size_t charge,
                   std::optional<std::chrono::milliseconds> ttl, int64_t now, Graveyard* graveyard);
  void RemoveLocked(Shard& shard, Node* n, Graveyard* graveyard);
  // Makes the in-flight load of `key`, if any, discard its result and
  // detaches it, so that later misses start a new load.
  void SupersedeFlightLocked(Shard& shard, std::string_view key);
  // Schedules a background refresh of stale `n` unless one is running.
  void MaybeRefreshLocked(Shard& shard, Node* n, int64_t now, const LoadSource& source);

  // Ends `flight`: stores the loaded value (unless superseded), wakes its
  // waiters and returns what the leader returns.
  Result<ErasedEntry> Finish(Shard& shard, std::string_view key, uint64_t hash,
                             const std::shared_ptr<Flight>& flight, Result<ErasedLoaded> loaded,
                             bool refresh);
  Result<ErasedEntry> Await(Flight& flight);

  const int64_t default_ttl_ns_;
  const int64_t max_stale_ns_;
  const bool serve_stale_;
  const int64_t refresh_backoff_ns_;
  const std::chrono::milliseconds load_wait_timeout_;
  const std::function<int64_t()> clock_;
  const uint64_t shard_mask_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> load_timeouts_{0};
  // Declared last so that it is destroyed first: its cancelled tasks still
  // touch the shards.
  std::unique_ptr<RefreshPool> refresh_pool_;
};

}  // namespace internal
}  // namespace tempo::cache
