// Tests for LayoutService routing (§11.5-6, §11.28) and ETag handling (§11.29).
#include "api/service.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cache/cache_test_util.h"
#include "events/events.h"
#include "origin/rocks_origin.h"
#include "testing/temp_dir.h"

namespace tempo::api {
namespace {

std::string Header(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

http::Response Call(const LayoutService& s, std::string_view method, std::string_view target) {
  http::Response r;
  s.Handle(http::Request{method, target, ""}, &r);
  return r;
}

// Routing errors are decided before the origin is touched, so none is needed.
TEST(LayoutService, Rule28_UnknownPathsAre404) {
  LayoutService s(nullptr, {});
  for (const char* t : {"/", "/api/v3/tempo/layouts", "/api/v2/tempo/layouts/",
                        "/API/v2/tempo/layouts", "/api/v2/tempo/Layouts?tenant=x"}) {
    http::Response r = Call(s, "GET", t);
    EXPECT_EQ(r.status, 404) << t;
    EXPECT_NE(r.body.find("\"not_found\""), std::string::npos);
    EXPECT_EQ(Header(r, "Content-Type"), "application/json");
    EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  }
}

TEST(LayoutService, Rule28_NonGetIs405WithAllow) {
  LayoutService s(nullptr, {});
  for (const char* m : {"HEAD", "POST", "PUT", "DELETE", "get"}) {
    http::Response r = Call(s, m, "/api/v1/tempo/layouts?tenant=a");
    EXPECT_EQ(r.status, 405) << m;
    EXPECT_EQ(Header(r, "Allow"), "GET");
    EXPECT_NE(r.body.find("\"method_not_allowed\""), std::string::npos);
  }
  EXPECT_EQ(Call(s, "POST", "/healthz").status, 405);
}

TEST(LayoutService, Healthz) {
  LayoutService s(nullptr, {});
  http::Response r = Call(s, "GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
}

TEST(LayoutService, Rule5_UriTooLongAfterPathCheck) {
  LayoutService s(nullptr, {});
  std::string target = "/api/v2/tempo/layouts?x=";
  target.resize(8193, 'a');
  http::Response r = Call(s, "GET", target);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"uri_too_long\""), std::string::npos);
  // The same length on an unknown path is a 404: the path check comes first.
  std::string other = "/nope?x=";
  other.resize(9000, 'a');
  EXPECT_EQ(Call(s, "GET", other).status, 404);
}

TEST(ETag, Rule29_SixteenHexDigitsInQuotes) {
  const std::string etag = ComputeETag("{\"modules\":[]}");
  ASSERT_EQ(etag.size(), 18u);
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(etag.back(), '"');
  for (size_t i = 1; i < 17; ++i) EXPECT_TRUE(isxdigit(static_cast<unsigned char>(etag[i])));
  EXPECT_EQ(etag, ComputeETag("{\"modules\":[]}"));
  EXPECT_NE(etag, ComputeETag("{\"modules\":[1]}"));
}

TEST(ETag, Rule29_IfNoneMatchListWeakAndStar) {
  const std::string etag = "\"0123456789abcdef\"";
  EXPECT_TRUE(IfNoneMatchMatches(etag, etag));
  EXPECT_TRUE(IfNoneMatchMatches("W/" + etag, etag));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\", " + etag + " ,\"y\"", etag));
  EXPECT_TRUE(IfNoneMatchMatches("*", etag));
  EXPECT_FALSE(IfNoneMatchMatches("\"0123456789abcdee\"", etag));
  EXPECT_FALSE(IfNoneMatchMatches("", etag));
}

// A service over a real RocksDB origin in a temporary directory.
class ServiceWithStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto origin = origin::OpenRocksOrigin(dir_.path());
    ASSERT_TRUE(origin.ok()) << origin.status().ToString();
    origin_ = std::move(origin).value();
    PageSourceOptions page_options;
    page_options.origin.probe_interval = std::chrono::milliseconds(0);
    page_options.l1.clock = clock_.Fn();
    pages_ = std::make_unique<PageSource>(origin_.get(), page_options);
    ServiceOptions options;
    options.allow_preview = true;
    options.deadline = std::chrono::seconds(5);  // sanitizers, shared cores
    service_ = std::make_unique<LayoutService>(pages_.get(), options);
  }
  void TearDown() override {
    service_.reset();
    pages_.reset();
    origin_.reset();
  }
  void Publish(std::string_view kind, std::string_view record) {
    const std::string line = std::string(R"({"schema":1,"kind":")") + std::string(kind) +
                             R"(","op":"upsert","record":)" + std::string(record) + "}";
    auto event = events::DecodeEvent(line);
    ASSERT_TRUE(event.ok()) << event.status().ToString();
    // As `tempo sync` and the invalidation listener would: apply, then
    // invalidate what changed.
    std::vector<origin::SliceKey> touched;
    ASSERT_TRUE(origin_->Apply(*event, &touched).ok());
    for (const origin::SliceKey& slice : touched) {
      pages_->InvalidateSlice(slice.partition, slice.scope);
    }
  }
  std::string Body(std::string_view target) {
    http::Response r = Call(*service_, "GET", target);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }

  // L1's clock (L1Options::clock): TTLs pass when a test advances it.
  cache::testing::FakeClock clock_;
  ::tempo::testing::TempDir dir_{"tempo-service-test"};
  std::unique_ptr<origin::Origin> origin_;
  std::unique_ptr<PageSource> pages_;
  std::unique_ptr<LayoutService> service_;
};

constexpr std::string_view kPage = "/api/v1/tempo/layouts?tenant=T&channel=web&pageType=home";

TEST_F(ServiceWithStore, Step1_UnknownTenantIs404) {
  http::Response r = Call(*service_, "GET", kPage);
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"unknown_tenant\""), std::string::npos);
  // A module with no channels still makes its tenant known (rule 16).
  // It touches no slice, so no invalidation says so: the remembered
  // "unknown" expires within a second.
  Publish("module",
          R"({"id":"m","tenant":"T","channels":[],"pageType":"home","zone":"z","version":1})");
  EXPECT_EQ(Call(*service_, "GET", kPage).status, 404);  // still remembered
  clock_.Advance(std::chrono::milliseconds(1001));
  // Past its TTL the answer is served stale while a background refresh, a
  // real thread, reloads it: poll (bounded) for that.
  http::Response known = Call(*service_, "GET", kPage);
  for (int i = 0; i < 300 && known.status == 404; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    known = Call(*service_, "GET", kPage);
  }
  EXPECT_EQ(known.status, 200);
  EXPECT_EQ(known.body, R"({"modules":[]})");
}

TEST_F(ServiceWithStore, CountsResponsesAndTiers) {
  Publish("module",
          R"({"id":"a","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1})");
  EXPECT_EQ(Call(*service_, "GET", kPage).status, 200);  // origin
  EXPECT_EQ(Call(*service_, "GET", kPage).status, 200);  // L1
  EXPECT_EQ(Call(*service_, "GET", "/api/v1/tempo/layouts?tenant=nobody&channel=web&pageType=home")
                .status,
            404);
  EXPECT_EQ(Call(*service_, "GET", "/nope").status, 404);
  const ServiceStats stats = service_->Stats();
  EXPECT_EQ(stats.ok, 2u);
  EXPECT_EQ(stats.client_errors, 2u);
  EXPECT_EQ(stats.unavailable, 0u);
  EXPECT_EQ(stats.from_origin, 1u);
  EXPECT_EQ(stats.from_l1, 1u);
  EXPECT_EQ(stats.from_l2, 0u);
}

TEST_F(ServiceWithStore, Step2_ChannelFilter) {
  Publish("module",
          R"({"id":"w","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1})");
  Publish("module",
          R"({"id":"i","tenant":"T","channels":["ios"],"pageType":"home","zone":"z","version":2})");
  EXPECT_EQ(
      Body(kPage),
      R"({"modules":[{"id":"w","type":"","priority":0,"version":1,"content":null,"zone":"z"}]})");
}

TEST_F(ServiceWithStore, Step6_ExpoOverlayForcedVariant) {
  Publish("module",
          R"({"id":"a","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1})");
  Publish("experiment",
          R"({"id":"e","tenant":"T","channels":["web"],"pageType":"home","version":5,)"
          R"("variants":[{"key":"control"},{"key":"B","remove":["a"]}]})");
  const std::string v2 = "/api/v2/tempo/layouts?tenant=T&channel=web&pageType=home";
  EXPECT_EQ(Body(v2 + "&variant=e:B"),
            R"({"tenant":"T","channel":"web","pageType":"home","version":5,)"
            R"("experiments":[{"id":"e","variant":"B"}],"zones":[]})");
  EXPECT_EQ(Body(v2 + "&variant=e:control"),
            R"({"tenant":"T","channel":"web","pageType":"home","version":5,)"
            R"("experiments":[{"id":"e","variant":"control"}],"zones":[{"zone":"z","modules":[)"
            R"({"id":"a","type":"","priority":0,"version":1,"content":null}]}]})");
}

TEST_F(ServiceWithStore, Rule29_EtagAnd304) {
  Publish("module",
          R"({"id":"a","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1})");
  http::Response first = Call(*service_, "GET", kPage);
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(Header(first, "X-Tempo-Cache"), "origin");
  const std::string etag = Header(first, "ETag");
  EXPECT_EQ(etag, ComputeETag(first.body));
  http::Response again;
  service_->Handle(http::Request{"GET", kPage, etag}, &again);
  EXPECT_EQ(Header(again, "X-Tempo-Cache"), "L1");  // the miss above filled L1
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.omit_body);
  EXPECT_EQ(Header(again, "ETag"), etag);
  EXPECT_EQ(Header(again, "Cache-Control"), "private, max-age=0");
}

// A responder that records the deferral and waits for its answer.
class RecordingResponder final : public http::Responder {
 public:
  class Pending final : public http::PendingResponse {
   public:
    bool Send(http::Response response) override {
      std::lock_guard<std::mutex> lock(mu);
      answer = std::move(response);
      cv.notify_all();
      return true;
    }
    bool Claim() override { return true; }
    std::optional<http::Response> Wait() {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait_for(lock, std::chrono::seconds(30), [&] { return answer.has_value(); });
      return answer;
    }
    std::mutex mu;
    std::condition_variable cv;
    std::optional<http::Response> answer;
  };

  std::shared_ptr<http::PendingResponse> Defer(std::chrono::steady_clock::time_point deadline,
                                               http::Response fallback) override {
    pending = std::make_shared<Pending>();
    this->deadline = deadline;
    this->fallback = std::move(fallback);
    return pending;
  }

  std::shared_ptr<Pending> pending;
  std::chrono::steady_clock::time_point deadline;
  http::Response fallback;
};

TEST_F(ServiceWithStore, WhatWouldWaitIsDeferredWhatL1HoldsIsNot) {
  Publish("module",
          R"({"id":"a","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1})");
  RecordingResponder responder;
  http::Response response;
  const auto before = std::chrono::steady_clock::now();
  service_->Handle(http::Request{"GET", kPage, "", &responder}, &response);
  // Not in L1: deferred, with a 503 fallback a little after the deadline.
  ASSERT_NE(responder.pending, nullptr);
  EXPECT_EQ(responder.fallback.status, 503);
  EXPECT_NE(responder.fallback.body.find("\"unavailable\""), std::string::npos);
  EXPECT_GE(responder.deadline, before + std::chrono::seconds(5));
  auto answer = responder.pending->Wait();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(Header(*answer, "X-Tempo-Cache"), "origin");
  // Now in L1: answered at once, on this thread.
  RecordingResponder again;
  http::Response hit;
  service_->Handle(http::Request{"GET", kPage, "", &again}, &hit);
  EXPECT_EQ(again.pending, nullptr);
  EXPECT_EQ(hit.status, 200);
  EXPECT_EQ(Header(hit, "X-Tempo-Cache"), "L1");
  EXPECT_EQ(hit.body, answer->body);
  // Routing errors and /healthz never wait either.
  RecordingResponder health;
  http::Response ok;
  service_->Handle(http::Request{"GET", "/healthz", "", &health}, &ok);
  EXPECT_EQ(health.pending, nullptr);
  EXPECT_EQ(ok.body, "ok");
  // The deferred answer is counted once sent, on the pool's thread: poll
  // (bounded) for it.
  for (int i = 0; i < 3000 && service_->Stats().from_origin == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const ServiceStats stats = service_->Stats();
  EXPECT_EQ(stats.from_origin, 1u);
  EXPECT_EQ(stats.from_l1, 1u);
  EXPECT_EQ(service_->WaitingStats().tasks, 1u);
}

// The shadow receiver's entry point: the public code, at a given instant,
// whatever allow_preview says; an `at` in the query still wins.
TEST_F(ServiceWithStore, AnswerAtEvaluatesAtTheGivenInstant) {
  Publish("module",
          R"({"id":"a","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1,)"
          R"("schedule":{"start":"2026-11-20T00:00:00Z","end":"2026-12-01T00:00:00Z"}})");
  const LayoutService strict(pages_.get(), ServiceOptions{});  // no preview
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  http::Response inside, outside, query_at;
  strict.AnswerAt(kPage, *ParseRfc3339("2026-11-25T00:00:00Z"), deadline, &inside);
  strict.AnswerAt(kPage, *ParseRfc3339("2026-12-02T00:00:00Z"), deadline, &outside);
  strict.AnswerAt(std::string(kPage) + "&at=2026-11-21T00:00:00Z",
                  *ParseRfc3339("2026-12-02T00:00:00Z"), deadline, &query_at);
  ASSERT_EQ(inside.status, 200) << inside.body;
  EXPECT_NE(inside.body.find(R"("id":"a")"), std::string::npos) << inside.body;
  ASSERT_EQ(outside.status, 200) << outside.body;
  EXPECT_EQ(outside.body.find(R"("id":"a")"), std::string::npos) << outside.body;
  ASSERT_EQ(query_at.status, 200) << query_at.body;
  EXPECT_NE(query_at.body.find(R"("id":"a")"), std::string::npos) << query_at.body;
  // Not the public listener's traffic: not counted.
  EXPECT_EQ(strict.Stats().ok, 0u);
}

TEST_F(ServiceWithStore, TheObserverSeesLayoutAnswersWithTheirBodies) {
  Publish("module",
          R"({"id":"a","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1})");
  struct Seen {
    std::string target;
    int status;
    std::string body;
    bool shadow;
  };
  std::vector<Seen> seen;
  ServiceOptions options;
  options.deadline = std::chrono::seconds(5);
  options.observer = [&seen](const http::Request& q, const http::Response& r, UnixNanos at) {
    EXPECT_GT(at, 0);
    seen.push_back({std::string(q.target), r.status, r.body, q.shadow});
  };
  const LayoutService observed(pages_.get(), options);
  http::Response first;
  http::Request forced{"GET", kPage, ""};
  forced.shadow = true;
  observed.Handle(forced, &first);
  ASSERT_EQ(first.status, 200);
  http::Response again;
  observed.Handle(http::Request{"GET", kPage, Header(first, "ETag")}, &again);
  EXPECT_EQ(again.status, 304);
  Call(observed, "GET", "/api/v1/tempo/layouts?channel=web");  // 400: observed
  Call(observed, "GET", "/healthz");                           // not a layout: not observed
  Call(observed, "GET", "/nope");
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].status, 200);
  EXPECT_EQ(seen[0].body, first.body);
  EXPECT_TRUE(seen[0].shadow);
  // The 304 keeps the body it stands for (not sent: omit_body).
  EXPECT_EQ(seen[1].status, 304);
  EXPECT_EQ(seen[1].body, first.body);
  EXPECT_TRUE(again.omit_body);
  EXPECT_FALSE(seen[1].shadow);
  EXPECT_EQ(seen[2].status, 400);
}

// Tenant groups: TG1 serves WM_GLASS, TG2 serves T, TG3 every other tenant;
// "NG" describes groups where no group holds "*".
std::shared_ptr<const config::TenantGroupFilter> GroupFilter(const std::string& yaml,
                                                             const std::string& own) {
  auto groups = config::TenantGroups::Parse(YAML::Load(yaml)["tenant_groups"], "groups.yaml");
  EXPECT_TRUE(groups.ok()) << groups.status().ToString();
  auto filter = config::TenantGroupFilter::Create(*groups, own);
  EXPECT_TRUE(filter.ok()) << filter.status().ToString();
  return *filter;
}
constexpr const char* kGroups = "tenant_groups: {TG1: [WM_GLASS], TG2: [T], TG3: [\"*\"]}";

TEST_F(ServiceWithStore, AnotherGroupsTenantIs421NamingItsGroup) {
  Publish("module",
          R"({"id":"a","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1})");
  ServiceOptions options;
  options.deadline = std::chrono::seconds(5);
  options.tenant_groups = GroupFilter(kGroups, "TG2");
  const LayoutService grouped(pages_.get(), options);
  http::Response r =
      Call(grouped, "GET", "/api/v2/tempo/layouts?tenant=WM_GLASS&channel=web&pageType=home");
  EXPECT_EQ(r.status, 421);
  EXPECT_EQ(r.body,
            R"({"error":{"code":"wrong_tenant_group","message":"Tenant 'WM_GLASS' is served by )"
            R"(tenant group 'TG1'."}})");
  EXPECT_EQ(Header(r, kTenantGroupHeader), "TG1");  // the tenant's group, once
  EXPECT_EQ(std::count_if(r.headers.begin(), r.headers.end(),
                          [](const auto& h) { return h.first == kTenantGroupHeader; }),
            1);
  EXPECT_EQ(Header(r, "Content-Type"), "application/json");
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  // The "*" group's tenants too.
  EXPECT_EQ(Header(Call(grouped, "GET", "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=x"),
                   kTenantGroupHeader),
            "TG3");
  EXPECT_EQ(grouped.Stats().wrong_group, 2u);
  EXPECT_EQ(grouped.Stats().client_errors, 2u);
  // No cache or store read was spent on them.
  EXPECT_EQ(pages_->L1Stats().misses, 0u);
  EXPECT_EQ(pages_->origin_reader().Stats().reads, 0u);
  // Its own tenant is served, with its own group.
  http::Response own = Call(grouped, "GET", kPage);
  EXPECT_EQ(own.status, 200);
  EXPECT_EQ(Header(own, kTenantGroupHeader), "TG2");
}

TEST_F(ServiceWithStore, TheGroupCheckComesAfterValidation) {
  ServiceOptions options;
  options.tenant_groups = GroupFilter(kGroups, "TG2");
  const LayoutService grouped(pages_.get(), options);
  // An invalid parameter for another group's tenant: 400, not 421.
  http::Response bad =
      Call(grouped, "GET", "/api/v2/tempo/layouts?tenant=WM_GLASS&channel=WEB&pageType=home");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("\"invalid_parameter\""), std::string::npos);
  EXPECT_EQ(Header(bad, kTenantGroupHeader), "TG2");
  // Missing parameters and preview too.
  EXPECT_EQ(Call(grouped, "GET", "/api/v2/tempo/layouts?tenant=WM_GLASS&channel=web").status, 400);
  EXPECT_EQ(Call(grouped, "GET",
                 "/api/v2/tempo/layouts?tenant=WM_GLASS&channel=web&pageType=h&at=2020-01-01T00:"
                 "00:00Z")
                .status,
            400);
}

TEST_F(ServiceWithStore, ATenantNoGroupServesIsUnknown) {
  ServiceOptions options;
  options.tenant_groups = GroupFilter("tenant_groups: {TG1: [WM_GLASS], TG2: [T]}", "TG2");
  const LayoutService grouped(pages_.get(), options);
  http::Response r =
      Call(grouped, "GET", "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=home");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"unknown_tenant\""), std::string::npos);
  EXPECT_EQ(Header(r, kTenantGroupHeader), "TG2");
  EXPECT_EQ(pages_->origin_reader().Stats().reads, 0u);  // decided without the store
}

TEST_F(ServiceWithStore, EveryAnswerOfAGroupedInstanceNamesItsGroup) {
  Publish("module", R"({"id":"a","tenant":"ACME","channels":["web"],"pageType":"home","zone":"z",)"
                    R"("version":1})");
  ServiceOptions options;
  options.deadline = std::chrono::seconds(5);
  options.tenant_groups = GroupFilter(kGroups, "TG3");
  const LayoutService grouped(pages_.get(), options);
  const std::string page = "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=home";
  http::Response ok = Call(grouped, "GET", page);
  ASSERT_EQ(ok.status, 200);
  http::Response not_modified;
  grouped.Handle(http::Request{"GET", page, Header(ok, "ETag")}, &not_modified);
  EXPECT_EQ(not_modified.status, 304);
  for (const http::Response& r :
       {ok, not_modified, Call(grouped, "GET", "/healthz"), Call(grouped, "GET", "/nope"),
        Call(grouped, "POST", page), Call(grouped, "GET", "/api/v2/tempo/layouts?tenant=x"),
        Call(grouped, "GET", "/api/v2/tempo/layouts?tenant=nobody&channel=web&pageType=home")}) {
    EXPECT_EQ(Header(r, kTenantGroupHeader), "TG3") << r.status << " " << r.body;
  }
  // A deferred request's fallback and answer too.
  RecordingResponder responder;
  http::Response response;
  grouped.Handle(http::Request{"GET", page + "&pageId=p1", "", &responder}, &response);
  ASSERT_NE(responder.pending, nullptr);
  EXPECT_EQ(Header(responder.fallback, kTenantGroupHeader), "TG3");
  auto answer = responder.pending->Wait();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(Header(*answer, kTenantGroupHeader), "TG3");
  // An ungrouped instance sends no such header.
  EXPECT_EQ(Header(Call(*service_, "GET", "/healthz"), kTenantGroupHeader), "");
}

// The answer memo (answer_memo.h): a repeated query gets the same bytes
// without being selected again, and never an answer its slices or its
// instant no longer give.
TEST_F(ServiceWithStore, ARepeatedQueryIsAnsweredFromTheMemoWithTheSameBytes) {
  Publish("module",
          R"({"id":"a","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1})");
  const http::Response first = Call(*service_, "GET", kPage);   // origin
  const http::Response second = Call(*service_, "GET", kPage);  // L1, kept in the memo
  const http::Response third = Call(*service_, "GET", kPage);   // the memo
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(service_->Stats().from_memo, 1u);
  EXPECT_EQ(third.status, 200);
  EXPECT_EQ(third.body, first.body);
  EXPECT_EQ(third.headers, second.headers);
  // A conditional request answered from the memo: 304.
  http::Response revalidated;
  service_->Handle(http::Request{"GET", kPage, Header(first, "ETag"), nullptr}, &revalidated);
  EXPECT_EQ(revalidated.status, 304);
  EXPECT_TRUE(revalidated.omit_body);
  EXPECT_EQ(Header(revalidated, "ETag"), Header(first, "ETag"));
  EXPECT_EQ(service_->Stats().from_memo, 2u);
  EXPECT_EQ(service_->Stats().from_l1, 3u) << "memo answers count with the tier of their slices";
}

TEST_F(ServiceWithStore, AMemoizedAnswerNeverOutlivesAPublish) {
  Publish("module",
          R"({"id":"a","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1})");
  for (int i = 0; i < 3; ++i) Body(kPage);
  ASSERT_EQ(service_->Stats().from_memo, 1u);
  Publish("module",
          R"({"id":"b","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":2})");
  EXPECT_NE(Body(kPage).find(R"("id":"b")"), std::string::npos);
  EXPECT_EQ(service_->Stats().from_memo, 1u);
}

TEST_F(ServiceWithStore, AMemoizedAnswerEndsWhereASchedulePasses) {
  Publish("module",
          R"({"id":"a","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1,)"
          R"("schedule":{"start":"2026-11-20T00:00:00Z"}})");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  const UnixNanos start = *ParseRfc3339("2026-11-20T00:00:00Z");
  auto at = [&](UnixNanos instant) {
    http::Response r;
    service_->AnswerAt(kPage, instant, deadline, &r);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(at(start - 10), R"({"modules":[]})");
  EXPECT_EQ(at(start - 1), R"({"modules":[]})");
  EXPECT_NE(at(start).find(R"("id":"a")"), std::string::npos);
  EXPECT_EQ(at(start - 10), R"({"modules":[]})") << "a clock that went back";
}

// A limiter that lets each tenant `limit` (rate a second, burst), on `clock`.
std::shared_ptr<TenantLimiter> LimiterOn(cache::testing::FakeClock& clock,
                                         config::TenantLimit limit) {
  TenantLimiterOptions limits;
  limits.default_limit = limit;
  limits.clock = clock.Fn();
  return std::make_shared<TenantLimiter>(limits);
}

// A 429, a 421 and a 400 preview_disabled come from this instance's own
// policy: a candidate evaluating the same request would not give them, so
// they are not offered for shadowing. Other 4xx are.
TEST_F(ServiceWithStore, TheObserverLeavesOutTheAnswersOfThisInstancesPolicy) {
  Publish("module",
          R"({"id":"a","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1})");
  std::vector<int> seen;
  cache::testing::FakeClock limiter_clock;
  ServiceOptions options;
  options.deadline = std::chrono::seconds(5);
  options.allow_preview = false;
  options.tenant_groups = GroupFilter(kGroups, "TG2");
  options.limiter = LimiterOn(limiter_clock, {1, 1});
  options.observer = [&seen](const http::Request&, const http::Response& r, UnixNanos) {
    seen.push_back(r.status);
  };
  const LayoutService observed(pages_.get(), options);
  EXPECT_EQ(Call(observed, "GET", kPage).status, 200);
  EXPECT_EQ(Call(observed, "GET", kPage).status, 429);
  EXPECT_EQ(Call(observed, "GET", "/api/v2/tempo/layouts?tenant=WM_GLASS&channel=web&pageType=home")
                .status,
            421);
  http::Response preview = Call(observed, "GET", std::string(kPage) + "&at=2020-01-01T00:00:00Z");
  EXPECT_EQ(preview.status, 400);
  EXPECT_NE(preview.body.find("preview_disabled"), std::string::npos);
  EXPECT_EQ(
      Call(observed, "GET", "/api/v2/tempo/layouts?tenant=T&channel=WEB&pageType=home").status,
      400);
  EXPECT_EQ(seen, (std::vector<int>{200, 400}));
}

TEST_F(ServiceWithStore, OverItsRateATenantGets429WithRetryAfter) {
  Publish("module",
          R"({"id":"a","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1})");
  cache::testing::FakeClock limiter_clock;
  ServiceOptions options;
  options.deadline = std::chrono::seconds(5);
  options.limiter = LimiterOn(limiter_clock, {1, 2});  // 1 request a second, bursts of 2
  const LayoutService limited(pages_.get(), options);
  EXPECT_EQ(Call(limited, "GET", kPage).status, 200);
  EXPECT_EQ(Call(limited, "GET", kPage).status, 200);
  http::Response r = Call(limited, "GET", kPage);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body,
            R"({"error":{"code":"rate_limited","message":"Tenant 'T' is over its request rate; )"
            R"(retry after 1 s."}})");
  EXPECT_EQ(Header(r, "Retry-After"), "1");
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  EXPECT_EQ(limited.Stats().rate_limited, 1u);
  // Another tenant has its own bucket (unknown here: 404, not 429).
  EXPECT_EQ(Call(limited, "GET", "/api/v1/tempo/layouts?tenant=U&channel=web&pageType=home").status,
            404);
  // Invalid requests are answered before the limiter, and cost no token.
  EXPECT_EQ(Call(limited, "GET", "/api/v1/tempo/layouts?tenant=T&channel=web").status, 400);
  // A second later, one token more.
  limiter_clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Call(limited, "GET", kPage).status, 200);
  EXPECT_EQ(limited.Stats().from_memo, 1u) << "a memoized answer is limited as any other";
  EXPECT_EQ(Call(limited, "GET", kPage).status, 429);
  // The shadow receiver's entry point is not limited.
  http::Response shadow;
  limited.AnswerAt(kPage, NowUnixNanos(),
                   std::chrono::steady_clock::now() + std::chrono::seconds(5), &shadow);
  EXPECT_EQ(shadow.status, 200);
}

TEST_F(ServiceWithStore, ADeferredRequestTakesOneToken) {
  Publish("module",
          R"({"id":"a","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1})");
  cache::testing::FakeClock limiter_clock;
  ServiceOptions options;
  options.deadline = std::chrono::seconds(5);
  options.limiter = LimiterOn(limiter_clock, {1, 1});
  const LayoutService limited(pages_.get(), options);
  RecordingResponder responder;
  http::Response response;
  limited.Handle(http::Request{"GET", kPage, "", &responder}, &response);
  ASSERT_NE(responder.pending, nullptr);  // an L1 miss: answered on the pool
  auto answer = responder.pending->Wait();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200) << answer->body;  // not limited a second time
  EXPECT_EQ(Call(limited, "GET", kPage).status, 429);
}

}  // namespace
}  // namespace tempo::api
