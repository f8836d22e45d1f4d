// PageSource: the compiled slices of a page, from L1 (in process), L2 (the
// shared memcached cluster) or the origin, in that order (SPEC §8).
//
// A page needs the type-wide slice (scope "*") and, when the request has a
// pageId, that page's slice. Each slice is one L1 entry keyed
// "<tenant>\x1f<channel>\x1f<pageType>\x1f<scope>"; an L1 miss reads that
// one slice's rows from L2, or on an L2 miss from the origin (then writes
// them to L2 on an L2Writer's thread with memcached add, which never
// overwrites a newer value that `tempo sync` wrote meanwhile, or repairs an
// L2 value that did not decode by compare-and-swap), and compiles them
// (select::CompileSlice) before the request goes on, so the next request for it is an L1 hit.
//
// Every read honours the caller's deadline: L2 is skipped when its timeout
// would overrun it, and the origin is read through an OriginReader, which
// stops waiting at the deadline. When the origin fails, what L1 holds is
// served stale (up to L1Options::max_stale) and what L2 holds is served;
// only a slice no tier holds is Unavailable.
//
// It also answers whether a tenant is known (§11.18) from a small cache of
// the origin's answers, so that an origin outage does not turn known
// tenants into errors. Safe for concurrent use.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "api/l2_writer.h"
#include "api/origin_reader.h"
#include "cache/cache.h"
#include "common/mutex.h"
#include "common/status.h"
#include "l2/l2.h"
#include "origin/origin.h"
#include "select/slice.h"

namespace tempo::api {

// Which tier served a page's data (the X-Tempo-Cache header), in the order
// they are tried: a page whose slices came from several tiers reports the
// last one.
enum class Tier { kL1, kL2, kOrigin };
const char* TierName(Tier tier);  // "L1", "L2", "origin"

// Valid while the cache::ReadScope given to PageSource::Get lives.
struct PageSlices {
  const select::PageSlice* type_slice = nullptr;  // scope "*", never null
  const select::PageSlice* page_slice = nullptr;  // the pageId's scope, or null
  Tier tier = Tier::kOrigin;                      // kL1 when every slice came from L1
  // The tier each slice came from (`tier` is the later of the two).
  Tier type_tier = Tier::kL1;
  Tier page_tier = Tier::kL1;

  // True when some slice holds a live record, which makes the tenant known
  // (§11.18) without asking the origin.
  bool HasRecords() const;
};

// Which cached slices an operator's invalidation names: a tenant's, narrowed
// by any of channel, page type and scope ("*" or a pageId); empty = any.
struct SliceFilter {
  std::string tenant;  // required
  std::string channel;
  std::string page_type;
  std::string scope;
};

// One slice L1 holds (PageSource::CachedSlices).
struct CachedSliceInfo {
  origin::SliceKey key;
  int64_t version = 0;  // the slice's highest record version
  size_t bytes = 0;     // its charge in L1
  std::chrono::nanoseconds age{0};
  uint32_t hits = 0;
  int frequency = 0;  // the policy's estimate, 0..15
  bool fresh = false;
  Tier loaded_from = Tier::kOrigin;  // the tier L1 loaded it from
};

// L1's settings; the defaults are the cache's own (cache::CacheOptions).
struct L1Options {
  // Bytes of compiled slices held; 0 disables L1 (every read goes to the origin).
  // Default: 256 MiB.
  size_t capacity_bytes = cache::CacheOptions().capacity_bytes;
  // A slice is fresh this long after it was loaded; invalidations (sync) make
  // changes visible sooner, the TTL bounds staleness when they cannot arrive.
  // Default: 30 s.
  std::chrono::milliseconds ttl = cache::CacheOptions().ttl;
  // How long past its TTL a slice is served while one background refresh
  // reloads it; past TTL + stale_grace it is reloaded on the request path
  // (so with a healthy origin a slice served is at most TTL + stale_grace
  // old), and served stale only when that load fails (cache/cache.h).
  // Default: 1 s.
  std::chrono::milliseconds stale_grace = cache::CacheOptions().stale_grace;
  // How long past its TTL a slice may still be served while the origin fails.
  // Default: 5 min.
  std::chrono::milliseconds max_stale = cache::CacheOptions().max_stale;
  // Each slice's TTL is shortened by up to this share, fixed per slice
  // (cache::CacheOptions::ttl_jitter), so that slices loaded together are not
  // all refreshed from the origin in the same instant. Default: 0.1.
  double ttl_jitter = 0.1;
  // The monotonic clock (ns) of TTLs and staleness; tests inject a fake
  // (cache::CacheOptions::clock). Empty: the cache's own.
  std::function<int64_t()> clock;
};

struct PageSourceOptions {
  L1Options l1;
  // The shared L2, or null for none. Not owned; must outlive the PageSource.
  l2::L2Client* l2 = nullptr;
  // Bound on each L2 call (L2Options::timeout): L2 is not tried when less
  // than this is left before the deadline.
  std::chrono::milliseconds l2_timeout{5};
  // The threads and queue of origin reads, and the health probe.
  OriginReaderOptions origin;
  // The longest a request waits for another request's load of the same
  // slice; the wait also ends at the deadline of the cache::ReadScope given
  // to Get, when it has one (LayoutService gives the request's deadline).
  std::chrono::milliseconds load_wait{50};
  // Deadline of a background refresh (it keeps no request waiting).
  std::chrono::milliseconds refresh_deadline{std::chrono::seconds(1)};
};

class PageSource {
 public:
  // REQUIRES: origin (and options.l2) outlive the PageSource.
  PageSource(origin::Origin* origin, const PageSourceOptions& options);
  PageSource(const PageSource&) = delete;
  PageSource& operator=(const PageSource&) = delete;

  // The slices of one page, valid until `scope` ends (an L1 hit is read in
  // place, without taking a reference; see cache/read_scope.h). Unavailable
  // when a slice is in no cache tier and the origin cannot answer by
  // `deadline`.
  Result<PageSlices> Get(const origin::PartitionKey& partition,
                         std::optional<std::string_view> page_id, Deadline deadline,
                         cache::ReadScope* scope);

  // As Get, but never waits (for a serving thread): the slices when L1 holds
  // them -- fresh, or stale where the cache serves stale values (cache.h),
  // scheduling the refresh Get would -- and nullopt when one needs a load or
  // another request's load, or L1 is disabled: then call Get where waiting
  // is allowed.
  std::optional<PageSlices> GetCached(const origin::PartitionKey& partition,
                                      std::optional<std::string_view> page_id,
                                      cache::ReadScope* scope);

  // Whether the tenant has a live record (Origin::TenantKnown), remembered
  // for the L1 ttl (an unknown tenant for 1 s) and served stale while the
  // origin cannot answer (when L1 is disabled, the origin is asked every
  // time). An invalidation makes the next call ask the origin again, but a
  // tenant the origin last said was known stays known while it cannot
  // answer, as its slices are served stale. Unavailable when the origin
  // cannot answer and nothing is remembered.
  Result<bool> TenantKnown(std::string_view tenant, Deadline deadline);
  // As TenantKnown, but never waits: nullopt when the answer needs the origin.
  std::optional<Result<bool>> TenantKnownCached(std::string_view tenant);

  // A publish changed one slice (scope "*" or a pageId): expires it in L1
  // so the next read reloads it (the old slice stands in only if L2 and the
  // origin both fail: cache::Invalidation::kExpire), and forgets what is
  // remembered about its tenant. L2 is `tempo sync`'s to rewrite.
  void InvalidateSlice(const origin::PartitionKey& partition, std::string_view scope);
  // The same for every cached slice of a tenant.
  void InvalidateTenant(std::string_view tenant);
  // The same for everything cached in this process.
  void InvalidateAll();
  // Removes the L1 slices `filter` names (an operator's drop: nothing
  // stands in for them, unlike a publish's invalidation, which expires a
  // slice), and what is remembered about its tenant. Returns how many were
  // dropped and, in `keys` (when not null), the slices dropped: those it
  // listed before dropping them, plus the slice itself when the filter names
  // one exactly (for deleting them from L2).
  size_t InvalidateMatching(const SliceFilter& filter, std::vector<origin::SliceKey>* keys);
  // The slices L1 holds for `tenant` (every tenant's for ""), by key (empty
  // when L1 is disabled).
  std::vector<CachedSliceInfo> CachedSlices(std::string_view tenant) const;
  // The `n` hottest slices L1 holds, of every tenant: by the policy's
  // frequency estimate, then hits, both highest first, then by key (empty
  // when L1 is disabled). What another instance warms itself with.
  std::vector<CachedSliceInfo> HottestSlices(size_t n) const;

  // Loads one slice into L1 as a request for it would (the same L1 load:
  // L2, else the origin, filling L2), for warming a starting instance:
  // kL1 when L1 held it already, else the tier it was loaded from.
  // Unavailable when no tier answers by `deadline` or L1 is disabled.
  Result<Tier> Warm(const origin::SliceKey& key, Deadline deadline);

  // L1's counters (all zero when L1 is disabled).
  cache::CacheStats L1Stats() const;
  // The tenant-knowledge cache's counters (all zero when L1 is disabled).
  cache::CacheStats TenantCacheStats() const;
  // The origin reads' counters and health (see OriginReader::Ready).
  const OriginReader& origin_reader() const { return reader_; }

 private:
  class SliceLoader;
  class TenantLoader;
  // An L1 entry: a compiled slice and the tier it was loaded from.
  struct CachedSlice {
    std::shared_ptr<const select::PageSlice> slice;
    Tier loaded_from;
  };
  using SliceCache = cache::Cache<std::shared_ptr<const CachedSlice>>;
  using TenantCache = cache::Cache<std::shared_ptr<const bool>>;

  Result<const select::PageSlice*> Slice(const origin::PartitionKey& partition,
                                         std::string_view scope, Deadline deadline, Tier* tier,
                                         cache::ReadScope* read_scope);
  // The slice L1 can give without waiting (see GetCached), or null.
  const select::PageSlice* CachedSliceOf(const origin::PartitionKey& partition,
                                         std::string_view scope, cache::ReadScope* read_scope);
  // L2, then the origin (filling L2); the slice and where it came from.
  Result<CachedSlice> Load(const origin::PartitionKey& partition, std::string_view scope,
                           Deadline deadline);

  // Logs, once per slice, a slice too large for any L1 shard.
  void NoteIfTooLarge(const origin::PartitionKey& partition, std::string_view scope, size_t charge);

  const PageSourceOptions options_;
  std::unique_ptr<L2Writer> l2_writer_;  // null without L2; outlives reader_'s fills
  OriginReader reader_;
  // Declared before the caches, so destroyed after them: a background refresh
  // of l1_ (joined only when l1_ is destroyed) may still note a slice here.
  size_t max_entry_charge_ = 0;  // a shard's capacity: larger slices are not cached
  Mutex too_large_mu_;
  std::unordered_set<std::string> too_large_logged_ GUARDED_BY(too_large_mu_);
  std::unique_ptr<SliceCache> l1_;        // null when disabled
  std::unique_ptr<TenantCache> tenants_;  // null when L1 is disabled
  // The tenants the origin last said were known. Unlike tenants_, kept
  // through invalidations: an outage right after a tenant's slice was
  // invalidated (with a live publish stream, always) must not turn its pages
  // into 503s (docs/reliability.md, the pg-stop row). At most
  // kMaxRememberedTenants; written only by the tenant loader.
  SharedMutex known_mu_;
  std::set<std::string, std::less<>> known_tenants_ GUARDED_BY(known_mu_);
  // Records the origin's answer for `tenant` in known_tenants_.
  void RememberTenant(std::string_view tenant, bool known);
  // Whether the origin's last answer for `tenant` was "known".
  bool WasKnown(std::string_view tenant);
};

// Compiles one scope's stored rows. A row that no longer decodes is skipped
// (it was valid when written).
std::shared_ptr<const select::PageSlice> CompileRows(std::string_view scope,
                                                     const std::vector<origin::Row>& rows);

}  // namespace tempo::api
