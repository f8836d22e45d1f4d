// ShardedCache: shards, single flight, stale-while-revalidate, invalidation.
#include "cache/sharded_cache.h"

#include <time.h>

#include "common/bug.h"
#include "common/mutex.h"
// Inlined XXH3: slice keys are short, and the call into libxxhash was 10 % of
// an L1 hit in bench/cache_bench.cc (perf record).
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <limits>
#include <thread>
#include <unordered_map>
#include <utility>

#include "cache/cache.h"
#include "cache/charge.h"
#include "cache/epoch.h"
#include "cache/frequency_sketch.h"
#include "cache/node.h"
#include "cache/node_table.h"
#include "cache/read_buffer.h"
#include "cache/refresh_pool.h"
#include "cache/wtinylfu.h"

namespace tempo::cache::internal {
namespace {

// The shard index comes from bits 40 and up of the key hash, the table slot
// from the low bits and the sketch counters from a re-mix, so the three are
// independent. (The history of the hit path, with its measurements, is in
// docs/benchmarks.md: a mutex per shard did not scale past one core because
// every hit wrote the lock word, the LRU links and the sketch.)
constexpr int kShardHashShift = 40;

int64_t CoarseMonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Durations are kept in nanoseconds; saturate so that "forever" cannot overflow.
int64_t ToNanos(std::chrono::milliseconds d) {
  constexpr int64_t kMaxMs = std::numeric_limits<int64_t>::max() / 4 / 1'000'000;
  return std::clamp<int64_t>(d.count(), 0, kMaxMs) * 1'000'000;
}

size_t SaturatingAdd(size_t a, size_t b) {
  return a > std::numeric_limits<size_t>::max() - b ? std::numeric_limits<size_t>::max() : a + b;
}

// Read-buffer stripes per shard: enough that each thread of a busy server
// usually has its own (thread indexes are dense), bounded for memory.
size_t ReadStripes() {
  constexpr size_t kMaxStripes = 64;
  const size_t cpus = std::max(1u, std::thread::hardware_concurrency());
  return std::min(kMaxStripes, std::bit_ceil(4 * cpus));
}

void DeleteNode(void* n) { Node::Delete(static_cast<Node*>(n)); }

// Options::shards rounded up to a power of two, halved while a shard would
// hold fewer than kMinShardEntries entries of the expected charge.
int ShardCount(const CacheOptions& options) {
  int shards = static_cast<int>(
      std::bit_ceil(static_cast<unsigned>(std::clamp(options.shards, 1, kMaxShards))));
  const size_t min_shard_bytes =
      kMinShardEntries * std::max<size_t>(options.expected_entry_charge, 1);
  while (shards > 1 && options.capacity_bytes / static_cast<size_t>(shards) < min_shard_bytes) {
    shards /= 2;
  }
  return shards;
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return KeyHash(s); }
};

// Counters of one shard, guarded by its mutex (hits on the lock-free path
// are counted by the read buffer).
struct ShardCounters {
  uint64_t locked_hits = 0;  // fresh values found only under the lock
  uint64_t stale_served = 0;
  uint64_t misses = 0;
  uint64_t loads = 0;
  uint64_t load_failures = 0;
  uint64_t loads_discarded = 0;
  uint64_t refreshes = 0;
  uint64_t refresh_failures = 0;
  uint64_t refreshes_dropped = 0;
  uint64_t evictions = 0;
  uint64_t too_large = 0;
  uint64_t expirations = 0;
  uint64_t invalidations = 0;
};

Result<ErasedLoaded> CheckLoaded(Result<ErasedLoaded> loaded) {
  if (loaded.ok() && loaded->value == nullptr) {
    return Status::Internal("cache: the loader returned a null value");
  }
  return loaded;
}

// Loaders should not throw (Status is how they fail), but one that does must
// not leave its waiters blocked and its key's flight open forever.
template <typename Fn>
Result<ErasedLoaded> CallLoader(const Fn& load) {
  try {
    return CheckLoaded(load());
  } catch (...) {
    // Loaders report failures as a Status: an exception is a bug to see.
    TEMPO_BUG(false, "a cache loader threw");
    return Status::Internal("cache: the loader threw an exception");
  }
}

}  // namespace

uint64_t KeyHash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

// Measured in bench/l1_memory.cc: with these charges, filling a cache with
// small entries grows RSS by less than its capacity.
size_t EntryOverheadBytes(size_t key_size) {
  return Node::AllocatedBytes(key_size) + NodeTable::MaxBytesPerNode() +
         FrequencySketch::kMaxBytesPerEntry;
}

// One load in progress: its leader runs the loader; other callers wait.
struct ShardedCache::Flight {
  Mutex mu;
  CondVar cv;  // signalled when done
  bool done GUARDED_BY(mu) = false;
  Status status GUARDED_BY(mu);
  std::shared_ptr<const void> value GUARDED_BY(mu);
  bool superseded = false;  // guarded by the shard's mutex
};

// Padded to cache lines: what every lookup reads (the table's array pointer,
// the read buffer's stripes) is apart from what writers write (the mutex and
// the policy), and two shards never share a line.
struct alignas(kCacheLineBytes) ShardedCache::Shard {
  Shard(const PolicyOptions& policy_options, size_t stripes)
      : table(&retired), reads(stripes), policy(policy_options) {}

  // The functions named *Locked require mu held (they say so with
  // mu.AssertHeld(): the type is not complete where they are declared).
  RetireList retired GUARDED_BY(mu);
  NodeTable table;  // changed under mu; read by lookups without it
  ReadBuffer reads;
  alignas(kCacheLineBytes) Mutex mu;
  // Lock-free hits by threads without a stripe that found the lock busy (so
  // the policy did not see them); written only by such threads.
  std::atomic<uint64_t> unrecorded_hits{0};
  WTinyLfu policy GUARDED_BY(mu);
  std::unordered_map<std::string, std::shared_ptr<Flight>, StringHash, std::equal_to<>> flights
      GUARDED_BY(mu);
  ShardCounters counters GUARDED_BY(mu);
  std::vector<Node*> evicted GUARDED_BY(mu);  // scratch for StoreLocked, kept to avoid allocating
};

// Memory released under a shard's lock, freed after it is released: freeing
// a value may run an arbitrary (large) destructor.
class ShardedCache::Graveyard {
 public:
  Graveyard() = default;
  Graveyard(const Graveyard&) = delete;
  Graveyard& operator=(const Graveyard&) = delete;
  ~Graveyard() {
    RetireList::Free(&safe);
    for (Node* n : unpublished) Node::Delete(n);
  }

  std::vector<RetireList::Item> safe;  // retired, and no reader can hold it any more
  std::vector<Node*> unpublished;      // never indexed: no reader has seen it
};

ShardedCache::ShardedCache(const CacheOptions& options)
    : default_ttl_ns_(ToNanos(options.ttl)),
      ttl_jitter_(options.ttl_jitter > 0 ? std::min(options.ttl_jitter, 0.99) : 0.0),
      max_stale_ns_(ToNanos(options.max_stale)),
      stale_grace_ns_(std::min(ToNanos(options.stale_grace), max_stale_ns_)),
      serve_stale_(options.refresh_threads > 0 && options.max_stale.count() > 0),
      refresh_backoff_ns_(ToNanos(options.refresh_retry_backoff)),
      load_wait_timeout_(options.load_wait_timeout),
      clock_(options.clock),
      shard_mask_(static_cast<uint64_t>(ShardCount(options)) - 1) {
  const size_t shards = shard_mask_ + 1;
  shards_.reserve(shards);
  for (size_t i = 0; i < shards; ++i) {
    PolicyOptions policy;
    policy.capacity_bytes = options.capacity_bytes / shards;
    policy.window_fraction = options.window_fraction;
    policy.adaptive_window = options.adaptive_window;
    policy.protected_fraction = options.protected_fraction;
    policy.sketch_samples_per_entry = options.sketch_samples_per_entry;
    policy.seed = options.seed + i * 0x9e3779b97f4a7c15ULL;
    shards_.push_back(std::make_unique<Shard>(policy, ReadStripes()));
  }
  if (serve_stale_) {
    refresh_pool_ = std::make_unique<RefreshPool>(options.refresh_threads,
                                                  std::max<size_t>(options.refresh_queue_limit, 1));
  }
}

ShardedCache::~ShardedCache() {
  refresh_pool_.reset();  // joins the refresh threads while the shards still exist
  for (auto& shard : shards_) {
    shard->table.ForEach([](Node* n) { Node::Delete(n); });
  }
}

ShardedCache::Shard& ShardedCache::ShardFor(uint64_t hash) const {
  return *shards_[(hash >> kShardHashShift) & shard_mask_];
}

int64_t ShardedCache::Now() const { return clock_ ? clock_() : CoarseMonotonicNanos(); }

int64_t ShardedCache::JitteredTtl(uint64_t key_hash, int64_t ttl_ns) const {
  if (ttl_jitter_ <= 0) return ttl_ns;
  // The key's share in [0, 1): bits of its hash that neither picks the shard
  // nor the table slot (a multiplier mixes them first).
  const double share = static_cast<double>((key_hash * 0x9e3779b97f4a7c15ULL) >> 11) * 0x1.0p-53;
  return ttl_ns - static_cast<int64_t>(static_cast<double>(ttl_ns) * ttl_jitter_ * share);
}

ShardedCache::Freshness ShardedCache::Classify(int64_t written_ns, int64_t ttl_ns,
                                               int64_t now) const {
  const int64_t age = now - written_ns;
  if (age <= ttl_ns) return Freshness::kFresh;
  if (!serve_stale_) return Freshness::kDead;
  if (age - ttl_ns <= stale_grace_ns_) return Freshness::kStale;
  if (age - ttl_ns <= max_stale_ns_) return Freshness::kExpired;
  return Freshness::kDead;
}

inline const Node* ShardedCache::FindFresh(Shard& shard, std::string_view key, uint64_t hash,
                                           int64_t now, const EpochGuard& pin) {
  Node* n = shard.table.Find(key, hash);
  if (n == nullptr || Classify(n->written_ns, n->ttl_ns, now) != Freshness::kFresh) {
    return nullptr;
  }
  const size_t stripe = pin.thread_index();
  if (stripe >= shard.reads.stripes()) {
    RecordWithoutStripe(shard, n);
  } else if (shard.reads.Record(stripe, n)) {  // while pinned: see read_buffer.h
    // Still pinned, which only holds back what was retired since the pin.
    TryDrain(shard);
  }
  return n;
}

void ShardedCache::RecordWithoutStripe(Shard& shard, Node* n) {
  if (!shard.mu.TryLock()) {
    shard.unrecorded_hits.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ++shard.counters.locked_hits;
  if (n->region != Region::kNone) {
    shard.policy.OnHit(n);
  } else {
    shard.policy.RecordAccess(n->hash);  // removed since the lookup
  }
  shard.mu.Unlock();
}

void ShardedCache::TryDrain(Shard& shard) {
  Graveyard graveyard;  // freed after the lock is released
  if (!shard.mu.TryLock()) return;
  DrainLocked(shard, &graveyard);
  shard.mu.Unlock();
}

void ShardedCache::DrainLocked(Shard& shard, Graveyard* graveyard) {
  shard.mu.AssertHeld();
  // The epoch is read before the drain: every reader whose unpin let it
  // advance recorded its nodes before unpinning, so the drain below sees
  // every recorded node that this collection may free.
  const uint64_t epoch = shard.retired.ReclaimableEpoch();
  shard.reads.Drain([&shard](Node* n) {
    shard.mu.AssertHeld();  // called synchronously, under the lock
    if (n->region != Region::kNone) {
      shard.policy.OnHit(n);
    } else {
      shard.policy.RecordAccess(n->hash);  // removed since: the request still counts
    }
  });
  shard.retired.Collect(epoch, &graveyard->safe);
}

// The hit path writes nothing shared under a lock; everything else is in
// GetOrLoadSlow and GetSlow, out of line. A miss here is confirmed under the
// lock (a lock-free lookup may miss a key that a writer is moving).
Result<ErasedEntry> ShardedCache::GetOrLoad(std::string_view key, const LoadSource& source) {
  const uint64_t hash = KeyHash(key);
  Shard& shard = ShardFor(hash);
  const int64_t now = Now();
  {
    const EpochGuard pin;
    if (const Node* n = FindFresh(shard, key, hash, now, pin)) {
      return ErasedEntry{n->value, Source::kHit};  // immutable in a published node
    }
  }
  return GetOrLoadSlow(shard, key, hash, now, source);
}

Result<ErasedPinnedEntry> ShardedCache::GetOrLoad(std::string_view key, const LoadSource& source,
                                                  ReadScope* scope) {
  const uint64_t hash = KeyHash(key);
  Shard& shard = ShardFor(hash);
  const int64_t now = Now();
  if (const Node* n = FindFresh(shard, key, hash, now, scope->guard_)) {
    return ErasedPinnedEntry{n->value.get(), Source::kHit};
  }
  Result<ErasedEntry> slow = GetOrLoadSlow(shard, key, hash, now, source, scope->wait_deadline_);
  if (!slow.ok()) return slow.status();
  return ErasedPinnedEntry{scope->Keep(std::move(slow->value)), slow->source};
}

Result<ErasedEntry> ShardedCache::GetOrLoadSlow(
    Shard& shard, std::string_view key, uint64_t hash, int64_t now, const LoadSource& source,
    std::optional<std::chrono::steady_clock::time_point> wait_deadline) {
  std::shared_ptr<Flight> flight;
  bool leader = false;
  std::shared_ptr<const void> fallback;  // the expired value, if the load fails
  {
    Graveyard graveyard;
    MutexLock lock(&shard.mu);
    DrainLocked(shard, &graveyard);
    Source served;
    Node* expired = nullptr;
    if (Node* n = ServableLocked(shard, key, hash, now, &source, /*count_miss=*/true, &served,
                                 &expired)) {
      return ErasedEntry{n->value, served};
    }
    if (expired != nullptr) fallback = expired->value;
    auto it = shard.flights.find(key);
    if (it != shard.flights.end()) {
      flight = it->second;
    } else {
      flight = std::make_shared<Flight>();
      shard.flights.emplace(std::string(key), flight);
      leader = true;
    }
  }
  Result<ErasedEntry> result =
      leader ? Finish(shard, key, hash, flight, CallLoader([&source] { return source.Load(); }),
                      /*refresh=*/false)
             : Await(*flight, wait_deadline);
  if (result.ok() || fallback == nullptr) return result;
  return FallBack(shard, key, hash, std::move(fallback), result.status());
}

std::optional<ErasedPinnedEntry> ShardedCache::TryGet(std::string_view key,
                                                      const LoadSource& source, ReadScope* scope) {
  const uint64_t hash = KeyHash(key);
  Shard& shard = ShardFor(hash);
  const int64_t now = Now();
  if (const Node* n = FindFresh(shard, key, hash, now, scope->guard_)) {
    return ErasedPinnedEntry{n->value.get(), Source::kHit};
  }
  std::optional<ErasedEntry> slow = TryGetSlow(shard, key, hash, now, source);
  if (!slow.has_value()) return std::nullopt;
  return ErasedPinnedEntry{scope->Keep(std::move(slow->value)), slow->source};
}

std::optional<ErasedEntry> ShardedCache::TryGetSlow(Shard& shard, std::string_view key,
                                                    uint64_t hash, int64_t now,
                                                    const LoadSource& source) {
  Graveyard graveyard;
  MutexLock lock(&shard.mu);
  DrainLocked(shard, &graveyard);
  Source served;
  Node* expired = nullptr;
  if (Node* n =
          ServableLocked(shard, key, hash, now, &source, /*count_miss=*/false, &served, &expired)) {
    return ErasedEntry{n->value, served};
  }
  return std::nullopt;
}

Result<ErasedEntry> ShardedCache::FallBack(Shard& shard, std::string_view key, uint64_t hash,
                                           std::shared_ptr<const void> fallback, Status failed) {
  Graveyard graveyard;
  MutexLock lock(&shard.mu);
  DrainLocked(shard, &graveyard);
  // Gone or replaced meanwhile (an invalidation, a newer value): the old
  // value must not be served.
  Node* n = shard.table.Find(key, hash);
  const int64_t now = Now();
  if (n == nullptr || n->value != fallback ||
      Classify(n->written_ns, n->ttl_ns, now) == Freshness::kDead) {
    return failed;
  }
  // Later lookups serve it at once instead of waiting for loads (cache.h).
  if (!n->load_failed || n->refresh_not_before_ns < now) {
    n->load_failed = true;
    n->refresh_not_before_ns = now + refresh_backoff_ns_;
  }
  // The lookup counted a miss; it is a stale read after all.
  --shard.counters.misses;
  ++shard.counters.stale_served;
  return ErasedEntry{std::move(fallback), Source::kStale};
}

std::shared_ptr<const void> ShardedCache::Get(std::string_view key) {
  const uint64_t hash = KeyHash(key);
  Shard& shard = ShardFor(hash);
  const int64_t now = Now();
  {
    const EpochGuard pin;
    if (const Node* n = FindFresh(shard, key, hash, now, pin)) return n->value;
  }
  return GetSlow(shard, key, hash, now);
}

const void* ShardedCache::Get(std::string_view key, ReadScope* scope) {
  const uint64_t hash = KeyHash(key);
  Shard& shard = ShardFor(hash);
  const int64_t now = Now();
  if (const Node* n = FindFresh(shard, key, hash, now, scope->guard_)) return n->value.get();
  std::shared_ptr<const void> value = GetSlow(shard, key, hash, now);
  return value == nullptr ? nullptr : scope->Keep(std::move(value));
}

std::shared_ptr<const void> ShardedCache::GetSlow(Shard& shard, std::string_view key, uint64_t hash,
                                                  int64_t now) {
  Graveyard graveyard;
  MutexLock lock(&shard.mu);
  DrainLocked(shard, &graveyard);
  Source served;
  Node* expired = nullptr;
  Node* n = ServableLocked(shard, key, hash, now, /*source=*/nullptr, /*count_miss=*/true, &served,
                           &expired);
  return n == nullptr ? nullptr : n->value;
}

Node* ShardedCache::ServableLocked(Shard& shard, std::string_view key, uint64_t hash, int64_t now,
                                   const LoadSource* source, bool count_miss, Source* served,
                                   Node** expired) {
  shard.mu.AssertHeld();
  if (Node* n = shard.table.Find(key, hash)) {
    switch (Classify(n->written_ns, n->ttl_ns, now)) {
      case Freshness::kFresh:
        shard.policy.OnHit(n);
        ++shard.counters.locked_hits;
        *served = Source::kHit;
        return n;
      case Freshness::kExpired:
        if (!n->load_failed) {  // loaded like a miss; served only if that fails
          if (count_miss) shard.policy.OnHit(n);
          *expired = n;
          break;
        }
        [[fallthrough]];  // the origin is failing: serve it stale at once
      case Freshness::kStale:
        shard.policy.OnHit(n);
        ++shard.counters.stale_served;
        if (source != nullptr) MaybeRefreshLocked(shard, n, now, *source);
        *served = Source::kStale;
        return n;
      case Freshness::kDead:  // past max_stale: drop it, a miss
        ++shard.counters.expirations;
        RemoveLocked(shard, n);
        break;
    }
  }
  if (count_miss) ++shard.counters.misses;
  return nullptr;
}

void ShardedCache::Insert(std::string_view key, std::shared_ptr<const void> value, size_t charge,
                          std::optional<std::chrono::milliseconds> ttl) {
  assert(value != nullptr);
  if (value == nullptr) return;
  const uint64_t hash = KeyHash(key);
  Shard& shard = ShardFor(hash);
  const int64_t now = Now();
  Graveyard graveyard;
  MutexLock lock(&shard.mu);
  DrainLocked(shard, &graveyard);
  SupersedeFlightLocked(shard, key);
  StoreLocked(shard, key, hash, std::move(value), charge, ttl, now, &graveyard);
}

void ShardedCache::Invalidate(std::string_view key, Invalidation how) {
  const uint64_t hash = KeyHash(key);
  Shard& shard = ShardFor(hash);
  Graveyard graveyard;
  MutexLock lock(&shard.mu);
  DrainLocked(shard, &graveyard);
  SupersedeFlightLocked(shard, key);
  if (Node* n = shard.table.Find(key, hash)) {
    ++shard.counters.invalidations;
    InvalidateLocked(shard, n, Now(), how);
  }
}

size_t ShardedCache::InvalidatePrefix(std::string_view prefix, Invalidation how) {
  size_t removed = 0;
  for (auto& shard_ptr : shards_) {
    Shard& shard = *shard_ptr;
    Graveyard graveyard;
    MutexLock lock(&shard.mu);
    DrainLocked(shard, &graveyard);
    std::vector<Node*> doomed;
    shard.table.ForEach([&](Node* n) {
      if (n->key().starts_with(prefix)) doomed.push_back(n);
    });
    const int64_t now = Now();
    for (Node* n : doomed) {
      ++shard.counters.invalidations;
      InvalidateLocked(shard, n, now, how);
    }
    removed += doomed.size();
    std::erase_if(shard.flights, [&](const auto& item) {
      if (!std::string_view(item.first).starts_with(prefix)) return false;
      item.second->superseded = true;
      return true;
    });
  }
  return removed;
}

std::vector<ErasedResident> ShardedCache::Residents(std::string_view prefix) {
  std::vector<ErasedResident> out;
  const int64_t now = Now();
  for (const auto& shard_ptr : shards_) {
    Shard& shard = *shard_ptr;
    Graveyard graveyard;
    MutexLock lock(&shard.mu);
    DrainLocked(shard, &graveyard);  // so that `hits` includes the buffered ones
    std::vector<Node*> listed;
    shard.table.ForEach([&](Node* n) {
      if (n->key().starts_with(prefix)) listed.push_back(n);
    });
    for (const Node* n : listed) {
      out.push_back({std::string(n->key()), n->value, n->charge, now - n->written_ns, n->hits,
                     shard.policy.EstimateFrequency(n->hash),
                     Classify(n->written_ns, n->ttl_ns, now) == Freshness::kFresh});
    }
  }
  return out;
}

CacheStats ShardedCache::Stats() const {
  CacheStats stats;
  for (const auto& shard_ptr : shards_) {
    Shard& shard = *shard_ptr;
    MutexLock lock(&shard.mu);
    const ShardCounters c = shard.counters;  // a copy, read under the lock
    stats.hits += shard.reads.Recorded() + c.locked_hits +
                  shard.unrecorded_hits.load(std::memory_order_relaxed);
    stats.stale_served += c.stale_served;
    stats.misses += c.misses;
    stats.loads += c.loads;
    stats.load_failures += c.load_failures;
    stats.loads_discarded += c.loads_discarded;
    stats.refreshes += c.refreshes;
    stats.refresh_failures += c.refresh_failures;
    stats.refreshes_dropped += c.refreshes_dropped;
    stats.evictions += c.evictions;
    stats.admissions_rejected += shard.policy.admissions_rejected() + c.too_large;
    stats.expirations += c.expirations;
    stats.invalidations += c.invalidations;
    stats.bytes += shard.policy.bytes();
    stats.entries += shard.policy.entries();
    stats.window_fraction += shard.policy.window_fraction() / static_cast<double>(shards_.size());
    stats.window_moves += shard.policy.window_moves();
    stats.shifts += shard.policy.shifts();
  }
  stats.load_timeouts = load_timeouts_.load(std::memory_order_relaxed);
  return stats;
}

void ShardedCache::StoreLocked(Shard& shard, std::string_view key, uint64_t hash,
                               std::shared_ptr<const void> value, size_t charge,
                               std::optional<std::chrono::milliseconds> ttl, int64_t now,
                               Graveyard* graveyard) {
  shard.mu.AssertHeld();
  // A new node even when the key is resident: readers may be reading the old one.
  Node* node = Node::New(key);
  node->hash = hash;
  node->charge = SaturatingAdd(charge, EntryOverheadBytes(key.size()));
  node->value = std::move(value);
  node->written_ns = now;
  node->ttl_ns = JitteredTtl(hash, ttl ? ToNanos(*ttl) : default_ttl_ns_);
  std::vector<Node*>& evicted = shard.evicted;
  evicted.clear();
  if (Node* old = shard.table.Find(key, hash)) {
    if (!shard.policy.Replace(old, node, &evicted)) {
      ++shard.counters.too_large;
      RemoveLocked(shard, old);
      graveyard->unpublished.push_back(node);
      return;
    }
    shard.table.Replace(old, node);
    RetireLocked(shard, old);
  } else {
    if (!shard.policy.Add(node, &evicted)) {
      ++shard.counters.too_large;
      graveyard->unpublished.push_back(node);
      return;
    }
    shard.table.Insert(node);
  }
  for (Node* n : evicted) {
    shard.table.Erase(n);
    RetireLocked(shard, n);
    ++shard.counters.evictions;
  }
}

void ShardedCache::InvalidateLocked(Shard& shard, Node* n, int64_t now, Invalidation how) {
  shard.mu.AssertHeld();
  if (how == Invalidation::kRemove || !serve_stale_) {
    RemoveLocked(shard, n);
    return;
  }
  // Past its stale grace from now on: the next lookup loads it, and this
  // value stands in only if that load fails. Readers may hold `n`, whose
  // times are immutable, so a copy with older ones replaces it.
  const int64_t expired_at = now - n->ttl_ns - stale_grace_ns_ - 1;
  if (n->written_ns <= expired_at) {  // expired already: its next lookup loads it
    n->load_failed = false;
    return;
  }
  Node* copy = Node::New(n->key());
  copy->hash = n->hash;
  copy->charge = n->charge;
  copy->value = n->value;
  copy->ttl_ns = n->ttl_ns;
  copy->written_ns = expired_at;
  copy->hits = n->hits;
  copy->last_access = n->last_access;
  copy->saturated_generation = n->saturated_generation;
  std::vector<Node*>& evicted = shard.evicted;
  evicted.clear();
  // The same charge: nothing is evicted, nothing is too large.
  [[maybe_unused]] const bool replaced = shard.policy.Replace(n, copy, &evicted);
  assert(replaced && evicted.empty());
  shard.table.Replace(n, copy);
  RetireLocked(shard, n);
}

void ShardedCache::RemoveLocked(Shard& shard, Node* n) {
  shard.mu.AssertHeld();
  shard.policy.Remove(n);
  shard.table.Erase(n);
  RetireLocked(shard, n);
}

void ShardedCache::RetireLocked(Shard& shard, Node* n) {
  shard.mu.AssertHeld();
  shard.retired.Retire(n, &DeleteNode);
}

void ShardedCache::SupersedeFlightLocked(Shard& shard, std::string_view key) {
  shard.mu.AssertHeld();
  auto it = shard.flights.find(key);
  if (it == shard.flights.end()) return;
  it->second->superseded = true;
  shard.flights.erase(it);
}

void ShardedCache::MaybeRefreshLocked(Shard& shard, Node* n, int64_t now,
                                      const LoadSource& source) {
  shard.mu.AssertHeld();
  if (now < n->refresh_not_before_ns) return;
  if (shard.flights.find(n->key()) != shard.flights.end()) return;
  auto flight = std::make_shared<Flight>();
  const uint64_t hash = n->hash;
  const bool queued = refresh_pool_->TrySubmit([this, &shard, key = std::string(n->key()), hash,
                                                flight, loader = source.Share()](bool cancelled) {
    Result<ErasedLoaded> loaded =
        cancelled ? Result<ErasedLoaded>(Status::Unavailable("cache: shut down before refresh"))
                  : CallLoader(loader);
    // Nobody waits for a refresh: Finish has stored its value, or counted its
    // failure and marked the node, and that is all its result says.
    (void)Finish(shard, key, hash, flight, std::move(loaded), /*refresh=*/true);
  });
  if (!queued) {
    ++shard.counters.refreshes_dropped;
    n->refresh_not_before_ns = now + refresh_backoff_ns_;
    return;
  }
  // The refresh cannot finish before this is registered: it needs the shard lock we hold.
  shard.flights.emplace(std::string(n->key()), std::move(flight));
}

Result<ErasedEntry> ShardedCache::Finish(Shard& shard, std::string_view key, uint64_t hash,
                                         const std::shared_ptr<Flight>& flight,
                                         Result<ErasedLoaded> loaded, bool refresh) {
  Status status;
  std::shared_ptr<const void> value;
  {
    Graveyard graveyard;
    MutexLock lock(&shard.mu);
    DrainLocked(shard, &graveyard);
    auto it = shard.flights.find(key);
    if (it != shard.flights.end() && it->second == flight) shard.flights.erase(it);
    ShardCounters& c = shard.counters;
    ++(refresh ? c.refreshes : c.loads);
    if (loaded.ok()) {
      value = loaded->value;
      if (flight->superseded) {
        ++c.loads_discarded;
      } else {
        StoreLocked(shard, key, hash, std::move(loaded->value), loaded->charge, loaded->ttl, Now(),
                    &graveyard);
      }
    } else {
      status = loaded.status();
      ++(refresh ? c.refresh_failures : c.load_failures);
      if (refresh && !flight->superseded) {
        if (Node* n = shard.table.Find(key, hash)) {
          n->load_failed = true;
          n->refresh_not_before_ns = Now() + refresh_backoff_ns_;
        }
      }
    }
  }
  {
    MutexLock lock(&flight->mu);
    flight->done = true;
    flight->status = status;
    flight->value = value;
  }
  flight->cv.SignalAll();
  if (!status.ok()) return status;
  return ErasedEntry{std::move(value), Source::kLoaded};
}

Result<ErasedEntry> ShardedCache::Await(
    Flight& flight, std::optional<std::chrono::steady_clock::time_point> wait_deadline) {
  auto until = std::chrono::steady_clock::now() + load_wait_timeout_;
  if (wait_deadline && *wait_deadline < until) until = *wait_deadline;
  MutexLock lock(&flight.mu);
  while (!flight.done) {
    if (!flight.cv.WaitUntil(&flight.mu, until) && !flight.done) {
      load_timeouts_.fetch_add(1, std::memory_order_relaxed);
      return Status::Unavailable("cache: timed out waiting for another caller's load of the key");
    }
  }
  if (!flight.status.ok()) return flight.status;
  return ErasedEntry{flight.value, Source::kLoaded};
}

}  // namespace tempo::cache::internal
