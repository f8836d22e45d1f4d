// RequestMetrics: a fixed table of lazily made histograms and a lock-free tenant table with
// thread-striped counters.
#include "admin/request_metrics.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>
#include <functional>
#include <string>

namespace tempo::admin {
namespace {

constexpr std::string_view kV1Path = "/api/v1/tempo/layouts";
constexpr std::string_view kV2Path = "/api/v2/tempo/layouts";
constexpr std::string_view kHealthPath = "/healthz";
constexpr std::string_view kOther = "other";
// Tier label values by tier slot.
constexpr std::string_view kTierNames[] = {"L1", "L2", "origin", ""};

}  // namespace

Route RouteOf(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == kV2Path) return Route::kLayoutsV2;
  if (path == kV1Path) return Route::kLayoutsV1;
  if (path == kHealthPath) return Route::kHealthz;
  return Route::kOther;
}

std::string_view RouteName(Route route) {
  switch (route) {
    case Route::kLayoutsV1:
      return "layouts_v1";
    case Route::kLayoutsV2:
      return "layouts_v2";
    case Route::kHealthz:
      return "healthz";
    case Route::kOther:
      break;
  }
  return kOther;
}

RequestMetrics::RequestMetrics(const RequestMetricsOptions& options)
    : max_tenants_(std::min(options.max_tenants, kMaxTrackedTenants)),
      other_slot_(max_tenants_),
      stripe_mask_(DefaultStripes() - 1),
      tenant_row_((max_tenants_ + 1 + kStripeAlignBytes / 8 - 1) / (kStripeAlignBytes / 8) *
                  (kStripeAlignBytes / 8)),
      series_(new std::atomic<Histogram*>[kSeriesSlots]),
      // At most half full, so that a probe for an absent tenant ends at a free entry soon.
      tenant_table_mask_(std::bit_ceil(std::max<size_t>(2, 2 * max_tenants_)) - 1),
      tenant_table_(new std::atomic<const Tenant*>[tenant_table_mask_ + 1]),
      tenant_counts_(NewAlignedCounters((stripe_mask_ + 1) * tenant_row_)) {
  assert(options.max_tenants <= kMaxTrackedTenants);
  for (size_t i = 0; i < kSeriesSlots; ++i) series_[i].store(nullptr, std::memory_order_relaxed);
  for (size_t i = 0; i <= tenant_table_mask_; ++i) {
    tenant_table_[i].store(nullptr, std::memory_order_relaxed);
  }
  if (max_tenants_ == 0) tenants_full_.store(true, std::memory_order_relaxed);
}

RequestMetrics::~RequestMetrics() = default;

size_t RequestMetrics::CodeSlot(int status) {
  return status >= kMinCode && status <= kMaxCode ? static_cast<size_t>(status - kMinCode)
                                                  : kCodeSlots - 1;
}

std::string RequestMetrics::CodeLabel(size_t code_slot) {
  return code_slot + 1 == kCodeSlots ? std::string(kOther)
                                     : std::to_string(kMinCode + static_cast<int>(code_slot));
}

size_t RequestMetrics::TierSlot(std::string_view tier) {
  for (size_t i = 0; i + 1 < kTierCount; ++i) {
    if (tier == kTierNames[i]) return i;
  }
  return kTierCount - 1;
}

void RequestMetrics::Record(Route route, int status, std::string_view tier, std::string_view tenant,
                            std::chrono::nanoseconds duration) {
  const size_t slot = SeriesSlot(route, CodeSlot(status), TierSlot(tier));
  Histogram* histogram = series_[slot].load(std::memory_order_acquire);
  if (histogram == nullptr) [[unlikely]]
    histogram = SeriesAt(slot);
  histogram->Observe(duration);
  if (tenant.empty()) return;
  const size_t column = TenantSlot(tenant);
  tenant_counts_[(ThreadStripe() & stripe_mask_) * tenant_row_ + column].fetch_add(
      1, std::memory_order_relaxed);
}

Histogram* RequestMetrics::SeriesAt(size_t slot) {
  MutexLock lock(&mu_);
  Histogram* histogram = series_[slot].load(std::memory_order_acquire);
  if (histogram != nullptr) return histogram;  // another thread made it meanwhile
  histogram = histograms_.emplace_back(std::make_unique<Histogram>(kRequestDurationBounds)).get();
  series_[slot].store(histogram, std::memory_order_release);
  return histogram;
}

size_t RequestMetrics::FindTenant(std::string_view tenant, size_t hash) const {
  // Entries are never removed and at most half the table is used, so the probe ends at a
  // free entry within a few steps; the bound only guards the loop.
  for (size_t i = 0; i <= tenant_table_mask_; ++i) {
    const Tenant* entry =
        tenant_table_[(hash + i) & tenant_table_mask_].load(std::memory_order_acquire);
    if (entry == nullptr) return SIZE_MAX;
    if (entry->name == tenant) return entry->slot;
  }
  return SIZE_MAX;
}

size_t RequestMetrics::TenantSlot(std::string_view tenant) {
  // A tenant called "other" is counted as the folded ones: two series with tenant="other"
  // would make Prometheus reject the whole scrape.
  if (tenant.size() > kMaxTenantNameBytes || tenant == kOther) return other_slot_;
  const size_t hash = std::hash<std::string_view>()(tenant);
  if (const size_t slot = FindTenant(tenant, hash); slot != SIZE_MAX) return slot;
  // Not named: once max_tenants are, it never will be; until then, name it (at most
  // max_tenants times in the object's life, so the lock is off the steady-state path).
  if (tenants_full_.load(std::memory_order_acquire)) return other_slot_;
  MutexLock lock(&mu_);
  if (const size_t slot = FindTenant(tenant, hash); slot != SIZE_MAX) return slot;
  if (tenants_.size() >= max_tenants_) return other_slot_;
  const Tenant* entry =
      tenants_.emplace_back(std::make_unique<Tenant>(Tenant{std::string(tenant), tenants_.size()}))
          .get();
  size_t i = hash & tenant_table_mask_;
  while (tenant_table_[i].load(std::memory_order_relaxed) != nullptr) {
    i = (i + 1) & tenant_table_mask_;
  }
  tenant_table_[i].store(entry, std::memory_order_release);
  if (tenants_.size() == max_tenants_) tenants_full_.store(true, std::memory_order_release);
  return entry->slot;
}

uint64_t RequestMetrics::TenantCount(size_t slot) const {
  uint64_t sum = 0;
  for (size_t s = 0; s <= stripe_mask_; ++s) {
    sum += tenant_counts_[s * tenant_row_ + slot].load(std::memory_order_relaxed);
  }
  return sum;
}

HistogramSnapshot RequestMetrics::Durations(Route route, int status, std::string_view tier) const {
  const Histogram* histogram =
      series_[SeriesSlot(route, CodeSlot(status), TierSlot(tier))].load(std::memory_order_acquire);
  return histogram == nullptr ? HistogramSnapshot{} : histogram->Snapshot();
}

uint64_t RequestMetrics::Responses(int status) const {
  const size_t code = CodeSlot(status);
  uint64_t n = 0;
  for (size_t route = 0; route < kRouteCount; ++route) {
    for (size_t tier = 0; tier < kTierCount; ++tier) {
      const Histogram* histogram = series_[SeriesSlot(static_cast<Route>(route), code, tier)].load(
          std::memory_order_acquire);
      if (histogram != nullptr) n += histogram->Snapshot().count;
    }
  }
  return n;
}

uint64_t RequestMetrics::TenantRequests(std::string_view tenant) const {
  if (tenant == kOther) return TenantCount(other_slot_);
  const size_t slot = FindTenant(tenant, std::hash<std::string_view>()(tenant));
  return slot == SIZE_MAX ? 0 : TenantCount(slot);
}

void RequestMetrics::WriteMetrics(MetricsWriter* out) const {
  // Answers by code are the duration histograms' counts, summed: no counter of their own on
  // the request path, and the two families always agree.
  std::vector<uint64_t> responses(kCodeSlots, 0);
  for (size_t route = 0; route < kRouteCount; ++route) {
    for (size_t code = 0; code < kCodeSlots; ++code) {
      for (size_t tier = 0; tier < kTierCount; ++tier) {
        const Histogram* histogram =
            series_[SeriesSlot(static_cast<Route>(route), code, tier)].load(
                std::memory_order_acquire);
        if (histogram == nullptr) continue;
        const HistogramSnapshot snapshot = histogram->Snapshot();
        responses[code] += snapshot.count;
        const std::string code_label = CodeLabel(code);
        out->Histogram("tempo_request_duration_seconds",
                       "Public listener requests, from their head complete to their answer "
                       "ready, by route, status code and the tier that answered",
                       snapshot,
                       {{"route", RouteName(static_cast<Route>(route))},
                        {"code", code_label},
                        {"tier", kTierNames[tier]}});
      }
    }
  }
  for (size_t code = 0; code < kCodeSlots; ++code) {
    if (responses[code] == 0) continue;
    const std::string code_label = CodeLabel(code);
    out->Counter("tempo_http_responses_total",
                 "Answers of the public listener by status code (the server's own included)",
                 responses[code], {{"code", code_label}});
  }
  const char* const tenant_help =
      "Public listener requests by tenant: the first --metrics-max-tenants tenants seen by "
      "name, every later one as \"other\"";
  {
    MutexLock lock(&mu_);
    for (const std::unique_ptr<Tenant>& tenant : tenants_) {
      out->Counter("tempo_requests_by_tenant_total", tenant_help, TenantCount(tenant->slot),
                   {{"tenant", tenant->name}});
    }
  }
  out->Counter("tempo_requests_by_tenant_total", tenant_help, TenantCount(other_slot_),
               {{"tenant", kOther}});
}

}  // namespace tempo::admin
