// ShardedCache: the untyped engine behind Cache<V> (cache.h): sharding,
// single flight, stale-while-revalidate and invalidation, over values held
// as std::shared_ptr<const void>. Use Cache<V>; this is internal.
//
// Concurrency design (Caffeine's, per shard): the keys are split by hash
// over independent shards, each with a mutex guarding its W-TinyLFU policy,
// the map of in-flight loads and every change to its table. A hit takes no
// lock and writes nothing that another core needs (except the value's
// reference count, shared only with readers of the same key): it pins the
// reclamation epoch (plain stores to the thread's own record; epoch.h),
// finds the node in the shard's table (NodeTable, readable without the
// lock), copies the value's shared_ptr, and appends the node to the thread's
// own stripe of the shard's read buffer (ReadBuffer; plain stores to lines
// no other thread writes). The policy's bookkeeping of hits (sketch
// increment, LRU move) is applied later, in batches, by whoever holds the
// lock: the thread whose hit fills a ring (if try_lock succeeds) or the next
// writer. Nodes and table arrays that writers unlink are freed only once no
// reader can hold them (epoch.h). Threads beyond the read buffer's stripes
// (4 per CPU, at most 64) apply their hits under try_lock instead.
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

#include "cache/epoch.h"
#include "cache/read_scope.h"
#include "common/status.h"

namespace tempo::cache {

struct CacheOptions;
struct CacheStats;
enum class Source;
enum class Invalidation;

namespace internal {

class RefreshPool;
struct Node;

// The hash of a key: picks its shard, its table slot and its sketch counters.
uint64_t KeyHash(std::string_view key);

// What the cache adds to the charge of an entry whose key has `key_size`
// bytes: its node and key (one heap block), its share of the shard's table
// and of its frequency sketch. Cache<V>::EntryOverhead documents it.
size_t EntryOverheadBytes(size_t key_size);

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

// Cache<V>::Resident without its type.
struct ErasedResident {
  std::string key;
  std::shared_ptr<const void> value;
  size_t charge = 0;
  int64_t age_ns = 0;
  uint32_t hits = 0;
  int frequency = 0;
  bool fresh = false;
};

// Cache<V>::Entry and Cache<V>::PinnedEntry without their type.
struct ErasedEntry {
  std::shared_ptr<const void> value;
  Source source;
};
struct ErasedPinnedEntry {
  const void* value;
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
  Result<ErasedPinnedEntry> GetOrLoad(std::string_view key, const LoadSource& source,
                                      ReadScope* scope);
  std::optional<ErasedPinnedEntry> TryGet(std::string_view key, const LoadSource& source,
                                          ReadScope* scope);
  std::shared_ptr<const void> Get(std::string_view key);
  const void* Get(std::string_view key, ReadScope* scope);
  void Insert(std::string_view key, std::shared_ptr<const void> value, size_t charge,
              std::optional<std::chrono::milliseconds> ttl);
  void Invalidate(std::string_view key, Invalidation how);
  size_t InvalidatePrefix(std::string_view prefix, Invalidation how);
  std::vector<ErasedResident> Residents(std::string_view prefix);
  CacheStats Stats() const;

 private:
  struct Shard;
  struct Flight;
  class Graveyard;
  // An entry's age against its ttl (cache.h): fresh; stale within the stale
  // grace (served while it is refreshed); expired past the grace (loaded on
  // the request path, its value served only if that load fails); dead past
  // max_stale (removed).
  enum class Freshness { kFresh, kStale, kExpired, kDead };

  Shard& ShardFor(uint64_t hash) const;
  // The hit path: the node of `key` if the shard holds a fresh one, found
  // without the lock, and the hit recorded in the read buffer. The node
  // stays valid while `pin` lives.
  const Node* FindFresh(Shard& shard, std::string_view key, uint64_t hash, int64_t now,
                        const EpochGuard& pin);
  // GetOrLoad, TryGet and Get past their hit path: under the shard's lock.
  // `wait_deadline`: when set, waits for another caller's load end there
  // if that is sooner than load_wait_timeout.
  [[gnu::noinline]] Result<ErasedEntry> GetOrLoadSlow(
      Shard& shard, std::string_view key, uint64_t hash, int64_t now, const LoadSource& source,
      std::optional<std::chrono::steady_clock::time_point> wait_deadline = std::nullopt);
  [[gnu::noinline]] std::optional<ErasedEntry> TryGetSlow(Shard& shard, std::string_view key,
                                                          uint64_t hash, int64_t now,
                                                          const LoadSource& source);
  [[gnu::noinline]] std::shared_ptr<const void> GetSlow(Shard& shard, std::string_view key,
                                                        uint64_t hash, int64_t now);
  // The locked lookup they share. Returns the node that a lookup serves
  // without loading, counted as a hit for the policy and in the stats, with
  // *served saying how: fresh (kHit); stale within the grace, or expired
  // after its key's last load failed (kStale: a refresh is scheduled with
  // `source` when it is not null and none is running or backing off).
  // Otherwise null, with *expired set to the expired node that a failed load
  // may fall back to, if there is one; a node past max_stale is removed.
  // `count_miss`: count that null as a miss (and the expired node's access
  // for the policy); TryGet does not, as the GetOrLoad that follows it does.
  Node* ServableLocked(Shard& shard, std::string_view key, uint64_t hash, int64_t now,
                       const LoadSource* source, bool count_miss, Source* served, Node** expired);
  // After a load of `key` failed or timed out with `failed`: `fallback`, the
  // value of the expired entry the lookup found, if that entry is still
  // resident and not past max_stale (then marked load_failed, with its
  // refreshes backing off), else `failed`.
  Result<ErasedEntry> FallBack(Shard& shard, std::string_view key, uint64_t hash,
                               std::shared_ptr<const void> fallback, Status failed);
  // The hit path of a thread without a stripe: applies the hit to the
  // policy if the lock is free, else only counts it. REQUIRES: pinned.
  [[gnu::noinline]] void RecordWithoutStripe(Shard& shard, Node* n);
  // Drains the read buffer when its lock is free (a hit that filled a ring).
  [[gnu::noinline]] void TryDrain(Shard& shard);
  // Applies the buffered hits to the policy and collects retired memory
  // that no reader can hold any more. Every locked operation starts with it.
  void DrainLocked(Shard& shard, Graveyard* graveyard);
  int64_t Now() const;
  Freshness Classify(int64_t written_ns, int64_t ttl_ns, int64_t now) const;

  // Stores a value (new entry or replacement), evicting as needed.
  void StoreLocked(Shard& shard, std::string_view key, uint64_t hash,
                   std::shared_ptr<const void> value, size_t charge,
                   std::optional<std::chrono::milliseconds> ttl, int64_t now, Graveyard* graveyard);
  // What an invalidation does to resident `n`: makes it expired (past its
  // stale grace), so that the next lookup loads it and its value stands in
  // only when that load fails (cache.h); removes it for kRemove or when
  // stale values are off.
  void InvalidateLocked(Shard& shard, Node* n, int64_t now, Invalidation how);
  // Unindexes and unlinks resident `n` and retires it.
  void RemoveLocked(Shard& shard, Node* n);
  // Retires unindexed `n`: freed once no reader can hold it.
  static void RetireLocked(Shard& shard, Node* n);
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
  Result<ErasedEntry> Await(Flight& flight,
                            std::optional<std::chrono::steady_clock::time_point> wait_deadline);

  // The ttl of an entry of `key_hash` given `ttl_ns`: shortened by its share
  // of ttl_jitter (cache.h).
  int64_t JitteredTtl(uint64_t key_hash, int64_t ttl_ns) const;

  const int64_t default_ttl_ns_;
  const double ttl_jitter_;  // in [0, 1)
  const int64_t max_stale_ns_;
  const int64_t stale_grace_ns_;  // at most max_stale_ns_
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
