// RequestMetrics: what the public listener answered, for SLOs: request durations by route,
// status code and tier, answers by status code, and requests by tenant.
//
// The HTTP layer calls Record once per answered request (its own answers included); the
// admin listener's /metrics renders it with WriteMetrics:
//
//   tempo_request_duration_seconds{route,code,tier}  histogram, 50 µs to 1 s
//   tempo_http_responses_total{code}                 counter, every status code
//   tempo_requests_by_tenant_total{tenant}           counter, at most max_tenants + 1 series
//
// Cardinality is bounded: route has 4 values, tier 4, code the status codes the server
// gives (100-599; anything else is "other"), and tenant the first max_tenants tenants seen
// plus "other", where every later tenant is counted.
//
// Safe for concurrent use. Record is lock-free once the series it touches exist (a series'
// first Record takes a mutex to create it), and writes only the calling thread's stripe
// (histogram.h), so serving threads never contend for a cache line.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "admin/metrics.h"
#include "common/histogram.h"
#include "common/mutex.h"

namespace tempo::admin {

// The routes of the public listener, as the `route` label names them.
enum class Route : uint8_t {
  kLayoutsV1,  // /api/v1/tempo/layouts: "layouts_v1"
  kLayoutsV2,  // /api/v2/tempo/layouts: "layouts_v2"
  kHealthz,    // /healthz: "healthz"
  kOther,      // anything else (404s, bad requests): "other"
};
inline constexpr size_t kRouteCount = 4;

// The route of a request target (origin form, "path?query"): its path, up to the first '?',
// matched exactly (no normalization: "/healthz/" is kOther, as the listener answers it).
Route RouteOf(std::string_view target);

// The route's label value: "layouts_v1", "layouts_v2", "healthz" or "other".
std::string_view RouteName(Route route);

struct RequestMetricsOptions {
  // Tenants counted under their own name in tempo_requests_by_tenant_total: the first
  // max_tenants distinct tenants recorded; every later one is counted as tenant="other".
  // At most kMaxTrackedTenants. `tempo serve --metrics-max-tenants`. Default: 100.
  size_t max_tenants = 100;
};

// The most tenants RequestMetricsOptions::max_tenants may name (memory: 8 bytes per tenant
// and stripe).
inline constexpr size_t kMaxTrackedTenants = 10'000;

// A tenant name longer than this is counted as "other": tenants are short identifiers, and
// a label value should not be a kilobyte of request target. (So is a tenant named "other".)
inline constexpr size_t kMaxTenantNameBytes = 128;

class RequestMetrics {
 public:
  // REQUIRES: options.max_tenants <= kMaxTrackedTenants.
  explicit RequestMetrics(const RequestMetricsOptions& options = {});
  ~RequestMetrics();
  RequestMetrics(const RequestMetrics&) = delete;
  RequestMetrics& operator=(const RequestMetrics&) = delete;

  // Counts one answered request: `status` its status code, `tier` the tier that answered
  // ("L1", "L2", "origin"; "" when none did, such as an error; anything else counts as ""),
  // `tenant` the tenant it was about ("" when none: not counted by tenant), `duration` from
  // its head complete to its answer ready. Lock-free after the first Record of its
  // (route, status, tier) and of its tenant.
  void Record(Route route, int status, std::string_view tier, std::string_view tenant,
              std::chrono::nanoseconds duration);

  // Appends the three families above. Series appear once recorded; tenant="other" always.
  void WriteMetrics(MetricsWriter* out) const;

  // The duration histogram of one series; an empty snapshot (no bounds) before its first
  // Record. For tests and reports.
  HistogramSnapshot Durations(Route route, int status, std::string_view tier) const;
  // Answers with `status`, over all routes and tiers.
  uint64_t Responses(int status) const;
  // Requests counted under `tenant` ("other": the folded ones); 0 for a tenant not named.
  uint64_t TenantRequests(std::string_view tenant) const;

 private:
  // Status codes 100-599 have a slot each; the last slot is every other value.
  static constexpr int kMinCode = 100;
  static constexpr int kMaxCode = 599;
  static constexpr size_t kCodeSlots = kMaxCode - kMinCode + 2;
  static constexpr size_t kTierCount = 4;  // L1, L2, origin, ""
  static constexpr size_t kSeriesSlots = kRouteCount * kCodeSlots * kTierCount;

  struct Tenant {
    std::string name;
    size_t slot;  // its column in tenant_counts_
  };

  static size_t CodeSlot(int status);
  static std::string CodeLabel(size_t code_slot);  // "200", ..., "other"
  static size_t TierSlot(std::string_view tier);
  static size_t SeriesSlot(Route route, size_t code_slot, size_t tier_slot) {
    return (static_cast<size_t>(route) * kCodeSlots + code_slot) * kTierCount + tier_slot;
  }
  // The histogram of a series slot, created on first use.
  Histogram* SeriesAt(size_t slot) LOCKS_EXCLUDED(mu_);
  // The column of `tenant` in tenant_counts_ (other_slot_ when it is not named), naming it
  // when there is room.
  size_t TenantSlot(std::string_view tenant) LOCKS_EXCLUDED(mu_);
  // The named tenant's column, or SIZE_MAX; lock-free.
  size_t FindTenant(std::string_view tenant, size_t hash) const;
  uint64_t TenantCount(size_t slot) const;

  const size_t max_tenants_;
  const size_t other_slot_;  // == max_tenants_
  const size_t stripe_mask_;
  const size_t tenant_row_;  // counters per stripe, padded to kStripeAlignBytes

  // Series by SeriesSlot: null until its first Record, then never changed. A fixed table
  // rather than a map under a reader lock: finding a series is one indexed load, where a
  // shared mutex would make every serving thread write the lock's cache line per request.
  // 8 bytes per slot (64 KB); a histogram only for the series that occur.
  const std::unique_ptr<std::atomic<Histogram*>[]> series_;

  // Named tenants: an open-addressing table (at most half full) of pointers into
  // tenants_, filled under mu_ and read lock-free; entries are never removed.
  const size_t tenant_table_mask_;
  const std::unique_ptr<std::atomic<const Tenant*>[]> tenant_table_;
  std::atomic<bool> tenants_full_{false};  // max_tenants_ named: a new tenant is "other"
  // Per stripe, one request counter per tenant column (other last): (stripe_mask_ + 1)
  // rows of tenant_row_, aligned to kStripeAlignBytes.
  const AlignedCounters tenant_counts_;

  mutable Mutex mu_;  // creating series and naming tenants; never taken by Record after that
  std::vector<std::unique_ptr<Histogram>> histograms_ GUARDED_BY(mu_);  // owns series_
  std::vector<std::unique_ptr<Tenant>> tenants_ GUARDED_BY(mu_);        // in the order first seen
};

}  // namespace tempo::admin
