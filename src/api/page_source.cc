// PageSource: L1, then L2, then the origin, one cache entry per page slice.
#include "api/page_source.h"

#include <algorithm>
#include <utility>

#include "cache/charge.h"
#include "common/logging.h"
#include "events/events.h"

namespace tempo::api {
namespace {

using Clock = std::chrono::steady_clock;

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

// The tenant cache's values: one shared object per answer.
const std::shared_ptr<const bool>& KnownValue(bool known) {
  static const auto* const kKnown = new std::shared_ptr<const bool>(std::make_shared<bool>(true));
  static const auto* const kUnknown =
      new std::shared_ptr<const bool>(std::make_shared<bool>(false));
  return known ? *kKnown : *kUnknown;
}

// What a tenant-cache entry's value is charged: nothing, since the value is
// one of two shared objects; the cache charges the key and its bookkeeping
// itself (Cache::EntryOverhead).
constexpr size_t kTenantValueCharge = 0;

// How long "unknown tenant" is remembered. A tenant's first record usually
// invalidates one of its slices, which drops the answer at once; a record
// that touches no slice (a module without channels, §11.16) does not, and
// this bounds how long such a tenant stays unknown.
constexpr std::chrono::milliseconds kUnknownTenantTtl{1000};

// The most tenants PageSource remembers as known through an invalidation: far
// more than a deployment has, a bound on what junk could cost (about 100 bytes
// each).
constexpr size_t kMaxRememberedTenants = 100'000;

// How many slices "too large for L1" is logged for, each once.
constexpr size_t kMaxTooLargeLogged = 1000;

}  // namespace

// The L1 loader of one slice. On the request path it only points at the
// caller's partition and scope and carries the request's deadline (a hit must
// not allocate); the cache copies it when it schedules a background refresh,
// and the copy owns its strings and takes options.refresh_deadline from when
// it runs.
class PageSource::SliceLoader {
 public:
  SliceLoader(PageSource* source, const origin::PartitionKey& partition, std::string_view scope,
              Deadline deadline)
      : source_(source), partition_(&partition), scope_(scope), deadline_(deadline) {}
  SliceLoader(const SliceLoader& other)
      : source_(other.source_),
        owned_(std::make_shared<const Owned>(Owned{*other.partition_, std::string(other.scope_)})),
        partition_(&owned_->partition),
        scope_(owned_->scope) {}
  SliceLoader& operator=(const SliceLoader&) = delete;

  Result<SliceCache::Loaded> operator()() const {
    const Deadline deadline =
        owned_ ? Clock::now() + source_->options_.refresh_deadline : deadline_;
    auto loaded = source_->Load(*partition_, scope_, deadline);
    if (!loaded.ok()) return loaded.status();
    const size_t charge = loaded->slice->bytes + cache::SharedValueBytes<CachedSlice>();
    source_->NoteIfTooLarge(*partition_, scope_, charge);
    return SliceCache::Loaded{std::make_shared<const CachedSlice>(std::move(loaded).value()),
                              charge, std::nullopt};
  }

 private:
  struct Owned {
    origin::PartitionKey partition;
    std::string scope;
  };
  PageSource* source_;
  std::shared_ptr<const Owned> owned_;  // set only in copies
  const origin::PartitionKey* partition_;
  std::string_view scope_;
  Deadline deadline_{};  // of the request; copies compute their own
};

const char* TierName(Tier tier) {
  switch (tier) {
    case Tier::kL1:
      return "L1";
    case Tier::kL2:
      return "L2";
    case Tier::kOrigin:
      break;
  }
  return "origin";
}

bool PageSlices::HasRecords() const {
  // Versions are at least 1 (§11.15), so a slice with a live record has a
  // positive max_version.
  return type_slice->max_version > 0 || (page_slice != nullptr && page_slice->max_version > 0);
}

std::shared_ptr<const select::PageSlice> CompileRows(std::string_view scope,
                                                     const std::vector<origin::Row>& rows) {
  std::vector<events::Record> records;
  records.reserve(rows.size());
  for (const origin::Row& row : rows) {
    auto record = events::DecodeRecord(row.kind, row.body);
    if (record.ok()) records.push_back(std::move(record).value());
  }
  return select::CompileSlice(std::string(scope), records);
}

PageSource::PageSource(origin::Origin* origin, const PageSourceOptions& options)
    : options_(options),
      l2_writer_(options.l2 != nullptr ? std::make_unique<L2Writer>(options.l2) : nullptr),
      reader_(origin, options.origin) {
  if (options.l1.capacity_bytes == 0) return;
  cache::CacheOptions cache_options;
  cache_options.capacity_bytes = options.l1.capacity_bytes;
  cache_options.ttl = options.l1.ttl;
  cache_options.max_stale = options.l1.max_stale;
  cache_options.stale_grace = options.l1.stale_grace;
  cache_options.ttl_jitter = options.l1.ttl_jitter;
  cache_options.clock = options.l1.clock;
  cache_options.load_wait_timeout = options.load_wait;
  l1_ = std::make_unique<SliceCache>(cache_options);
  max_entry_charge_ = cache_options.capacity_bytes / static_cast<size_t>(cache_options.shards);

  // Tenants: few and small. Stale answers are kept as long as slices are.
  cache::CacheOptions tenant_options = cache_options;
  tenant_options.capacity_bytes = std::max<size_t>(options.l1.capacity_bytes / 64, 64 << 10);
  tenant_options.shards = 16;
  tenant_options.refresh_threads = 1;
  tenants_ = std::make_unique<TenantCache>(tenant_options);
}

void PageSource::NoteIfTooLarge(const origin::PartitionKey& partition, std::string_view scope,
                                size_t charge) {
  std::string key;
  SliceKey(partition, scope, &key);
  if (charge + SliceCache::EntryOverhead(key) <= max_entry_charge_) return;
  {
    MutexLock lock(&too_large_mu_);
    // Each slice is logged once; past a bound, logging stops (the cache's
    // counters still show the loads).
    if (too_large_logged_.size() >= kMaxTooLargeLogged || !too_large_logged_.insert(key).second) {
      return;
    }
  }
  Log(LogLevel::kWarn, "l1",
      "slice " + partition.tenant + "/" + partition.channel + "/" + partition.page_type + "/" +
          std::string(scope) + " (" + std::to_string(charge) +
          " bytes compiled) is too large for L1 (" + std::to_string(max_entry_charge_) +
          " bytes per shard): it is read from L2 or the origin on every request");
}

Result<PageSource::CachedSlice> PageSource::Load(const origin::PartitionKey& partition,
                                                 std::string_view scope, Deadline deadline) {
  l2::L2Client* const l2 = options_.l2;
  origin::SliceKey key;
  uint64_t repair_cas = 0;
  if (l2 != nullptr) {
    key = origin::SliceKey{partition, std::string(scope)};
    // An L2 call takes at most l2_timeout: skipped when that would overrun
    // the deadline, so the origin keeps its time.
    if (Clock::now() + options_.l2_timeout <= deadline) {
      auto read = l2->Read(key);
      // An L2 error is a miss: the origin answers instead.
      if (read.ok() && read->rows.has_value()) {
        return CachedSlice{CompileRows(scope, *read->rows), Tier::kL2};
      }
      if (read.ok()) repair_cas = read->corrupt_cas;
    }
  }
  // The L2 fill is queued by the reader's thread once the rows are here,
  // even if this request has given up waiting: the next request then finds
  // them. The writer's own thread does the L2 call.
  OriginReader::RowsCallback fill;
  if (l2 != nullptr) {
    fill = [writer = l2_writer_.get(), key = std::move(key), repair_cas](
               const std::vector<origin::Row>& rows) { writer->Fill(key, rows, repair_cas); };
  }
  auto rows = reader_.ReadScope(partition, scope, deadline, std::move(fill));
  if (!rows.ok()) return rows.status();
  return CachedSlice{CompileRows(scope, *rows), Tier::kOrigin};
}

Result<const select::PageSlice*> PageSource::Slice(const origin::PartitionKey& partition,
                                                   std::string_view scope, Deadline deadline,
                                                   Tier* tier, cache::ReadScope* read_scope) {
  if (l1_ == nullptr) {
    auto loaded = Load(partition, scope, deadline);
    if (!loaded.ok()) return loaded.status();
    *tier = std::max(*tier, loaded->loaded_from);
    return read_scope->Keep(std::move(loaded->slice));
  }
  thread_local std::string key;
  SliceKey(partition, scope, &key);
  auto entry = l1_->GetOrLoad(key, SliceLoader(this, partition, scope, deadline), read_scope);
  if (!entry.ok()) return entry.status();
  const CachedSlice& cached = *entry->value;
  if (entry->source == cache::Source::kLoaded) *tier = std::max(*tier, cached.loaded_from);
  return cached.slice.get();
}

namespace {

// Whether a request's pageId names a page slice besides the type-wide one.
bool HasPageScope(std::optional<std::string_view> page_id) {
  return page_id && !page_id->empty() && *page_id != "*";
}

}  // namespace

const select::PageSlice* PageSource::CachedSliceOf(const origin::PartitionKey& partition,
                                                   std::string_view scope,
                                                   cache::ReadScope* read_scope) {
  thread_local std::string key;
  SliceKey(partition, scope, &key);
  // Only copies (refreshes) call the loader, with a deadline of their own.
  auto entry = l1_->TryGet(key, SliceLoader(this, partition, scope, Deadline{}), read_scope);
  return entry.has_value() ? entry->value->slice.get() : nullptr;
}

std::optional<PageSlices> PageSource::GetCached(const origin::PartitionKey& partition,
                                                std::optional<std::string_view> page_id,
                                                cache::ReadScope* scope) {
  if (l1_ == nullptr) return std::nullopt;
  PageSlices page;
  page.tier = Tier::kL1;
  page.type_slice = CachedSliceOf(partition, "*", scope);
  if (page.type_slice == nullptr) return std::nullopt;
  if (HasPageScope(page_id)) {
    page.page_slice = CachedSliceOf(partition, *page_id, scope);
    if (page.page_slice == nullptr) return std::nullopt;
  }
  return page;
}

Result<PageSlices> PageSource::Get(const origin::PartitionKey& partition,
                                   std::optional<std::string_view> page_id, Deadline deadline,
                                   cache::ReadScope* scope) {
  PageSlices page;
  auto type_slice = Slice(partition, "*", deadline, &page.type_tier, scope);
  if (!type_slice.ok()) return type_slice.status();
  page.type_slice = *type_slice;
  if (HasPageScope(page_id)) {
    auto page_slice = Slice(partition, *page_id, deadline, &page.page_tier, scope);
    if (!page_slice.ok()) return page_slice.status();
    page.page_slice = *page_slice;
  }
  page.tier = std::max(page.type_tier, page.page_tier);
  return page;
}

// The tenant cache's loader: like SliceLoader, a view on the request path and
// an owning copy for a background refresh.
class PageSource::TenantLoader {
 public:
  TenantLoader(PageSource* source, std::string_view tenant, Deadline deadline)
      : source_(source), tenant_(tenant), deadline_(deadline) {}
  TenantLoader(const TenantLoader& other)
      : source_(other.source_),
        owned_(std::make_shared<const std::string>(other.tenant_)),
        tenant_(*owned_) {}
  TenantLoader& operator=(const TenantLoader&) = delete;

  Result<TenantCache::Loaded> operator()() const {
    const Deadline deadline =
        owned_ ? Clock::now() + source_->options_.refresh_deadline : deadline_;
    auto known = source_->reader_.TenantKnown(tenant_, deadline);
    if (!known.ok()) return known.status();
    source_->RememberTenant(tenant_, *known);
    return TenantCache::Loaded{
        KnownValue(*known), kTenantValueCharge,
        *known ? std::nullopt : std::optional<std::chrono::milliseconds>(kUnknownTenantTtl)};
  }

 private:
  PageSource* source_;
  std::shared_ptr<const std::string> owned_;  // set only in copies
  std::string_view tenant_;
  Deadline deadline_{};  // of the request; copies compute their own
};

Result<bool> PageSource::TenantKnown(std::string_view tenant, Deadline deadline) {
  if (tenants_ == nullptr) return reader_.TenantKnown(tenant, deadline);
  auto entry = tenants_->GetOrLoad(tenant, TenantLoader(this, tenant, deadline));
  if (!entry.ok()) {
    if (WasKnown(tenant)) return true;  // dropped by an invalidation; the origin cannot answer
    return entry.status();
  }
  return *entry->value;
}

void PageSource::RememberTenant(std::string_view tenant, bool known) {
  {
    ReaderMutexLock lock(&known_mu_);
    if (known_tenants_.contains(tenant) == known) return;  // the usual case: no change
  }
  WriterMutexLock lock(&known_mu_);
  if (!known) {
    if (auto it = known_tenants_.find(tenant); it != known_tenants_.end()) known_tenants_.erase(it);
  } else if (known_tenants_.size() < kMaxRememberedTenants) {
    known_tenants_.emplace(tenant);
  }
}

bool PageSource::WasKnown(std::string_view tenant) {
  ReaderMutexLock lock(&known_mu_);
  return known_tenants_.contains(tenant);
}

std::optional<Result<bool>> PageSource::TenantKnownCached(std::string_view tenant) {
  if (tenants_ == nullptr) return std::nullopt;
  cache::ReadScope scope;
  // Only a copy (a refresh) calls the loader, with a deadline of its own.
  auto entry = tenants_->TryGet(tenant, TenantLoader(this, tenant, Deadline{}), &scope);
  if (!entry.has_value()) return std::nullopt;
  return Result<bool>(*entry->value);
}

void PageSource::InvalidateSlice(const origin::PartitionKey& partition, std::string_view scope) {
  if (l1_ == nullptr) return;
  std::string key;
  SliceKey(partition, scope, &key);
  l1_->Invalidate(key);
  // A first record makes a tenant known, a last delete unknown: an answer
  // from before is likely wrong ("known" is remembered apart, RememberTenant).
  tenants_->Invalidate(partition.tenant, cache::Invalidation::kRemove);
}

void PageSource::InvalidateTenant(std::string_view tenant) {
  if (l1_ == nullptr) return;
  std::string prefix(tenant);
  prefix.push_back(kKeySeparator);
  l1_->InvalidatePrefix(prefix);
  tenants_->Invalidate(tenant, cache::Invalidation::kRemove);
}

void PageSource::InvalidateAll() {
  if (l1_ == nullptr) return;
  l1_->InvalidatePrefix("");
  tenants_->InvalidatePrefix("", cache::Invalidation::kRemove);
}

namespace {

// The slice of an L1 key, or nullopt for a key of another shape.
std::optional<origin::SliceKey> ParseSliceKey(std::string_view key) {
  std::string_view parts[4];
  for (int i = 0; i < 3; ++i) {
    const size_t end = key.find(kKeySeparator);
    if (end == std::string_view::npos) return std::nullopt;
    parts[i] = key.substr(0, end);
    key.remove_prefix(end + 1);
  }
  parts[3] = key;
  return origin::SliceKey{{std::string(parts[0]), std::string(parts[1]), std::string(parts[2])},
                          std::string(parts[3])};
}

bool Matches(const SliceFilter& filter, const origin::SliceKey& key) {
  auto field = [](const std::string& want, const std::string& have) {
    return want.empty() || want == have;
  };
  return field(filter.tenant, key.partition.tenant) &&
         field(filter.channel, key.partition.channel) &&
         field(filter.page_type, key.partition.page_type) && field(filter.scope, key.scope);
}

}  // namespace

size_t PageSource::InvalidateMatching(const SliceFilter& filter,
                                      std::vector<origin::SliceKey>* keys) {
  const origin::SliceKey exact{{filter.tenant, filter.channel, filter.page_type}, filter.scope};
  const bool names_one =
      !filter.channel.empty() && !filter.page_type.empty() && !filter.scope.empty();
  if (keys != nullptr && names_one) keys->push_back(exact);
  if (l1_ == nullptr) return 0;
  // The key prefix the filter fixes: the tenant, then each of channel and
  // page type given, up to the first that is not. When the fields given
  // are all leading ones (no gap), the prefix names exactly the slices.
  std::string prefix = filter.tenant + kKeySeparator;
  bool gap = false, contiguous = true;
  for (const std::string* field : {&filter.channel, &filter.page_type, &filter.scope}) {
    if (field->empty()) {
      gap = true;
    } else if (gap) {
      contiguous = false;
    } else if (field != &filter.scope) {
      prefix.append(*field).push_back(kKeySeparator);
    }
  }
  size_t removed = 0;
  for (const auto& resident : l1_->Residents(prefix)) {
    std::optional<origin::SliceKey> key = ParseSliceKey(resident.key);
    if (!key.has_value() || !Matches(filter, *key)) continue;
    if (!contiguous || names_one) {
      l1_->Invalidate(resident.key, cache::Invalidation::kRemove);
      ++removed;
    }
    if (keys != nullptr && !(names_one && *key == exact)) keys->push_back(std::move(*key));
  }
  // A prefix is dropped in one call, which also takes slices loaded since
  // the listing.
  if (contiguous && !names_one) {
    removed = l1_->InvalidatePrefix(prefix, cache::Invalidation::kRemove);
  }
  tenants_->Invalidate(filter.tenant, cache::Invalidation::kRemove);
  return removed;
}

std::vector<CachedSliceInfo> PageSource::CachedSlices(std::string_view tenant) const {
  std::vector<CachedSliceInfo> out;
  if (l1_ == nullptr) return out;
  std::string prefix(tenant);
  if (!prefix.empty()) prefix.push_back(kKeySeparator);
  for (auto& resident : l1_->Residents(prefix)) {
    std::optional<origin::SliceKey> key = ParseSliceKey(resident.key);
    if (!key.has_value()) continue;
    CachedSliceInfo info;
    info.key = std::move(*key);
    info.version = resident.value->slice->max_version;
    info.bytes = resident.charge;
    info.age = resident.age;
    info.hits = resident.hits;
    info.frequency = resident.frequency;
    info.fresh = resident.fresh;
    info.loaded_from = resident.value->loaded_from;
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const CachedSliceInfo& a, const CachedSliceInfo& b) { return a.key < b.key; });
  return out;
}

std::vector<CachedSliceInfo> PageSource::HottestSlices(size_t n) const {
  std::vector<CachedSliceInfo> out = CachedSlices("");
  const auto hotter = [](const CachedSliceInfo& a, const CachedSliceInfo& b) {
    if (a.frequency != b.frequency) return a.frequency > b.frequency;
    if (a.hits != b.hits) return a.hits > b.hits;
    return a.key < b.key;
  };
  if (out.size() > n) {
    std::partial_sort(out.begin(), out.begin() + static_cast<ptrdiff_t>(n), out.end(), hotter);
    out.resize(n);
  } else {
    std::sort(out.begin(), out.end(), hotter);
  }
  return out;
}

Result<Tier> PageSource::Warm(const origin::SliceKey& key, Deadline deadline) {
  if (l1_ == nullptr) return Status::Unavailable("L1 is disabled (--l1-mb 0)");
  cache::ReadScope scope;
  Tier tier = Tier::kL1;  // Slice raises it only when it loaded the slice
  auto slice = Slice(key.partition, key.scope, deadline, &tier, &scope);
  if (!slice.ok()) return slice.status();
  return tier;
}

cache::CacheStats PageSource::L1Stats() const {
  return l1_ == nullptr ? cache::CacheStats{} : l1_->Stats();
}

cache::CacheStats PageSource::TenantCacheStats() const {
  return tenants_ == nullptr ? cache::CacheStats{} : tenants_->Stats();
}

}  // namespace tempo::api
