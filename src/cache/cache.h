// Cache: Tempo's in-process L1 cache (SPEC §8) of immutable values, such as
// compiled page slices, keyed by strings.
//
// A Cache maps keys to values. It is safe for concurrent use by any number of
// threads without external synchronization.
//
// Values are immutable and shared: V is std::shared_ptr<const T>, and a
// lookup hands the reader its own reference, so a value stays valid for as
// long as the reader holds it, even after the cache has evicted, replaced or
// invalidated it. The request path uses the lookups that take a ReadScope
// instead: they return the cache's own copy by plain pointer, valid until
// the scope ends, so a hit does not write the value's shared reference
// count (read_scope.h).
//
// Capacity is in bytes, and bounds the memory the entries really take.
// Every entry has a "charge": the bytes the caller measured for its value
// (all of them: the value's heap blocks as malloc sizes them, its shared_ptr
// control block; see charge.h) plus the cache's own cost of the entry,
// EntryOverhead(key): its node and key (one heap block, about 220 bytes for
// a 30-byte key), its share of its shard's hash table (up to 43 bytes) and
// of its frequency sketch (up to 128 bytes), each rounded as the allocator
// and the structures' growth round them, about 400 bytes in all. The sum of
// the charges of the resident entries never exceeds Options::capacity_bytes
// (bench/l1_memory.cc: filled with small entries, RSS grows by less than the
// capacity). Not charged: a fixed cost per shard (its read buffer, 37 KB on
// a machine with 16 or more CPUs), memory waiting to be reclaimed (evicted
// or replaced entries that a ReadScope may still read, in-flight loads),
// and, since the table and sketch never shrink, their size beyond what the
// resident entries are charged after small entries have given way to large
// ones. The keys are split over Options::shards independent shards by hash,
// each holding capacity_bytes / shards; an entry whose charge exceeds that
// is not cached.
//
// What stays when the cache is full is decided by W-TinyLFU, Caffeine's
// policy: a new entry enters an LRU window (1 % of the capacity to start
// with; see "The adaptive window" below); when it leaves the window it is
// admitted to the main region only if a frequency sketch estimates it was
// requested more often, recently, than the entry it would evict. So a
// one-hit wonder (or a long scan of them) cannot push out an entry that is
// requested often. Frequencies age: all counts are halved after about 150
// requests per resident entry (a miss on a key not missed recently, such as
// a scan's, counts half, so a scan does not make the popular keys' counts
// age sooner), so the cache learns slowly that a formerly popular key has
// gone cold (see sketch_samples_per_entry), unless the hit rate falls
// suddenly (a shift of the popular keys, not a scan: misses on keys not
// missed recently do not count), in which case the shard forgets its counts
// at once (see src/cache/shift_detector.h, whose memory of recent misses
// takes 4 bytes per entry, at least 16 KiB a shard).
//
// The adaptive window. How much of the capacity the LRU window should have
// depends on the workload: 1 % where frequency predicts the next request
// (Zipf-like popularity, scans), most of the cache where recency does (a
// database's working set that moves, bursts of re-reads); with a fixed 1 %
// window the policy hit up to 15.8 points less than a plain LRU on real
// traces (docs/benchmarks.md, "Hit ratio on real traces"). So each shard's
// window moves (Options::adaptive_window):
//   - what it watches: a sample of the shard's requests, chosen by key hash
//     (all of them in a shard of up to 512 entries), replayed through five
//     miniature copies of the policy with windows of 1, 10, 30, 60 and 100 %
//     (src/cache/window_tuner.h);
//   - how fast it moves: every period (about as many sampled requests as a
//     copy holds entries), the window takes the share whose copy hit best
//     over the last ten or so periods, if it beats the current one's by half
//     a point (a larger window) or two points (a smaller one, which pays
//     off only once main has been filtered again);
//   - what bounds it: one of those five shares, at most one move a period,
//     off until the shard first evicts; growing it evicts main's entries in
//     LRU order against the window's oldest, shrinking it moves at most 64
//     entries a call. The copies hold key hashes only, up to 5 x 1024 nodes
//     per shard (about 1 MB), not charged against capacity_bytes.
// On every real trace in ../shared/traces and at 1 to 25 % of its keys, the
// policy then hits at worst 0.7 points less than an LRU, and up to 42 more.
//
// Entries expire, and a stale value stands in only for an origin that fails
// or is slow. An entry is fresh for `ttl` after it was stored. For
// `stale_grace` more, GetOrLoad returns it (marked kStale) while one
// background refresh reloads it with the loader of the request that found it
// stale. Past ttl + stale_grace, a lookup loads it on the request path like a
// miss (single flight, the wait bounded as a miss's), and returns the
// expired value (kStale) only when that load fails or its wait times out.
// Once the most recent load or refresh of a key has failed (or timed out),
// lookups return its expired value at once, without waiting, and a
// background refresh is retried no sooner than `refresh_retry_backoff` after
// the failure; the first one that succeeds makes the key fresh again. Past
// ttl + max_stale an entry is removed: a miss, whose failed load is an error.
//
// The bound, with ages measured by Options::clock from when a value was
// stored, and ttl the entry's own when its loader or Insert gave one: a
// value a lookup returns is at most ttl + stale_grace old, unless
// the most recent load or refresh of its key failed or timed out, and then
// at most ttl + max_stale old. (Its data may be older by the duration of the
// load that read it.) So with a healthy origin, and no invalidations at all,
// a returned value was loaded at most ttl + stale_grace ago.
//
// An invalidation (a publish changed the key's data) makes the entry
// expired past its stale grace at once: the next lookup loads it on the
// request path, and the invalidated value stands in only when that load
// fails, as any expired value does (within max_stale of the invalidation).
// So a publish is served as soon as L2 or the origin can give it, and an
// outage of both right after a publish serves the page as it was a moment
// before rather than an error. An invalidation of kind kRemove (a value
// known to be wrong rather than old: an operator's drop) removes the entry,
// as every invalidation does with stale values off (max_stale 0 or no
// refresh threads).
//
// Concurrent misses on one key make one load ("single flight"): the first
// caller runs its loader, the others wait for that result. An invalidation
// (or Insert) of a key while its load is in flight makes the cache discard
// that load's result instead of storing it, so a value read before an
// invalidation is never stored after it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "cache/charge.h"
#include "cache/read_scope.h"
#include "cache/sharded_cache.h"
#include "common/status.h"

namespace tempo::cache {

// Where the value an entry lookup returned came from.
enum class Source {
  kHit,     // the cache held a fresh value
  kStale,   // the cache held an expired value: within stale_grace (a refresh is under way),
            // or past it after its key's load failed (see the top of this file)
  kLoaded,  // this call loaded it, or waited for the concurrent load of the same key
};

// What an invalidation does to a resident value (see the top of this file).
enum class Invalidation {
  kExpire,  // old: expired, it stands in only if its reload fails
  kRemove,  // wrong: removed, nothing stands in
};

// How a Cache behaves. The defaults are the recommended settings.
struct CacheOptions {
  // The most bytes (sum of charges) the cache holds.
  size_t capacity_bytes = size_t{256} << 20;

  // How long after it was stored an entry is fresh. Loaders and Insert may
  // give an entry its own ttl. Default: 30 s (the L1 TTL of `tempo serve`).
  std::chrono::milliseconds ttl{std::chrono::seconds(30)};

  // How long past its ttl an entry may be served stale, in all: while it is
  // refreshed within stale_grace, and beyond only when its loads fail.
  // Zero disables stale serving: an expired entry is a miss.
  std::chrono::milliseconds max_stale{std::chrono::minutes(5)};

  // How long past its ttl an entry is served stale while one background
  // refresh reloads it, even though the origin is healthy; past ttl +
  // stale_grace a lookup loads it like a miss (see the top of this file).
  // Bounds how old a value can be when loads succeed: ttl + stale_grace.
  // Capped at max_stale. Zero: every expired entry is loaded on the request
  // path, stale values serving only when loads fail.
  std::chrono::milliseconds stale_grace{std::chrono::seconds(1)};

  // Shortens each entry's ttl by up to this share, by an amount fixed per
  // key (a hash of it), so that entries loaded together (a cold start, a
  // warm-up, a tenant's invalidation) do not all expire, and get refreshed
  // from the origin, in the same instant every ttl. 0: every entry gets its
  // ttl exactly. In [0, 1); `tempo serve` uses 0.1.
  double ttl_jitter = 0;

  // Independent shards (each with its own lock, table and policy); rounded
  // up to a power of two, at most kMaxShards. More shards mean less lock
  // contention; fewer mean each shard's policy sees more of the traffic
  // (bench/hit_ratio, 1000 entries: 32 shards cost 0.8% of the hit ratio of
  // 1 shard, 16 cost 0.3%; with 100x more entries the cost vanishes).
  int shards = 16;
  // About what one entry is charged (with EntryOverhead), used only to pick
  // the number of shards: a cache too small to give each shard
  // kMinShardEntries such entries uses fewer shards (down to one). A shard's
  // policy ranks only the keys it sees, and its window tuner needs traffic
  // to decide (bench/hit_ratio: Zipf 0.8, 200 entries over 16 shards of 12
  // reached 0.94 of an ideal LFU; the sprite trace at 10 % of its keys, 707
  // entries, 1.5 points under LRU over 8 shards of 88 (a minimum of 64), 0.7
  // over 2 of 353). The default is about
  // a compiled page slice of 40 modules, so `tempo serve`'s L1 of 256 MiB
  // keeps its 16 shards.
  size_t expected_entry_charge = size_t{16} << 10;

  // Threads that run background refreshes. Zero disables stale serving.
  int refresh_threads = 2;

  // Refreshes that may wait for a refresh thread; more are not scheduled.
  size_t refresh_queue_limit = 1024;

  // After a failed load or refresh, how long stale reads wait before trying
  // another (in the background).
  std::chrono::milliseconds refresh_retry_backoff{std::chrono::seconds(1)};

  // How long a caller waits for another caller's load of the same key before
  // GetOrLoad gives up with Unavailable. Real (steady) time, not `clock`.
  std::chrono::milliseconds load_wait_timeout{std::chrono::seconds(5)};

  // Policy tuning, chosen by measurement with bench/hit_ratio.cc.
  // Share of the capacity used by the LRU admission window: where each
  // shard's window starts when adaptive_window is set, else for good.
  double window_fraction = 0.01;
  // Let each shard move its window by what miniature simulations of other
  // window sizes hit (see "The adaptive window" above).
  bool adaptive_window = true;
  // Share of the main region (capacity minus window) kept for entries hit
  // at least twice.
  double protected_fraction = 0.8;
  // The frequency sketch halves its counts after this many requests per
  // resident entry. Longer periods estimate popularity more precisely
  // (Zipf 0.8, 1000 entries of 1M keys, 1 shard, steady state: 0.950 of an
  // ideal LFU's hit ratio at 40, 0.974 at 100); shorter ones forget a key
  // gone cold sooner (Caffeine uses 10), and keep the 4-bit counts of the
  // keys near a large cache's admission boundary below their cap (Zipf 0.8,
  // 16 shards, steady state: a cache of 0.1 % of the keys 0.969 at 100 and
  // 0.975 at 150 (10M requests); of 10 %, 0.983 at 100, 0.975 at 150 and
  // 0.971 at 200 (50M requests)).
  int sketch_samples_per_entry = 150;
  // Seeds the policy's rare random admissions, so runs are reproducible.
  uint64_t seed = 0x7e3b0c5a;

  // Monotonic time in nanoseconds, for ttl and max_stale; tests inject a fake.
  // Empty: CLOCK_MONOTONIC_COARSE (a few ms resolution; about 5 ns to read).
  std::function<int64_t()> clock;
};

// The largest number of shards a cache uses.
inline constexpr int kMaxShards = 1024;
// The fewest entries of CacheOptions::expected_entry_charge a shard is sized
// for; smaller caches use fewer shards.
inline constexpr size_t kMinShardEntries = 256;

// Counters since the cache was created, and its current size.
// Each lookup counts once, as a hit, a stale read or a miss (TryGet: only as
// a hit or a stale read, since GetOrLoad follows its nullopt).
struct CacheStats {
  uint64_t hits = 0;                 // fresh values returned
  uint64_t stale_served = 0;         // expired values returned, also after a failed load
  uint64_t misses = 0;               // lookups that returned no cached value
  uint64_t loads = 0;                // loader calls on the request path
  uint64_t load_failures = 0;        // ... that returned an error
  uint64_t load_timeouts = 0;        // waits for another caller's load that timed out
  uint64_t loads_discarded = 0;      // loaded values not stored: invalidated meanwhile
  uint64_t refreshes = 0;            // loader calls by background refreshes
  uint64_t refresh_failures = 0;     // ... that returned an error
  uint64_t refreshes_dropped = 0;    // refreshes not scheduled: the queue was full
  uint64_t evictions = 0;            // entries removed to respect the capacity
  uint64_t admissions_rejected = 0;  // new entries evicted instead of their victim
  uint64_t expirations = 0;          // entries removed because they were past max_stale
  uint64_t invalidations = 0;        // entries expired or removed by Invalidate(Prefix)
  size_t bytes = 0;                  // sum of the charges (with overheads) of the resident entries
  size_t entries = 0;                // resident entries
  double window_fraction = 0;        // the admission window's share, averaged over the shards
  uint64_t window_moves = 0;         // times a shard's window tuner moved its window
  uint64_t shifts = 0;               // workload shifts a shard's policy detected and forgot
};

namespace internal {
template <typename V>
struct IsSharedPtrToConst : std::false_type {};
template <typename T>
struct IsSharedPtrToConst<std::shared_ptr<const T>> : std::true_type {};
}  // namespace internal

// A cache of V = std::shared_ptr<const T> values. See the top of this file.
template <typename V>
class Cache final {
  static_assert(internal::IsSharedPtrToConst<V>::value,
                "Cache<V> holds immutable shared values: V = std::shared_ptr<const T>");

 public:
  using Options = CacheOptions;
  using Element = typename V::element_type;  // const T

  // What a loader produces: the value, its charge in bytes (the memory the
  // value holds; the cache adds EntryOverhead), and optionally its own ttl
  // (otherwise Options::ttl).
  struct Loaded {
    V value;
    size_t charge = 0;
    std::optional<std::chrono::milliseconds> ttl;
  };

  // Loads the value of one key, typically from L2 or the origin. An error
  // is returned to the callers waiting for this load and nothing is cached.
  using Loader = std::function<Result<Loaded>()>;

  // A value and where it came from.
  struct Entry {
    V value;
    Source source;
  };

  // The same, read in place: `value` is valid until the ReadScope that the
  // lookup was given ends (read_scope.h).
  struct PinnedEntry {
    const Element* value;
    Source source;
  };

  explicit Cache(const Options& options = Options()) : core_(options) {}
  // Waits for running refreshes; queued ones are cancelled.
  // REQUIRES: no call to this cache is in progress.
  ~Cache() = default;
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // What the cache adds to the charge of every entry stored under `key`:
  // the memory it spends on the entry beside the value (see the top of this
  // file). Stats().bytes counts it. Does not depend on the value.
  static size_t EntryOverhead(std::string_view key) {
    return internal::EntryOverheadBytes(key.size());
  }

  // Returns the value of `key`: from memory when the cache holds a fresh one
  // (kHit), a stale one within stale_grace, or an expired one whose last
  // load failed (kStale, and a background refresh calls a copy of `loader`
  // unless one is running or backing off); otherwise from `loader`, called
  // on this thread (kLoaded) and stored before this returns, so the next
  // lookup is a hit unless it was larger than a shard. When another thread
  // is already loading `key`, waits for its result instead, for at most
  // load_wait_timeout (then Unavailable). When the load fails (or that wait
  // times out), returns the key's expired value if the cache still holds
  // one within max_stale (kStale), else the loader's error.
  //
  // `loader` is any callable returning Result<Loaded>: a Loader, or better a
  // lambda, which is called in place and copied only when a refresh needs
  // it, so a hit allocates nothing (a Loader built from a lambda with more
  // than 16 bytes of captures allocates when it is built, hit or not).
  // REQUIRES: `loader` returns a non-null value and may be copied and called
  // later on a refresh thread (so it must not capture references to the
  // caller's stack); it must not call this cache for the same key.
  template <typename LoaderFn>
  Result<Entry> GetOrLoad(std::string_view key, const LoaderFn& loader) {
    static_assert(std::is_invocable_r_v<Result<Loaded>, const LoaderFn&>,
                  "loader must be callable as Result<Loaded>()");
    const LoaderSource<LoaderFn> source(loader);
    Result<internal::ErasedEntry> r = core_.GetOrLoad(key, source);
    if (!r.ok()) return r.status();
    return Entry{Cast(std::move(r->value)), r->source};
  }

  // GetOrLoad within `scope`, the request path's form: a hit takes no
  // reference (it writes nothing that other threads read), and the value is
  // valid until `scope` ends. A loaded or stale value is kept by `scope`.
  // A wait for another caller's load also ends at the scope's wait
  // deadline, when it has one and it comes before load_wait_timeout.
  template <typename LoaderFn>
  Result<PinnedEntry> GetOrLoad(std::string_view key, const LoaderFn& loader, ReadScope* scope) {
    static_assert(std::is_invocable_r_v<Result<Loaded>, const LoaderFn&>,
                  "loader must be callable as Result<Loaded>()");
    const LoaderSource<LoaderFn> source(loader);
    Result<internal::ErasedPinnedEntry> r = core_.GetOrLoad(key, source, scope);
    if (!r.ok()) return r.status();
    return PinnedEntry{static_cast<const Element*>(r->value), r->source};
  }

  // GetOrLoad within `scope` for a thread that must never block: the same
  // decisions, but it never calls `loader` on this thread and never waits.
  // Returns the entry when GetOrLoad would return it at once: a hit, or a
  // stale value (within stale_grace, or past it after a failed load;
  // schedules the background refresh GetOrLoad would). Returns nullopt when
  // GetOrLoad would load or wait for another caller's load (a miss, an
  // entry past its stale grace, a load of `key` in flight): call GetOrLoad
  // where waiting is allowed. Counts hits and stale values as GetOrLoad
  // does, but not misses, so a nullopt followed by GetOrLoad of the same key
  // counts one miss. Allocates nothing on a hit.
  // REQUIRES: as GetOrLoad.
  template <typename LoaderFn>
  std::optional<PinnedEntry> TryGet(std::string_view key, const LoaderFn& loader,
                                    ReadScope* scope) {
    static_assert(std::is_invocable_r_v<Result<Loaded>, const LoaderFn&>,
                  "loader must be callable as Result<Loaded>()");
    const LoaderSource<LoaderFn> source(loader);
    std::optional<internal::ErasedPinnedEntry> r = core_.TryGet(key, source, scope);
    if (!r.has_value()) return std::nullopt;
    return PinnedEntry{static_cast<const Element*>(r->value), r->source};
  }

  // Returns the value of `key` when GetOrLoad would return it without
  // loading (fresh, or stale as above; without scheduling a refresh), else
  // nullopt. Never loads; does not allocate.
  std::optional<V> Get(std::string_view key) {
    std::shared_ptr<const void> value = core_.Get(key);
    if (value == nullptr) return std::nullopt;
    return Cast(std::move(value));
  }

  // Get within `scope`: the value, valid until `scope` ends, or null.
  const Element* Get(std::string_view key, ReadScope* scope) {
    return static_cast<const Element*>(core_.Get(key, scope));
  }

  // Stores `value` under `key`, fresh from now, replacing any value the key
  // had; an in-flight load of `key` will not overwrite it. The entry then
  // competes for space like any other (the least valuable entries go). Not
  // stored when `charge` + EntryOverhead(key) exceeds a shard's capacity.
  // `charge` is the value's memory, as for Loaded. `ttl` defaults to
  // Options::ttl. REQUIRES: value != nullptr.
  void Insert(std::string_view key, V value, size_t charge,
              std::optional<std::chrono::milliseconds> ttl = std::nullopt) {
    core_.Insert(key, std::move(value), charge, ttl);
  }

  // Expires `key` (see the top of this file: a later lookup loads again, and
  // the old value stands in only if that load fails), or removes it (`how`
  // kRemove), and makes the cache discard the result of a load of `key`
  // that is in flight.
  void Invalidate(std::string_view key, Invalidation how = Invalidation::kExpire) {
    core_.Invalidate(key, how);
  }

  // Invalidates every key that starts with `prefix` (for example all slices
  // of one tenant: include the separator, "acme\x1f", so that "acme2" stays;
  // an empty prefix invalidates everything) and returns how many entries it
  // invalidated. Takes time proportional to the number of entries, locking one
  // shard at a time.
  size_t InvalidatePrefix(std::string_view prefix, Invalidation how = Invalidation::kExpire) {
    return core_.InvalidatePrefix(prefix, how);
  }

  // One resident entry, as Residents lists it.
  struct Resident {
    std::string key;
    V value;
    size_t charge = 0;                // with EntryOverhead(key)
    std::chrono::nanoseconds age{0};  // since the value was stored
    uint32_t hits = 0;                // hits since it was stored
    int frequency = 0;                // the policy's recent-frequency estimate, 0..15
    bool fresh = false;               // within its ttl
  };

  // The resident entries whose key starts with `prefix` (all of them for
  // ""), in no particular order: for operators' listings and for warming
  // another instance with the hottest keys (sort by frequency, then hits).
  // Takes time proportional to the number of entries, locking one shard at
  // a time, so each shard is listed at a different instant.
  std::vector<Resident> Residents(std::string_view prefix) {
    std::vector<internal::ErasedResident> erased = core_.Residents(prefix);
    std::vector<Resident> out;
    out.reserve(erased.size());
    for (internal::ErasedResident& e : erased) {
      out.push_back({std::move(e.key), Cast(std::move(e.value)), e.charge,
                     std::chrono::nanoseconds(e.age_ns), e.hits, e.frequency, e.fresh});
    }
    return out;
  }

  // The counters and current size, summed over the shards (each shard is
  // read at a different instant, so the sum is not one snapshot).
  CacheStats Stats() const { return core_.Stats(); }

 private:
  static V Cast(std::shared_ptr<const void>&& value) {
    return std::static_pointer_cast<Element>(std::move(value));
  }

  static Result<internal::ErasedLoaded> Erase(Result<Loaded> loaded) {
    if (!loaded.ok()) return loaded.status();
    return internal::ErasedLoaded{std::move(loaded->value), loaded->charge, loaded->ttl};
  }

  // Presents a loader to the untyped core without copying it: the core
  // copies it (Share) only when it schedules a refresh.
  template <typename LoaderFn>
  class LoaderSource final : public internal::LoadSource {
   public:
    explicit LoaderSource(const LoaderFn& loader) : loader_(loader) {}
    Result<internal::ErasedLoaded> Load() const override { return Erase(loader_()); }
    internal::ErasedLoader Share() const override {
      return [loader = loader_]() { return Erase(loader()); };
    }

   private:
    const LoaderFn& loader_;
  };

  internal::ShardedCache core_;
};

}  // namespace tempo::cache
