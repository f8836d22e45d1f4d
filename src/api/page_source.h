// PageSource: the compiled slices of a page, from L1 (in process) or the origin.
//
// A page needs the type-wide slice (scope "*") and, when the request has a
// pageId, that page's slice. Each slice is one L1 entry keyed
// "<tenant>\x1f<channel>\x1f<pageType>\x1f<scope>"; a miss reads that one
// scope from the origin, decodes its rows and compiles it (select::CompileSlice)
// before the request goes on, so the next request for it is an L1 hit.
// Safe for concurrent use.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/cache.h"
#include "common/status.h"
#include "origin/origin.h"
#include "select/slice.h"

namespace tempo::api {

// Which tier served a page's data (the X-Tempo-Cache header).
enum class Tier { kL1, kOrigin };
const char* TierName(Tier tier);  // "L1", "origin"

struct PageSlices {
  std::shared_ptr<const select::PageSlice> type_slice;  // scope "*", never null
  std::shared_ptr<const select::PageSlice> page_slice;  // the pageId's scope, or null
  Tier tier = Tier::kOrigin;  // kL1 when every slice came from L1
};

struct L1Options {
  // Bytes of compiled slices held; 0 disables L1 (every read goes to the origin).
  size_t capacity_bytes = size_t{256} << 20;
  // A slice is fresh this long after it was loaded; invalidations (sync) make
  // changes visible sooner, the TTL bounds staleness when they cannot arrive.
  std::chrono::milliseconds ttl{std::chrono::seconds(30)};
  // How long past its TTL a slice may still be served while it is refreshed
  // in the background (and while the origin is failing).
  std::chrono::milliseconds max_stale{std::chrono::minutes(5)};
};

class PageSource {
 public:
  // REQUIRES: origin outlives the PageSource.
  PageSource(origin::Origin* origin, const L1Options& options);
  PageSource(const PageSource&) = delete;
  PageSource& operator=(const PageSource&) = delete;

  // The slices of one page. Unavailable when the origin cannot answer and
  // L1 holds nothing usable.
  Result<PageSlices> Get(const origin::PartitionKey& partition,
                         std::optional<std::string_view> page_id);

  // Drops one cached slice (scope "*" or a pageId) so the next read reloads it.
  void InvalidateSlice(const origin::PartitionKey& partition, std::string_view scope);
  // Drops every cached slice of a tenant.
  void InvalidateTenant(std::string_view tenant);
  // Drops every cached slice.
  void InvalidateAll();

  // L1's counters (all zero when L1 is disabled).
  cache::CacheStats L1Stats() const;

 private:
  using SliceCache = cache::Cache<std::shared_ptr<const select::PageSlice>>;

  Result<std::shared_ptr<const select::PageSlice>> Slice(const origin::PartitionKey& partition,
                                                         std::string_view scope, Tier* tier);

  origin::Origin* const origin_;
  std::unique_ptr<SliceCache> l1_;  // null when disabled
};

// Reads one scope from the origin and compiles it. A stored row that no
// longer decodes is skipped (it was valid when written).
Result<std::shared_ptr<const select::PageSlice>> LoadSlice(origin::Origin& origin,
                                                           const origin::PartitionKey& partition,
                                                           std::string_view scope);

}  // namespace tempo::api
