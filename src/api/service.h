// LayoutService: the public listener's routes (SPEC §2, §11.5-6, §11.28-29).
//
// Routes GET /api/v1/tempo/layouts, GET /api/v2/tempo/layouts and GET
// /healthz; everything else is a JSON error. A layout request is validated
// (api/query.h), its page slices read from the cache tiers or the origin
// (api/page_source.h), selected and rendered (select/select.h), and answered
// with a strong ETag (304 on a matching If-None-Match).
//
// Every request has a deadline: no dependency keeps it waiting longer (then
// 503 unavailable, unless a cache tier holds the page). And no request that
// waits holds a serving thread: what L1 holds (fresh, or stale as the cache
// allows) is answered on the serving thread at once; a request that needs a
// load, or another request's load, is deferred (http::Responder) and run on
// a BlockingPool thread, while the serving thread goes on with other
// requests. So a hung origin or L2 node slows only the requests that need
// it, and those get their 503 at their deadline. Safe for concurrent use.
//
// Tenant groups (SPEC §9, config/tenant_groups.h): an instance of a group
// (ServiceOptions::tenant_groups) answers a valid layouts request for a
// tenant of another group with 421 wrong_tenant_group and that group in
// X-Tempo-Tenant-Group, and one for a tenant no group serves with 404
// unknown_tenant (as the edge does); both right after the query's
// validation (§11.6) and before any cache or store read, so such tenants
// cost no L1 space, L2 fill or origin read. Every other answer of a grouped
// instance carries X-Tempo-Tenant-Group with its own group.
//
// Per-tenant limits (ServiceOptions::limiter, api/tenant_limiter.h): after
// the group check and before any cache read, a request over its tenant's
// rate is answered 429 rate_limited with Retry-After. The order of a layouts
// request's checks is therefore: path/method, URI length, the query
// (§11.6), tenant group (421/404), rate limit (429), then the tiers and the
// unknown-tenant check (404).
//
// A query asked again on the same serving thread is answered from the
// answer memo (api/answer_memo.h, ServiceOptions::answer_memo_entries)
// without being parsed, selected or rendered, once its slices, read from
// the tiers as for any request, prove to be the ones the memoized answer
// was made from; the limiter and the tiers see it as any other request.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "api/answer_memo.h"
#include "api/blocking_pool.h"
#include "api/page_source.h"
#include "api/query.h"
#include "api/tenant_limiter.h"
#include "common/mutex.h"
#include "common/time.h"
#include "config/tenant_groups.h"
#include "http/server.h"

namespace tempo::api {

struct ServiceOptions {
  bool allow_preview = false;  // honour `at` (SPEC §2)
  // The longest a request waits on L2 and the origin together.
  std::chrono::milliseconds deadline{50};
  // Threads that run the requests that must wait (BlockingPool): at most
  // this many wait at once, each at most `deadline`.
  int wait_threads = 64;
  // Deferred requests that may queue for those threads; more get 503 at once.
  size_t max_waiting = 4096;
  // When set, called with every answered GET of a layouts path (200, 304,
  // 4xx) on the thread that answered it, after the answer is made: `at` is
  // the instant it was evaluated at. Answers that say nothing about content
  // are left out: a 503, and the answers of this instance's own policy (429
  // rate_limited, 421 wrong_tenant_group, 400 preview_disabled), which a
  // candidate that evaluates the same request (shadow/receiver.h) would not
  // give. A 304's response keeps the body it stands for (it is not sent).
  // For shadow sending (shadow/sender.h): it must be quick and never block.
  std::function<void(const http::Request& request, const http::Response& response, UnixNanos at)>
      observer;
  // The instance's tenant group and which tenants it serves (see the top of
  // this file); null: every tenant, and no X-Tempo-Tenant-Group header.
  std::shared_ptr<const config::TenantGroupFilter> tenant_groups;
  // Per-tenant request limits of the public listener (not of AnswerAt);
  // null: none. LayoutService::SetLimiter replaces it live.
  std::shared_ptr<TenantLimiter> limiter;
  // Answers of repeated queries kept per serving thread (api/answer_memo.h;
  // not on the wait_threads); 0: none.
  size_t answer_memo_entries = 1024;
};

// The header naming a tenant group: on a 421 the tenant's, on every other
// answer of a grouped instance the instance's own.
inline constexpr const char* kTenantGroupHeader = "X-Tempo-Tenant-Group";

// The header naming the tier that answered a layout: "L1", "L2" or "origin".
inline constexpr const char* kTierHeader = "X-Tempo-Cache";

// Responses since the service was created.
struct ServiceStats {
  uint64_t ok = 0;             // 200 layouts
  uint64_t not_modified = 0;   // 304
  uint64_t client_errors = 0;  // 4xx of any route
  uint64_t unavailable = 0;    // 503: no tier could answer in time
  uint64_t wrong_group = 0;    // 421 (also in client_errors)
  uint64_t rate_limited = 0;   // 429 (also in client_errors)
  // Layouts (200 and 304) by the tier that served them (X-Tempo-Cache).
  uint64_t from_l1 = 0, from_l2 = 0, from_origin = 0;
  // Of those, answered from the answer memo (its slices read as usual).
  uint64_t from_memo = 0;
};

class LayoutService {
 public:
  // REQUIRES: pages outlives the service; may be null for a service that
  // only answers routing errors and /healthz (tests).
  LayoutService(PageSource* pages, ServiceOptions options);

  LayoutService(const LayoutService&) = delete;
  LayoutService& operator=(const LayoutService&) = delete;

  // Answers one request (the http::Handler of the public listener): at once,
  // or, when it must wait and the request has a responder, later (see the
  // top of this file).
  void Handle(const http::Request& request, http::Response* response) const;

  // Answers a GET of `target` (origin form) as the public listener would,
  // evaluated at `at` (an `at` in the query wins, and is honoured whatever
  // allow_preview says), on the calling thread, waiting on L2 and the origin
  // up to `deadline`. For callers that are not serving threads (the shadow
  // receiver's workers); not counted in Stats, not observed.
  void AnswerAt(std::string_view target, UnixNanos at, Deadline deadline,
                http::Response* response) const;

  ServiceStats Stats() const;

  // Replaces the per-tenant limiter (on a configuration reload); null turns
  // limits off. Requests after the call use the new one, whose buckets
  // start full. The old one stays alive with the service (requests in
  // flight may still hold it; a reload is rare, and a limiter is small).
  // Thread-safe.
  void SetLimiter(std::shared_ptr<TenantLimiter> limiter);
  // The limiter in use, or null. Valid as long as the service.
  TenantLimiter* limiter() const { return limiter_.load(std::memory_order_acquire); }
  BlockingPoolStats WaitingStats() const { return pool_.Stats(); }

 private:
  // Fills `response`, waiting on L2 and the origin until `deadline` when
  // `may_wait`; otherwise returns false (nothing filled) when answering
  // would mean waiting at all.
  // `now`: the instant to evaluate at unless the query has `at`; `preview`:
  // whether `at` is honoured.
  // `limit`: whether the tenant limiter is asked (the public listener's
  // requests, once each).
  struct Evaluation {
    UnixNanos now = 0;
    bool preview = false;
    bool limit = false;
    // Whether a memo hit is counted in Stats (not for AnswerAt).
    bool counted = true;
    // Whether the answer memo is used: on the serving threads. The
    // BlockingPool's threads (wait_threads of them) would each fill a
    // table of their own with answers the serving threads then make and
    // keep again: 64 tables of up to answer_memo_entries answers each,
    // which grew tempo serve's RSS by 7 MiB a minute under a publish stream
    // (docs/reliability.md, "Where the serve's memory goes").
    bool memo = true;
  };
  bool Answer(const http::Request& request, Evaluation evaluation, Deadline deadline, bool may_wait,
              http::Response* response) const;
  bool Route(const http::Request& request, Evaluation evaluation, Deadline deadline, bool may_wait,
             http::Response* response) const;
  // The group check (true and `response` filled when this instance does not
  // serve `tenant`) and the rate limit (true and a 429).
  bool WrongGroup(const std::string& tenant, http::Response* response) const;
  bool OverLimit(const std::string& tenant, http::Response* response) const;
  // Adds X-Tempo-Tenant-Group with the own group, if grouped (not to a 421,
  // which names the tenant's).
  void AddOwnGroup(http::Response* response) const;
  bool AnswerLayout(const http::Request& request, int api_version, std::string_view query,
                    Evaluation evaluation, Deadline deadline, bool may_wait,
                    http::Response* response) const;
  // Fills a 200 layout answer (or its 304 for a matching If-None-Match).
  void SetLayout(const http::Request& request, std::string_view tenant, std::string_view body,
                 std::string_view etag, Tier tier, http::Response* response) const;
  // Offers a fresh 200 answer to the memo.
  void Memoize(const AnswerMemo::Key& key, const PageRequest& page, const PageSlices& slices,
               UnixNanos evaluated_at, std::string_view body, std::string_view etag) const;
  // Calls the observer, if any, for an answered request.
  void Observe(const http::Request& request, const http::Response& response, UnixNanos at) const;
  // Runs Answer on the pool, and sends its response through the responder.
  void Defer(const http::Request& request, Deadline deadline, http::Response* response) const;
  // Counts a response that went out: its status, and for a layout the tier
  // that served it (X-Tempo-Cache, empty for others).
  void CountResponse(int status, std::string_view tier) const;

  enum Counter {
    kOk,
    kNotModified,
    kClientError,
    kUnavailable,
    kL1,
    kL2,
    kOrigin,
    kWrongGroup,
    kRateLimited,
    kMemo,
    kCounters
  };
  // Counters striped over cache lines so that serving threads rarely share
  // one; a thread always uses the same stripe.
  struct alignas(64) Stripe {
    std::atomic<uint64_t> counts[kCounters] = {};
  };
  static constexpr size_t kStripes = 16;
  void Count(Counter counter) const;

  PageSource* const pages_;
  const ServiceOptions options_;
  const AnswerMemo memo_;
  // The limiter in use (one load per request), and every one ever set,
  // which keeps them alive.
  std::atomic<TenantLimiter*> limiter_{nullptr};
  Mutex limiters_mu_;
  std::vector<std::shared_ptr<TenantLimiter>> limiters_ GUARDED_BY(limiters_mu_);
  mutable Stripe stripes_[kStripes];
  mutable BlockingPool pool_;
};

// Fills `response` with the JSON error body of SPEC §2 and the headers of §11.28.
void SetError(const ApiError& error, http::Response* response);

// The tier a layout answer names in kTierHeader ("L1", "L2", "origin"), or
// empty for any other answer.
std::string_view TierOf(const http::Response& response);

// The strong ETag of §11.29 for a body: 16 hex digits of XXH3-64, in quotes.
std::string ComputeETag(std::string_view body);

// True when an If-None-Match header value matches `etag` (§11.29: a comma
// list, W/ ignored, * matches anything).
bool IfNoneMatchMatches(std::string_view header, std::string_view etag);

}  // namespace tempo::api
