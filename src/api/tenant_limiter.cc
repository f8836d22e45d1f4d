// TenantLimiter: GCRA buckets, leased to serving threads in chunks.
#include "api/tenant_limiter.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>
#include <vector>

namespace tempo::api {
namespace {

constexpr int64_t kSecondNs = 1'000'000'000;
constexpr int64_t kMaxChunk = 64;
constexpr int64_t kChunkDivisor = 128;  // c = burst / 128, within [1, kMaxChunk]
constexpr size_t kMaxLocalTenants = 1024;
constexpr size_t kLocalLimiters = 4;  // limiters a thread keeps tables for
constexpr int64_t kSweepEveryNs = 100'000'000;

std::atomic<uint64_t> next_limiter_id{1};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

config::TenantLimit Filled(config::TenantLimit limit) {
  if (limit.rate > 0 && limit.burst <= 0) limit.burst = limit.rate;
  return limit;
}

}  // namespace

struct TenantLimiter::Bucket {
  explicit Bucket(config::TenantLimit limit)
      : interval_ns(std::max<int64_t>(1, kSecondNs / limit.rate)),
        burst_ns(limit.burst * interval_ns),
        chunk(std::clamp<int64_t>(limit.burst / kChunkDivisor, 1, kMaxChunk)) {}

  // Takes up to `want` tokens at `now`: how many it took. When none, *wait
  // is how long until one is there. A refusal writes nothing.
  int64_t Take(int64_t now, int64_t want, int64_t* wait) {
    int64_t cur = tat.load(std::memory_order_relaxed);
    for (;;) {
      const int64_t base = std::max(cur, now);
      const int64_t available = (now + burst_ns - base) / interval_ns;
      if (available <= 0) {
        *wait = base + interval_ns - burst_ns - now;
        return 0;
      }
      const int64_t k = std::min(want, available);
      if (tat.compare_exchange_weak(cur, base + k * interval_ns, std::memory_order_relaxed)) {
        return k;
      }
    }
  }
  // True when the bucket is full at `now` (it behaves as a new one).
  bool Full(int64_t now) const { return tat.load(std::memory_order_relaxed) <= now; }

  const int64_t interval_ns;  // one token's worth of time
  const int64_t burst_ns;     // burst * interval_ns
  const int64_t chunk;        // tokens a thread leases at once
  // The theoretical arrival time: the bucket holds burst - (tat - now) /
  // interval tokens. The lowest value stands for a full bucket.
  std::atomic<int64_t> tat{std::numeric_limits<int64_t>::min() / 4};
  std::atomic<bool> retired{false};  // dropped from the limiter's table
};

struct TenantLimiter::Lease {
  std::shared_ptr<Bucket> bucket;  // null: the tenant is not limited
  int64_t tokens = 0;              // leased, not yet spent
};

struct TenantLimiter::LocalTable {
  uint64_t owner = 0;  // the limiter's id_
  std::unordered_map<std::string, Lease, StringHash, std::equal_to<>> leases;
};

TenantLimiter::TenantLimiter(TenantLimiterOptions options)
    : options_(std::move(options)),
      enabled_(options_.default_limit.rate > 0 ||
               std::any_of(options_.overrides.begin(), options_.overrides.end(),
                           [](const auto& o) { return o.second.rate > 0; })),
      id_(next_limiter_id.fetch_add(1)) {
  if (options_.default_limit.rate > 0) {
    overflow_ = std::make_shared<Bucket>(Filled(options_.default_limit));
  }
}

int64_t TenantLimiter::Now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

config::TenantLimit TenantLimiter::LimitOf(std::string_view tenant) const {
  if (auto it = options_.overrides.find(std::string(tenant)); it != options_.overrides.end()) {
    return Filled(it->second);
  }
  return Filled(options_.default_limit);
}

TenantLimiter::LocalTable& TenantLimiter::Local() const {
  // A thread keeps tables for its last few limiters (one in a server; tests
  // make more), the most recent first.
  thread_local std::vector<LocalTable> tables;
  if (!tables.empty() && tables.front().owner == id_) return tables.front();
  auto it = std::find_if(tables.begin(), tables.end(),
                         [this](const LocalTable& t) { return t.owner == id_; });
  if (it == tables.end()) {
    if (tables.size() >= kLocalLimiters) tables.pop_back();
    tables.insert(tables.begin(), LocalTable{id_, {}});
  } else {
    std::rotate(tables.begin(), it, it + 1);
  }
  return tables.front();
}

std::shared_ptr<TenantLimiter::Bucket> TenantLimiter::BucketFor(std::string_view tenant,
                                                                int64_t now) {
  const config::TenantLimit limit = LimitOf(tenant);
  if (limit.rate <= 0) return nullptr;
  MutexLock lock(&mu_);
  if (auto it = buckets_.find(std::string(tenant)); it != buckets_.end()) return it->second;
  // Tenants of the file are few: only the others count against max_tenants.
  const bool listed = options_.overrides.count(std::string(tenant)) > 0;
  if (!listed && buckets_.size() >= options_.max_tenants && now - last_sweep_ >= kSweepEveryNs) {
    // At most once per kSweepEveryNs: a flood of new tenant names must not
    // make each of its requests scan the table.
    last_sweep_ = now;
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      if (it->second->Full(now)) {
        it->second->retired.store(true, std::memory_order_relaxed);
        it = buckets_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!listed && buckets_.size() >= options_.max_tenants) {
    // Too many tenants are busy at once: the rest share one bucket (a tenant
    // without an override has the default limit, so overflow_ is set).
    return overflow_;
  }
  auto bucket = std::make_shared<Bucket>(limit);
  buckets_.emplace(std::string(tenant), bucket);
  return bucket;
}

int64_t TenantLimiter::Refill(std::string_view tenant, Lease* lease) {
  const int64_t now = Now();
  if (lease->bucket->retired.load(std::memory_order_relaxed)) {
    lease->bucket = BucketFor(tenant, now);
    if (lease->bucket == nullptr) return 0;
  }
  int64_t wait = 0;
  const int64_t taken = lease->bucket->Take(now, lease->bucket->chunk, &wait);
  if (taken == 0) {
    limited_.fetch_add(1, std::memory_order_relaxed);
    return std::max<int64_t>(1, (wait + kSecondNs - 1) / kSecondNs);
  }
  lease->tokens = taken - 1;
  return 0;
}

int64_t TenantLimiter::Admit(std::string_view tenant) {
  if (!enabled_) return 0;
  LocalTable& local = Local();
  auto it = local.leases.find(tenant);
  if (it == local.leases.end()) {
    if (local.leases.size() >= kMaxLocalTenants) local.leases.clear();
    Lease lease{BucketFor(tenant, Now()), 0};
    it = local.leases.emplace(std::string(tenant), std::move(lease)).first;
  }
  Lease& lease = it->second;
  if (lease.bucket == nullptr) return 0;
  if (lease.tokens > 0) {
    --lease.tokens;
    return 0;
  }
  return Refill(tenant, &lease);
}

TenantLimiterStats TenantLimiter::Stats() const {
  MutexLock lock(&mu_);
  return TenantLimiterStats{limited_.load(std::memory_order_relaxed), buckets_.size()};
}

}  // namespace tempo::api
