// PageSource: L1 in front of the origin, one cache entry per page slice.
#include "api/page_source.h"

#include <vector>

#include "events/events.h"

namespace tempo::api {
namespace {

constexpr char kKeySeparator = '\x1f';  // cannot appear in a valid tenant/channel/pageType

// "<tenant>\x1f<channel>\x1f<pageType>\x1f<scope>", built into a reused buffer.
void SliceKey(const origin::PartitionKey& p, std::string_view scope, std::string* key) {
  key->clear();
  key->reserve(p.tenant.size() + p.channel.size() + p.page_type.size() + scope.size() + 3);
  key->append(p.tenant).push_back(kKeySeparator);
  key->append(p.channel).push_back(kKeySeparator);
  key->append(p.page_type).push_back(kKeySeparator);
  key->append(scope);
}

// The L1 loader of one slice. On the request path it only points at the
// caller's partition and scope (a hit must not allocate); the cache copies it
// when it schedules a background refresh, and the copy owns its strings.
class SliceLoader {
 public:
  using SliceCache = cache::Cache<std::shared_ptr<const select::PageSlice>>;

  SliceLoader(origin::Origin* origin, const origin::PartitionKey& partition,
              std::string_view scope)
      : origin_(origin), partition_(&partition), scope_(scope) {}
  SliceLoader(const SliceLoader& other)
      : origin_(other.origin_),
        owned_(std::make_shared<const Owned>(Owned{*other.partition_, std::string(other.scope_)})),
        partition_(&owned_->partition),
        scope_(owned_->scope) {}
  SliceLoader& operator=(const SliceLoader&) = delete;

  Result<SliceCache::Loaded> operator()() const {
    auto slice = LoadSlice(*origin_, *partition_, scope_);
    if (!slice.ok()) return slice.status();
    const size_t charge = (*slice)->bytes;
    return SliceCache::Loaded{std::move(slice).value(), charge, std::nullopt};
  }

 private:
  struct Owned {
    origin::PartitionKey partition;
    std::string scope;
  };
  origin::Origin* origin_;
  std::shared_ptr<const Owned> owned_;  // set only in copies
  const origin::PartitionKey* partition_;
  std::string_view scope_;
};

}  // namespace

const char* TierName(Tier tier) { return tier == Tier::kL1 ? "L1" : "origin"; }

Result<std::shared_ptr<const select::PageSlice>> LoadSlice(origin::Origin& origin,
                                                           const origin::PartitionKey& partition,
                                                           std::string_view scope) {
  auto rows = origin.ReadScope(partition, scope);
  if (!rows.ok()) return rows.status();
  std::vector<events::Record> records;
  records.reserve(rows->size());
  for (const origin::Row& row : *rows) {
    auto record = events::DecodeRecord(row.kind, row.body);
    if (record.ok()) records.push_back(std::move(record).value());
  }
  return select::CompileSlice(std::string(scope), records);
}

PageSource::PageSource(origin::Origin* origin, const L1Options& options) : origin_(origin) {
  if (options.capacity_bytes == 0) return;
  cache::CacheOptions cache_options;
  cache_options.capacity_bytes = options.capacity_bytes;
  cache_options.ttl = options.ttl;
  cache_options.max_stale = options.max_stale;
  l1_ = std::make_unique<SliceCache>(cache_options);
}

Result<std::shared_ptr<const select::PageSlice>> PageSource::Slice(
    const origin::PartitionKey& partition, std::string_view scope, Tier* tier) {
  if (l1_ == nullptr) {
    *tier = Tier::kOrigin;
    return LoadSlice(*origin_, partition, scope);
  }
  thread_local std::string key;
  SliceKey(partition, scope, &key);
  auto loaded = l1_->GetOrLoad(key, SliceLoader(origin_, partition, scope));
  if (!loaded.ok()) return loaded.status();
  if (loaded->source == cache::Source::kLoaded) *tier = Tier::kOrigin;
  return std::move(loaded->value);
}

Result<PageSlices> PageSource::Get(const origin::PartitionKey& partition,
                                   std::optional<std::string_view> page_id) {
  PageSlices page;
  page.tier = Tier::kL1;
  auto type_slice = Slice(partition, "*", &page.tier);
  if (!type_slice.ok()) return type_slice.status();
  page.type_slice = std::move(type_slice).value();
  if (page_id && !page_id->empty() && *page_id != "*") {
    auto page_slice = Slice(partition, *page_id, &page.tier);
    if (!page_slice.ok()) return page_slice.status();
    page.page_slice = std::move(page_slice).value();
  }
  return page;
}

void PageSource::InvalidateSlice(const origin::PartitionKey& partition, std::string_view scope) {
  if (l1_ == nullptr) return;
  std::string key;
  SliceKey(partition, scope, &key);
  l1_->Invalidate(key);
}

void PageSource::InvalidateTenant(std::string_view tenant) {
  if (l1_ == nullptr) return;
  std::string prefix(tenant);
  prefix.push_back(kKeySeparator);
  l1_->InvalidatePrefix(prefix);
}

void PageSource::InvalidateAll() {
  if (l1_ != nullptr) l1_->InvalidatePrefix("");
}

cache::CacheStats PageSource::L1Stats() const {
  return l1_ == nullptr ? cache::CacheStats{} : l1_->Stats();
}

}  // namespace tempo::api
