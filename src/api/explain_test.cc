// Tests of Explain (api/explain.h) and the admin cache routes
// (api/cache_control.h) over a real RocksDB origin, L1 and (for L2) real
// memcached nodes.
//
// The property of the trace: over every request of the golden cases and of a
// generated request log, the kept modules of the explanation, in order, are
// exactly the modules of the layouts answer to the same query.
#include "api/explain.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api/cache_control.h"
#include "api/service.h"
#include "api/warm.h"
#include "events/events.h"
#include "gen/generator.h"
#include "l2/l2.h"
#include "origin/rocks_origin.h"
#include "testing/memcached_cluster.h"
#include "testing/temp_dir.h"

namespace tempo::api {
namespace {

constexpr std::chrono::seconds kWait{10};  // sanitizers, shared cores
// 2026-11-22T12:00:00Z, the golden cases' instant.
constexpr UnixNanos kNow = 1'795'348'800'000'000'000;

// "zone/id/priority" of each module of a layouts body (v1 or v2), in order.
std::vector<std::string> AnswerModules(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(body.data(), body.size());
  std::vector<std::string> out;
  auto add = [&](std::string_view zone, simdjson::dom::element m) {
    out.push_back(std::string(zone) + "/" + std::string(m["id"].get_string().value()) + "/" +
                  std::to_string(m["priority"].get_int64().value()));
  };
  simdjson::dom::array zones;
  if (!doc["zones"].get_array().get(zones)) {
    for (auto z : zones) {
      for (auto m : z["modules"].get_array()) add(z["zone"].get_string().value(), m);
    }
  } else {
    for (auto m : doc["modules"].get_array()) add(m["zone"].get_string().value(), m);
  }
  return out;
}

// The same of the kept modules of an explanation, in the order listed.
std::vector<std::string> KeptModules(std::string_view explanation) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(explanation.data(), explanation.size());
  std::vector<std::string> out;
  int64_t zone_position = -1;
  for (auto m : doc["modules"].get_array()) {
    if (std::string_view(m["outcome"].get_string().value()) != "kept") continue;
    const int64_t position = m["position"].get_int64().value();
    EXPECT_TRUE(position == 0 || position == zone_position + 1) << explanation;
    zone_position = position;
    out.push_back(std::string(m["zone"].get_string().value()) + "/" +
                  std::string(m["id"].get_string().value()) + "/" +
                  std::to_string(m["priority"].get_int64().value()));
  }
  return out;
}

std::string_view QueryOf(std::string_view target) {
  const size_t mark = target.find('?');
  return mark == std::string_view::npos ? std::string_view() : target.substr(mark + 1);
}

// A layouts GET that passes the router's checks (the explanation has no path).
bool IsLayoutsTarget(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return (path == "/api/v1/tempo/layouts" || path == "/api/v2/tempo/layouts") &&
         target.size() <= http::kMaxUriBytes;
}

class ExplainTest : public ::testing::Test {
 protected:
  void Open(PageSourceOptions options = {}) {
    auto origin = origin::OpenRocksOrigin(dir_.path());
    ASSERT_TRUE(origin.ok()) << origin.status().ToString();
    origin_ = std::move(origin).value();
    options.origin.probe_interval = std::chrono::milliseconds(0);
    options.load_wait = kWait;
    pages_ = std::make_unique<PageSource>(origin_.get(), options);
    ServiceOptions service_options;
    service_options.allow_preview = true;
    service_options.deadline = kWait;
    service_ = std::make_unique<LayoutService>(pages_.get(), service_options);
  }
  void TearDown() override {
    service_.reset();
    pages_.reset();
    origin_.reset();
  }
  // Applies every valid event of an NDJSON stream.
  void Apply(std::istream& events) {
    std::string line;
    while (std::getline(events, line)) {
      auto event = events::DecodeEvent(line);
      if (event.ok()) {
        ASSERT_TRUE(origin_->Apply(*event).ok());
      }
    }
  }
  void Apply(std::string_view kind, std::string_view record) {
    std::istringstream line(std::string(R"({"schema":1,"kind":")") + std::string(kind) +
                            R"(","op":"upsert","record":)" + std::string(record) + "}");
    Apply(line);
  }
  http::Response Explanation(std::string_view query) {
    http::Response r;
    Explain(pages_.get(), query, kNow, std::chrono::steady_clock::now() + kWait, &r);
    return r;
  }
  http::Response Answer(std::string_view target) {
    http::Response r;
    service_->AnswerAt(target, kNow, std::chrono::steady_clock::now() + kWait, &r);
    return r;
  }
  // Checks the property on one layouts target; true when it was a 200.
  bool CheckSameModules(const std::string& target) {
    const http::Response answer = Answer(target);
    const http::Response explained = Explanation(QueryOf(target));
    if (target.starts_with("/api/v2/") || answer.status != 200) {
      EXPECT_EQ(explained.status, answer.status) << target << "\n" << explained.body;
    }
    if (answer.status != 200) {
      // The same error body as the public API.
      if (explained.status == answer.status) {
        EXPECT_EQ(explained.body, answer.body) << target;
      }
      return false;
    }
    EXPECT_EQ(KeptModules(explained.body), AnswerModules(answer.body)) << target;
    if (target.starts_with("/api/v2/")) {
      // The answer in the document is the answer, byte for byte.
      const std::string tail = ",\"answer\":" + answer.body + "}";
      EXPECT_TRUE(explained.body.ends_with(tail)) << target;
    }
    return true;
  }

  ::tempo::testing::TempDir dir_{"tempo-explain-test"};
  std::unique_ptr<origin::Origin> origin_;
  std::unique_ptr<PageSource> pages_;
  std::unique_ptr<LayoutService> service_;
};

TEST_F(ExplainTest, KeptModulesAreTheAnswerOnEveryGoldenCase) {
  Open();
  std::ifstream data(TEMPO_SHARED_DIR "/golden/data.ndjson");
  ASSERT_TRUE(data.good());
  Apply(data);
  std::ifstream cases(TEMPO_SHARED_DIR "/golden/cases.ndjson");
  ASSERT_TRUE(cases.good());
  simdjson::dom::parser parser;
  std::string line;
  size_t layouts = 0, answered = 0;
  while (std::getline(cases, line)) {
    simdjson::dom::element c = parser.parse(line);
    const std::string target(c["target"].get_string().value());
    if (std::string_view(c["method"].get_string().value()) != "GET" || !IsLayoutsTarget(target)) {
      continue;
    }
    ++layouts;
    if (CheckSameModules(target)) ++answered;
  }
  EXPECT_GT(layouts, 2000u);
  EXPECT_GT(answered, 1500u);
}

TEST_F(ExplainTest, KeptModulesAreTheAnswerOnAGeneratedRequestLog) {
  Open();
  gen::GenOptions options;
  options.seed = 18;
  options.tenants = 3;
  options.modules = 120;
  options.requests = 3000;
  std::stringstream events, requests;
  ASSERT_TRUE(gen::Generate(options, events, &requests, nullptr).ok());
  Apply(events);
  std::string target;
  size_t answered = 0;
  while (std::getline(requests, target)) {
    if (IsLayoutsTarget(target) && CheckSameModules(target)) ++answered;
  }
  EXPECT_GT(answered, 2000u);
}

TEST_F(ExplainTest, ErrorsAreThePublicApisAndAtIsAlwaysHonoured) {
  Open();
  Apply("module",
        R"({"id":"a","tenant":"T","channels":["web"],"pageType":"home","zone":"z","version":1,)"
        R"("schedule":{"start":"2030-01-01T00:00:00Z"}})");
  http::Response missing = Explanation("tenant=T&pageType=home");
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find(R"("code":"missing_parameter")"), std::string::npos);
  EXPECT_EQ(Explanation("tenant=T&channel=web&pageType=home&at=yesterday").status, 400);
  http::Response unknown = Explanation("tenant=U&channel=web&pageType=home");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find(R"("code":"unknown_tenant")"), std::string::npos);

  // Now (kNow, 2026) the module is scheduled later; at 2030 it is kept.
  http::Response now = Explanation("tenant=T&channel=web&pageType=home");
  ASSERT_EQ(now.status, 200);
  EXPECT_NE(now.body.find(R"("outcome":"schedule")"), std::string::npos) << now.body;
  EXPECT_NE(now.body.find(R"("schedule":{"start":"2030-01-01T00:00:00Z","end":null,)"
                          R"("at":"2026-11-22T12:00:00Z"})"),
            std::string::npos)
      << now.body;
  http::Response later = Explanation("tenant=T&channel=web&pageType=home&at=2030-01-01T00:00:00Z");
  ASSERT_EQ(later.status, 200);
  EXPECT_NE(later.body.find(R"("id":"a","zone":"z","scope":"*","outcome":"kept")"),
            std::string::npos)
      << later.body;
  EXPECT_NE(later.body.find(R"("at_from":"query")"), std::string::npos);
  EXPECT_NE(later.body.find(R"("slices":[{"scope":"*","tier":"l1")"), std::string::npos)
      << later.body;
}

// --- The admin cache routes ---

http::Response Post(PageSource* pages, l2::L2Client* l2, std::string_view body) {
  http::Response r;
  HandleCacheInvalidate(pages, l2,
                        http::Request{"POST", "/admin/cache/invalidate", "", nullptr, body}, &r);
  return r;
}

http::Response Slices(const PageSource& pages, std::string_view target) {
  http::Response r;
  HandleCachedSlices(pages, http::Request{"GET", target, ""}, &r);
  return r;
}

class CacheRoutesTest : public ExplainTest {
 protected:
  // Loads the slices of these pages into L1 (and L2, when there is one).
  void Warm() {
    for (const char* query :
         {"tenant=T&channel=web&pageType=home&pageId=p1", "tenant=T&channel=ios&pageType=home",
          "tenant=T&channel=web&pageType=pdp", "tenant=U&channel=web&pageType=home"}) {
      ASSERT_EQ(Explanation(query).status, 200) << query;
    }
  }
  void Publish() {
    for (const char* tenant : {"T", "U"}) {
      Apply("module",
            std::string(R"({"id":"a","tenant":")") + tenant +
                R"(","channels":["web","ios"],"pageType":"home","zone":"z","version":1})");
    }
    Apply("module",
          R"({"id":"b","tenant":"T","channels":["web"],"pageType":"pdp","zone":"z","version":1})");
  }
};

TEST_F(CacheRoutesTest, InvalidateNarrowsByChannelPageTypeAndScope) {
  Open();
  Publish();
  Warm();  // T: web/home/*, web/home/p1, ios/home/*, web/pdp/*; U: web/home/*
  http::Response listing = Slices(*pages_, "/admin/cache/slices?tenant=T");
  ASSERT_EQ(listing.status, 200);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(listing.body);
  EXPECT_EQ(std::string_view(doc["tenant"].get_string().value()), "T");
  std::vector<std::string> keys;
  for (auto s : doc["slices"].get_array()) {
    keys.emplace_back(s["key"].get_string().value());
    EXPECT_EQ(std::string_view(s["tier"].get_string().value()), "l1");
    EXPECT_EQ(std::string_view(s["loaded_from"].get_string().value()), "origin");
    EXPECT_GT(s["bytes"].get_int64().value(), 0);
    EXPECT_TRUE(s["fresh"].get_bool().value());
    EXPECT_GE(s["age_ms"].get_int64().value(), 0);
    EXPECT_GE(s["hits"].get_int64().value(), 0);
    EXPECT_GE(s["frequency"].get_int64().value(), 0);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"T/ios/home/*", "T/web/home/*", "T/web/home/p1",
                                            "T/web/pdp/*"}));
  EXPECT_NE(listing.body.find(R"({"key":"T/web/pdp/*","channel":"web","pageType":"pdp",)"
                              R"("scope":"*","version":1,"bytes":)"),
            std::string::npos)
      << listing.body;

  http::Response one = Post(pages_.get(), nullptr,
                            R"({"tenant":"T","channel":"web","pageType":"home","scope":"p1"})");
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.body, R"({"l1_removed":1,"l2_deleted":0})");
  // pageType without channel: not a key prefix, matched slice by slice.
  EXPECT_EQ(Post(pages_.get(), nullptr, R"({"tenant":"T","pageType":"home"})").body,
            R"({"l1_removed":2,"l2_deleted":0})");
  EXPECT_EQ(Post(pages_.get(), nullptr, R"({"tenant":"T","l2":true})").body,
            R"({"l1_removed":1,"l2_deleted":0})");
  EXPECT_EQ(Slices(*pages_, "/admin/cache/slices?tenant=T").body, R"({"tenant":"T","slices":[]})");
  EXPECT_NE(Slices(*pages_, "/admin/cache/slices?tenant=U").body.find("U/web/home/*"),
            std::string::npos);
}

TEST_F(CacheRoutesTest, BadBodiesAndQueriesAre400NamingTheField) {
  Open();
  auto bad = [&](std::string_view body, std::string_view names) {
    http::Response r = Post(pages_.get(), nullptr, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find(R"({"error":{"code":"bad_request","message":)"), std::string::npos);
    EXPECT_NE(r.body.find(names), std::string::npos) << body << " -> " << r.body;
  };
  bad("", "not valid JSON");
  bad("[1]", "JSON object");
  bad("{}", "'tenant' is required");
  bad(R"({"tenant":"T","chanel":"web"})", "Unknown field 'chanel'");
  bad(R"({"tenant":7})", "'tenant' must be a string");
  bad(R"({"tenant":"T!"})", "Field 'tenant'");
  bad(R"({"tenant":"T","channel":"Web"})", "Field 'channel'");
  bad(R"({"tenant":"T","scope":"a b"})", "Field 'scope'");
  bad(R"({"tenant":"T","l2":"yes"})", "'l2' must be true or false");
  bad(R"({"tenant":"T","tenant":"U"})", "'tenant' appears twice");
  http::Response large = Post(pages_.get(), nullptr, std::string(kMaxInvalidateBodyBytes + 1, ' '));
  EXPECT_EQ(large.status, 413);
  EXPECT_NE(large.body.find("body_too_large"), std::string::npos);
  for (const char* target :
       {"/admin/cache/slices", "/admin/cache/slices?tenant=", "/admin/cache/slices?tenant=%zz",
        "/admin/cache/slices?tenant=a%20b"}) {
    http::Response r = Slices(*pages_, target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_NE(r.body.find("bad_request"), std::string::npos);
  }
}

TEST_F(CacheRoutesTest, WithL2DeletesTheDroppedSlicesFromL2) {
  auto cluster = ::tempo::testing::MemcachedCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  l2::L2Options l2_options;
  l2_options.servers = (*cluster)->servers();
  l2_options.timeout = std::chrono::milliseconds(500);
  auto l2 = l2::L2Client::Open(l2_options);
  ASSERT_TRUE(l2.ok()) << l2.status().ToString();
  PageSourceOptions options;
  options.l2 = l2->get();
  options.l2_timeout = l2_options.timeout;
  Open(options);
  Publish();
  Warm();
  const origin::SliceKey web_home{{"T", "web", "home"}, "*"};
  // The reads filled L2 on its writer's thread: wait for those fills.
  for (const origin::SliceKey& key : {web_home, origin::SliceKey{{"U", "web", "home"}, "*"}}) {
    for (int i = 0; i < 500; ++i) {
      auto got = (*l2)->Get(key);
      if (got.ok() && got->has_value()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE((*l2)->Get(key)->has_value());
  }
  EXPECT_EQ(Post(pages_.get(), l2->get(), R"({"tenant":"T","channel":"web","l2":true})").body,
            R"({"l1_removed":3,"l2_deleted":3})");
  EXPECT_FALSE((*l2)->Get(web_home)->has_value());
  // Without "l2", L2 keeps its copy: the next read comes from there.
  EXPECT_EQ(Post(pages_.get(), l2->get(), R"({"tenant":"U"})").body,
            R"({"l1_removed":1,"l2_deleted":0})");
  http::Response u = Explanation("tenant=U&channel=web&pageType=home");
  EXPECT_NE(u.body.find(R"("slices":[{"scope":"*","tier":"l2")"), std::string::npos) << u.body;
}

// --- The hot list and warming (api/warm.h) ---

http::Response Hot(const PageSource& pages, std::string_view target) {
  http::Response r;
  HandleHotSlices(pages, http::Request{"GET", target, ""}, &r);
  return r;
}

TEST_F(CacheRoutesTest, HotListsTheMostRequestedSlicesFirstAndBoundsN) {
  Open();
  Publish();
  Warm();  // T: web/home/*, web/home/p1, ios/home/*, web/pdp/*; U: web/home/*
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(Explanation("tenant=U&channel=web&pageType=home").status, 200);
  }
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(Explanation("tenant=T&channel=web&pageType=pdp").status, 200);
  }
  http::Response all = Hot(*pages_, "/admin/cache/hot");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.headers.front().second, "application/json");
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(all.body);
  std::vector<std::string> keys;
  int64_t last_frequency = 16, last_hits = INT64_MAX;
  for (auto s : doc["slices"].get_array()) {
    keys.emplace_back(s["key"].get_string().value());
    const int64_t frequency = s["frequency"].get_int64().value();
    const int64_t hits = s["hits"].get_int64().value();
    EXPECT_TRUE(frequency < last_frequency || (frequency == last_frequency && hits <= last_hits))
        << all.body;
    last_frequency = frequency;
    last_hits = hits;
  }
  ASSERT_EQ(keys.size(), 5u) << all.body;
  EXPECT_EQ(keys[0], "U/web/home/*");
  EXPECT_EQ(keys[1], "T/web/pdp/*");
  EXPECT_TRUE(all.body.starts_with(
      R"({"slices":[{"key":"U/web/home/*","tenant":"U","channel":"web","pageType":"home",)"
      R"("scope":"*","frequency":)"))
      << all.body;

  EXPECT_EQ(Hot(*pages_, "/admin/cache/hot?n=1").body.find("T/web/pdp/*"), std::string::npos);
  auto two = ParseHotList(Hot(*pages_, "/admin/cache/hot?n=2").body, 100);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1], (origin::SliceKey{{"T", "web", "pdp"}, "*"}));
  for (const char* target : {"/admin/cache/hot?n=0", "/admin/cache/hot?n=", "/admin/cache/hot?n=x",
                             "/admin/cache/hot?n=-1", "/admin/cache/hot?n=100001",
                             "/admin/cache/hot?n=99999999999999999999"}) {
    http::Response r = Hot(*pages_, target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_NE(r.body.find(R"("code":"bad_request")"), std::string::npos) << target;
    EXPECT_NE(r.body.find("'n'"), std::string::npos) << target;
  }
  EXPECT_EQ(Hot(*pages_, "/admin/cache/hot?n=100000").status, 200);
}

TEST(HotListTest, ParseChecksEveryNameAndBoundsTheLength) {
  const std::string one = R"({"key":"T/web/home/*","tenant":"T","channel":"web",)"
                          R"("pageType":"home","scope":"*","frequency":3,"hits":9})";
  auto parsed = ParseHotList(R"({"slices":[)" + one + "," + one + "]}", 1);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->size(), 1u);
  EXPECT_TRUE(ParseHotList(R"({"slices":[]})", 10).ok());
  auto bad = [](std::string_view json, std::string_view says) {
    auto r = ParseHotList(json, 10);
    ASSERT_FALSE(r.ok()) << json;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status().ToString();
  };
  bad("", "not valid JSON");
  bad("{", "not valid JSON");
  bad("[]", "no \"slices\" array");
  bad(R"({"slices":{}})", "no \"slices\" array");
  bad(R"({"slices":[{"tenant":"T","channel":"web","pageType":"home"}]})",
      "slices[0]: 'scope' must be a string");
  bad(R"({"slices":[{"tenant":"T","channel":"Web","pageType":"home","scope":"*"}]})", "slices[0]");
  bad(R"({"slices":[{"tenant":"T","channel":"web","pageType":"home","scope":"a b"}]})",
      "slices[0]");
}

TEST_F(CacheRoutesTest, WarmLoadsTheListIntoAnotherL1ThroughTheOrigin) {
  Open();
  Publish();
  Warm();
  auto hot = ParseHotList(Hot(*pages_, "/admin/cache/hot").body, 100);
  ASSERT_TRUE(hot.ok());
  ASSERT_EQ(hot->size(), 5u);
  // A second instance over the same store.
  PageSourceOptions options;
  options.origin.probe_interval = std::chrono::milliseconds(0);
  PageSource second(origin_.get(), options);
  const origin::SliceKey missing{{"T", "web", "nope"}, "*"};
  std::vector<origin::SliceKey> slices = *hot;
  slices.push_back(missing);  // an empty slice loads too
  WarmOptions warm;
  warm.concurrency = 3;
  warm.deadline = std::chrono::steady_clock::now() + kWait;
  warm.serves = [](std::string_view tenant) { return tenant != "U"; };
  std::atomic<size_t> progress{0};
  WarmCounts counts = WarmSlices(&second, slices, warm, nullptr, &progress);
  EXPECT_EQ(counts.from_origin, 5u);
  EXPECT_EQ(counts.skipped, 1u);  // U is not served here
  EXPECT_EQ(counts.failed + counts.from_l2 + counts.not_tried, 0u);
  EXPECT_EQ(progress.load(), 6u);
  EXPECT_EQ(second.CachedSlices("T").size(), 5u);
  EXPECT_TRUE(second.CachedSlices("U").empty());
  // Warmed slices are L1 hits for the next request.
  cache::ReadScope scope;
  EXPECT_TRUE(second.GetCached({"T", "web", "home"}, "p1", &scope).has_value());

  // Again: all resident (skipped); past the deadline: nothing tried.
  counts = WarmSlices(&second, slices, warm, nullptr, nullptr);
  EXPECT_EQ(counts.skipped, 6u);
  warm.deadline = std::chrono::steady_clock::now();
  counts = WarmSlices(&second, slices, warm, nullptr, nullptr);
  EXPECT_EQ(counts.not_tried, 6u);
  std::atomic<bool> stop{true};
  warm.deadline = std::chrono::steady_clock::now() + kWait;
  EXPECT_EQ(WarmSlices(&second, slices, warm, &stop, nullptr).not_tried, 6u);
}

}  // namespace
}  // namespace tempo::api
