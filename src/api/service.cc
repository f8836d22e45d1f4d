// LayoutService: routing, validation order, ETag/304 and the error bodies.
#include "api/service.h"

#include <xxhash.h>

#include <cstdio>
#include <functional>
#include <thread>

#include "cache/read_scope.h"
#include "common/bug.h"
#include "common/json.h"
#include "common/time.h"
#include "select/select.h"

namespace tempo::api {
namespace {

constexpr std::string_view kV1Path = "/api/v1/tempo/layouts";
constexpr std::string_view kV2Path = "/api/v2/tempo/layouts";
constexpr std::string_view kHealthPath = "/healthz";
// A deferred request's fallback goes out this long after its deadline, if the
// pool has not answered by then.
constexpr std::chrono::milliseconds kFallbackSlack{5};
const ApiError kUnavailableError{503, "unavailable", "The content store cannot answer now."};

void AddHeader(http::Response* r, const char* name, std::string value) {
  r->headers.emplace_back(name, std::move(value));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// False for the answers that come from this instance's state or policy
// rather than from the page: unavailable, over the tenant's rate, another
// group's tenant, preview turned off (see ServiceOptions::observer).
bool SaysSomethingAboutContent(const http::Response& response) {
  switch (response.status) {
    case 503:
    case 429:
    case 421:
      return false;
    case 400:
      return !response.body.starts_with(R"({"error":{"code":"preview_disabled")");
    default:
      return true;
  }
}

}  // namespace

void SetError(const ApiError& error, http::Response* response) {
  response->status = error.status;
  response->headers.clear();
  AddHeader(response, "Content-Type", "application/json");
  AddHeader(response, "Cache-Control", "no-store");
  if (error.status == 405) AddHeader(response, "Allow", "GET");
  response->body.clear();
  response->body.append("{\"error\":{\"code\":");
  AppendJsonString(error.code, &response->body);
  response->body.append(",\"message\":");
  AppendJsonString(error.message, &response->body);
  response->body.append("}}");
}

std::string_view TierOf(const http::Response& response) {
  for (const auto& [name, value] : response.headers) {
    if (name == kTierHeader) return value;
  }
  return {};
}

std::string ComputeETag(std::string_view body) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "\"%016llx\"",
                static_cast<unsigned long long>(XXH3_64bits(body.data(), body.size())));
  return buf;
}

bool IfNoneMatchMatches(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = Trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (item == "*") return true;
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == etag) return true;
  }
  return false;
}

LayoutService::LayoutService(PageSource* pages, ServiceOptions options)
    : pages_(pages),
      options_(options),
      memo_(options.answer_memo_entries),
      pool_(options.wait_threads, options.max_waiting) {
  SetLimiter(options_.limiter);
}

void LayoutService::SetLimiter(std::shared_ptr<TenantLimiter> limiter) {
  MutexLock lock(&limiters_mu_);
  limiter_.store(limiter.get(), std::memory_order_release);
  if (limiter != nullptr) limiters_.push_back(std::move(limiter));
}

void LayoutService::Count(Counter counter) const {
  thread_local const size_t stripe = std::hash<std::thread::id>()(std::this_thread::get_id());
  stripes_[stripe % kStripes].counts[counter].fetch_add(1, std::memory_order_relaxed);
}

void LayoutService::CountResponse(int status, std::string_view tier) const {
  if (status == 200 || status == 304) {
    Count(status == 200 ? kOk : kNotModified);
    if (!tier.empty()) Count(tier == "L1" ? kL1 : tier == "L2" ? kL2 : kOrigin);
  } else if (status == 503) {
    Count(kUnavailable);
  } else if (status >= 400 && status < 500) {
    Count(kClientError);
    if (status == 421) Count(kWrongGroup);
    if (status == 429) Count(kRateLimited);
  }
}

ServiceStats LayoutService::Stats() const {
  uint64_t sums[kCounters] = {};
  for (const Stripe& stripe : stripes_) {
    for (int i = 0; i < kCounters; ++i) sums[i] += stripe.counts[i].load(std::memory_order_relaxed);
  }
  ServiceStats stats;
  stats.ok = sums[kOk];
  stats.not_modified = sums[kNotModified];
  stats.client_errors = sums[kClientError];
  stats.unavailable = sums[kUnavailable];
  stats.wrong_group = sums[kWrongGroup];
  stats.rate_limited = sums[kRateLimited];
  stats.from_l1 = sums[kL1];
  stats.from_l2 = sums[kL2];
  stats.from_origin = sums[kOrigin];
  stats.from_memo = sums[kMemo];
  return stats;
}

void LayoutService::Handle(const http::Request& request, http::Response* response) const {
  // Without a responder (a direct call) the answer must be given now.
  const Deadline deadline = std::chrono::steady_clock::now() + options_.deadline;
  const Evaluation evaluation{NowUnixNanos(), options_.allow_preview, /*limit=*/true};
  if (!Answer(request, evaluation, deadline, /*may_wait=*/request.responder == nullptr, response)) {
    Defer(request, deadline, response);
    return;
  }
  CountResponse(response->status, TierOf(*response));
  Observe(request, *response, evaluation.now);
}

void LayoutService::AnswerAt(std::string_view target, UnixNanos at, Deadline deadline,
                             http::Response* response) const {
  const http::Request request{"GET", target, "", nullptr};
  Answer(request, Evaluation{at, /*preview=*/true, /*limit=*/false, /*counted=*/false}, deadline,
         /*may_wait=*/true, response);
}

void LayoutService::Observe(const http::Request& request, const http::Response& response,
                            UnixNanos at) const {
  if (!options_.observer || !SaysSomethingAboutContent(response) || request.method != "GET") {
    return;
  }
  const std::string_view path = request.target.substr(0, request.target.find('?'));
  if (path != kV1Path && path != kV2Path) return;
  options_.observer(request, response, at);
}

void LayoutService::Defer(const http::Request& request, Deadline deadline,
                          http::Response* response) const {
  SetError(kUnavailableError, response);
  AddOwnGroup(response);
  // The pool answers at the deadline; the fallback, a little later, covers a
  // pool too busy to start the work in time.
  auto pending = request.responder->Defer(deadline + kFallbackSlack, *response);
  // The request's views die with this call: the task owns copies.
  auto task = [this, pending, deadline, method = std::string(request.method),
               target = std::string(request.target),
               if_none_match = std::string(request.if_none_match), shadow = request.shadow] {
    http::Response answer;
    http::Request copy{method, target, if_none_match, nullptr};
    copy.shadow = shadow;
    // The serving thread asked the limiter already; this thread keeps no memo.
    const Evaluation evaluation{NowUnixNanos(), options_.allow_preview, /*limit=*/false,
                                /*counted=*/true, /*memo=*/false};
    try {
      if (std::chrono::steady_clock::now() >= deadline) {
        SetError(kUnavailableError, &answer);
        AddOwnGroup(&answer);
      } else {
        Answer(copy, evaluation, deadline, /*may_wait=*/true, &answer);
      }
    } catch (...) {
      // As on a serving thread (http::Connection): a bug, answered 500.
      TEMPO_BUG(false, "a deferred request's work threw");
      SetError({500, "internal", "The request failed."}, &answer);
      AddOwnGroup(&answer);
    }
    // A late answer is dropped: the fallback (counted by the server) went out.
    // Counted (and observed) before it is sent, so that a client that has
    // its answer finds it in the metrics; and only if it is the answer sent.
    if (pending->Claim()) {
      CountResponse(answer.status, TierOf(answer));
      Observe(copy, answer, evaluation.now);
      pending->Send(std::move(answer));
    }
  };
  if (!pool_.Submit(std::move(task))) {
    // Too many requests wait already: answer now rather than queue.
    if (pending->Claim()) {
      CountResponse(response->status, "");
      pending->Send(*response);
    }
  }
}

void LayoutService::AddOwnGroup(http::Response* response) const {
  if (options_.tenant_groups != nullptr && response->status != 421) {
    AddHeader(response, kTenantGroupHeader, options_.tenant_groups->group());
  }
}

bool LayoutService::WrongGroup(const std::string& tenant, http::Response* response) const {
  const config::TenantGroupFilter* groups = options_.tenant_groups.get();
  if (groups == nullptr || groups->Serves(tenant)) return false;
  const std::optional<std::string_view> group = groups->GroupOf(tenant);
  if (!group.has_value()) {
    // No group serves it: as the edge answers such a tenant.
    SetError({404, "unknown_tenant", "No content exists for this tenant."}, response);
    return true;
  }
  SetError({421, "wrong_tenant_group",
            "Tenant '" + tenant + "' is served by tenant group '" + std::string(*group) + "'."},
           response);
  AddHeader(response, kTenantGroupHeader, std::string(*group));
  return true;
}

bool LayoutService::OverLimit(const std::string& tenant, http::Response* response) const {
  TenantLimiter* limiter = this->limiter();
  if (limiter == nullptr) return false;
  const int64_t retry_after = limiter->Admit(tenant);
  if (retry_after == 0) return false;
  SetError({429, "rate_limited",
            "Tenant '" + tenant + "' is over its request rate; retry after " +
                std::to_string(retry_after) + " s."},
           response);
  AddHeader(response, "Retry-After", std::to_string(retry_after));
  return true;
}

bool LayoutService::Answer(const http::Request& request, Evaluation evaluation, Deadline deadline,
                           bool may_wait, http::Response* response) const {
  if (!Route(request, evaluation, deadline, may_wait, response)) return false;
  AddOwnGroup(response);
  return true;
}

bool LayoutService::Route(const http::Request& request, Evaluation evaluation, Deadline deadline,
                          bool may_wait, http::Response* response) const {
  std::string_view target = request.target;
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query =
      q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  int api_version = 0;
  if (path == kV1Path) {
    api_version = 1;
  } else if (path == kV2Path) {
    api_version = 2;
  } else if (path != kHealthPath) {
    SetError({404, "not_found", "No such path."}, response);
    return true;
  }
  if (request.method != "GET") {
    SetError({405, "method_not_allowed", "Only GET is allowed here."}, response);
    return true;
  }
  if (api_version == 0) {
    response->status = 200;
    AddHeader(response, "Content-Type", "text/plain");
    AddHeader(response, "Cache-Control", "no-store");
    response->body = "ok";
    return true;
  }
  if (target.size() > http::kMaxUriBytes) {
    SetError({400, "uri_too_long", std::string(http::kUriTooLongMessage)}, response);
    return true;
  }
  return AnswerLayout(request, api_version, query, evaluation, deadline, may_wait, response);
}

bool LayoutService::AnswerLayout(const http::Request& request, int api_version,
                                 std::string_view query, Evaluation evaluation, Deadline deadline,
                                 bool may_wait, http::Response* response) const {
  // A query answered before on this thread need not be parsed: its memo
  // entry knows its tenant and slices. It is used below only if the slices
  // read now are the ones it was made from (answer_memo.h).
  const AnswerMemo::Key memo_key{api_version, evaluation.preview, query};
  const AnswerMemo::Entry* memo = evaluation.memo ? memo_.Find(memo_key) : nullptr;
  std::optional<PageRequest> page;
  if (memo == nullptr) {
    auto parsed = ParseLayoutQuery(query, api_version, QueryOptions{evaluation.preview});
    if (auto* error = std::get_if<ApiError>(&parsed)) {
      SetError(*error, response);
      return true;
    }
    page.emplace(std::move(std::get<PageRequest>(parsed)));
    // Before any cache or store read: a tenant of another group, or one
    // over its limit, costs this instance nothing more. (A memoized query's
    // tenant is served: the entry is a 200.)
    if (WrongGroup(page->tenant, response)) return true;
  }
  const std::string& tenant = memo != nullptr ? memo->tenant : page->tenant;
  if (evaluation.limit && OverLimit(tenant, response)) return true;
  std::optional<origin::PartitionKey> parsed_partition;
  std::optional<std::string_view> page_id;
  if (memo != nullptr) {
    if (memo->page_id) page_id = *memo->page_id;
  } else {
    parsed_partition.emplace(origin::PartitionKey{page->tenant, page->channel, page->page_type});
    if (page->page_id) page_id = *page->page_id;
  }
  const origin::PartitionKey& partition = memo != nullptr ? memo->partition : *parsed_partition;
  // Holds the slices (read in place from L1) until the response is
  // rendered; a wait for another request's load of a slice ends at this
  // request's deadline.
  cache::ReadScope scope(deadline);
  PageSlices slices;
  if (may_wait) {
    auto loaded = pages_->Get(partition, page_id, deadline, &scope);
    if (!loaded.ok()) {
      SetError(kUnavailableError, response);
      return true;
    }
    slices = *loaded;
  } else {
    auto cached = pages_->GetCached(partition, page_id, &scope);
    if (!cached.has_value()) return false;
    slices = *cached;
  }
  if (memo != nullptr && memo->AnswersFor(slices, evaluation.now)) {
    if (evaluation.counted) Count(kMemo);
    SetLayout(request, memo->tenant, memo->body, memo->etag, slices.tier, response);
    return true;
  }
  if (!page.has_value()) {
    // The memo's query, answered afresh: it parses as it did before.
    auto parsed = ParseLayoutQuery(query, api_version, QueryOptions{evaluation.preview});
    TEMPO_BUG(std::holds_alternative<PageRequest>(parsed), "a memoized query no longer parses");
    if (auto* error = std::get_if<ApiError>(&parsed)) {
      SetError(*error, response);
      return true;
    }
    page.emplace(std::move(std::get<PageRequest>(parsed)));
  }
  // A live record in the page makes its tenant known (§11.18); only an
  // empty page needs to ask.
  if (!slices.HasRecords()) {
    std::optional<Result<bool>> known;
    if (may_wait) {
      known = pages_->TenantKnown(page->tenant, deadline);
    } else {
      known = pages_->TenantKnownCached(page->tenant);
      if (!known.has_value()) return false;
    }
    if (!known->ok()) {
      SetError(kUnavailableError, response);
      return true;
    }
    if (!**known) {
      SetError({404, "unknown_tenant", "No content exists for this tenant."}, response);
      return true;
    }
  }
  const UnixNanos evaluated_at = page->at.value_or(evaluation.now);
  const select::Selection selection =
      select::Select(*page, *slices.type_slice, slices.page_slice, evaluated_at);
  response->body.clear();
  select::Render(*page, selection, &response->body);
  const std::string etag = ComputeETag(response->body);
  SetLayout(request, page->tenant, response->body, etag, slices.tier, response);
  // Only answers about a known tenant's records: an empty page's answer
  // also depends on whether the tenant is known, which no slice records.
  if (evaluation.memo && slices.HasRecords()) {
    Memoize(memo_key, *page, slices, evaluated_at, response->body, etag);
  }
  return true;
}

void LayoutService::SetLayout(const http::Request& request, std::string_view tenant,
                              std::string_view body, std::string_view etag, Tier tier,
                              http::Response* response) const {
  response->status = 200;
  response->tenant.assign(tenant);  // for the request metrics (a known tenant's answer)
  if (response->body.data() != body.data()) response->body.assign(body);
  response->headers.clear();
  // One allocation for all of them: Content-Type, Cache-Control,
  // X-Tempo-Cache, ETag and X-Tempo-Tenant-Group.
  response->headers.reserve(5);
  AddHeader(response, "Content-Type", "application/json");
  AddHeader(response, "Cache-Control", "private, max-age=0");
  AddHeader(response, kTierHeader, TierName(tier));
  if (!request.if_none_match.empty() && IfNoneMatchMatches(request.if_none_match, etag)) {
    // The body stays for the observer (the 304 stands for it); omit_body
    // keeps it off the wire.
    response->status = 304;
    response->omit_body = true;
  }
  AddHeader(response, "ETag", std::string(etag));
}

void LayoutService::Memoize(const AnswerMemo::Key& key, const PageRequest& page,
                            const PageSlices& slices, UnixNanos evaluated_at, std::string_view body,
                            std::string_view etag) const {
  AnswerMemo::Entry* entry = memo_.Admit(key);
  if (entry == nullptr) return;
  entry->SetSource(slices, evaluated_at);
  entry->tenant = page.tenant;
  entry->partition.tenant = page.tenant;
  entry->partition.channel = page.channel;
  entry->partition.page_type = page.page_type;
  entry->page_id = page.page_id;
  entry->at = page.at;
  entry->body.assign(body);
  entry->etag.assign(etag);
  memo_.Commit(key);
}

}  // namespace tempo::api
