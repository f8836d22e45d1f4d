// TenantLimiter: a token bucket per tenant (`tempo serve --tenant-rate N
// --tenant-burst N`, overrides in the YAML's `tenant_limits`), checked on
// the serving threads for every layout request; over its limit a request is
// answered 429 rate_limited with Retry-After.
//
// The bucket is the GCRA form of a token bucket: one atomic instant per
// tenant, the "theoretical arrival time" (TAT). The bucket holds
// burst - (TAT - now) / interval tokens (interval = 1 s / rate), so taking k
// tokens is one compare-and-swap of TAT to max(TAT, now) + k * interval,
// allowed while that stays within burst * interval of now. Refusing needs
// only a load: a tenant over its limit writes nothing shared either.
//
// The hot path costs no shared write for a tenant under its limit: each
// serving thread leases tokens from the shared bucket in chunks of
// c = clamp(burst / 128, 1, 64) and spends them from a thread-local table
// (one hash lookup of the tenant, one decrement), so a thread takes the
// bucket's cache line once per c requests. What that costs in accuracy:
//   - admitted in any interval t <= burst + rate * t + T * (c - 1), for T
//     serving threads (tokens leased before the interval and spent in it);
//     with T <= 128 that is less than one burst more, and exact for T = 1
//     or c = 1 (a burst under 256);
//   - a request is refused only when its thread's lease is empty and the
//     bucket holds no whole token, while other threads may hold up to
//     (T - 1) * (c - 1) leased tokens: the burst seen by one thread is at worst
//     that much smaller. The rate is never lowered (the bucket refills by
//     time, whatever the leases hold), and every token a thread leases is
//     spent by that thread's next requests for the tenant.
// A tenant with no limit (no --tenant-rate and no override) is remembered
// in the thread's table as unlimited: one hash lookup, nothing else.
//
// Memory is bounded whatever tenants requests name (the limiter runs before
// the unknown-tenant check, which needs the origin): besides the tenants of
// `overrides`, at most max_tenants buckets; when full, buckets that are full again (looked for at
// most every 100 ms) (idle tenants: a full bucket behaves as a new one) are dropped, and if none
// is, the new tenant shares one overflow bucket with the default limit. A thread's table holds at
// most 1024 tenants (it is emptied when full; its leases are then lost, which can only refuse a
// little early).
//
// Safe for concurrent use.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/mutex.h"
#include "config/tenant_limits.h"

namespace tempo::api {

struct TenantLimiterOptions {
  // The limit of tenants without an override; rate 0: they are not limited.
  config::TenantLimit default_limit;
  // Per-tenant limits (config/tenant_limits.h).
  std::map<std::string, config::TenantLimit> overrides;
  // The monotonic clock, in nanoseconds; empty: std::chrono::steady_clock.
  // Tests inject a fake one.
  std::function<int64_t()> clock;
  // Buckets held at once (see the top of this file).
  size_t max_tenants = 10'000;
};

struct TenantLimiterStats {
  uint64_t limited = 0;  // requests refused
  size_t tenants = 0;    // buckets held now
};

class TenantLimiter {
 public:
  explicit TenantLimiter(TenantLimiterOptions options);
  TenantLimiter(const TenantLimiter&) = delete;
  TenantLimiter& operator=(const TenantLimiter&) = delete;

  // True when some tenant has a limit: without one, the limiter need not be
  // asked.
  bool enabled() const { return enabled_; }

  // Takes one token of `tenant`'s bucket: 0 when the request may go on,
  // else the whole seconds (>= 1) until the bucket holds a token again (the
  // Retry-After).
  int64_t Admit(std::string_view tenant);

  // The limit that applies to `tenant` (rate 0: none), its burst filled in.
  config::TenantLimit LimitOf(std::string_view tenant) const;

  TenantLimiterStats Stats() const;

 private:
  struct Bucket;
  struct Lease;
  struct LocalTable;

  int64_t Now() const;
  // The tenant's bucket, created when new; null for an unlimited tenant.
  std::shared_ptr<Bucket> BucketFor(std::string_view tenant, int64_t now) LOCKS_EXCLUDED(mu_);
  // Leases a chunk for an empty lease and spends one token of it.
  int64_t Refill(std::string_view tenant, Lease* lease);
  // This thread's table of leases for this limiter.
  LocalTable& Local() const;

  const TenantLimiterOptions options_;
  const bool enabled_;
  const uint64_t id_;  // tells thread-local tables of limiters apart
  std::atomic<uint64_t> limited_{0};
  mutable Mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Bucket>> buckets_ GUARDED_BY(mu_);
  int64_t last_sweep_ GUARDED_BY(mu_) = std::numeric_limits<int64_t>::min() / 2;
  std::shared_ptr<Bucket> overflow_;  // for tenants past max_tenants; null when unlimited
};

}  // namespace tempo::api
