#include "shadow/receiver.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include "common/json.h"

namespace tempo::shadow {
namespace {

namespace dom = simdjson::dom;

constexpr std::string_view kLayouts = "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=home";
constexpr std::string_view kLegacy =
    R"({"zones":[{"id":"hero","modules":[{"id":"m1","priority":1},)"
    R"({"id":"m2","priority":2}]}],"version":7})";

// One NDJSON line of a post.
std::string Line(std::string_view target, int status, std::string_view body,
                 std::string_view at = "") {
  std::string line = "{\"target\":";
  AppendJsonString(target, &line);
  line += ",\"status\":" + std::to_string(status) + ",\"body\":";
  AppendJsonString(body, &line);
  if (!at.empty()) {
    line += ",\"at\":";
    AppendJsonString(at, &line);
  }
  line += "}\n";
  return line;
}

// A candidate answering from a map of target to (status, body); 404 "{}" otherwise.
class MapCandidate {
 public:
  void Set(std::string_view target, int status, std::string body) {
    answers_[std::string(target)] = {status, std::move(body)};
  }
  Candidate AsCandidate() {
    return [this](std::string_view target, UnixNanos, http::Response* response) {
      auto it = answers_.find(std::string(target));
      if (it == answers_.end()) {
        response->status = 404;
        response->body = "{}";
        return;
      }
      response->status = it->second.first;
      response->body = it->second.second;
    };
  }

 private:
  std::map<std::string, std::pair<int, std::string>> answers_;  // set before Create
};

std::unique_ptr<Receiver> MustCreate(ReceiverOptions options, Candidate candidate) {
  Result<std::unique_ptr<Receiver>> r = Receiver::Create(std::move(options), std::move(candidate));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r.value()) : nullptr;
}

http::Response Post(Receiver* receiver, std::string_view body) {
  http::Request request;
  request.method = "POST";
  request.target = "/internal/shadow";
  request.body = body;
  request.content_type = "application/x-ndjson";
  http::Response response;
  receiver->HandlePost(request, &response);
  return response;
}

// GET /admin/shadow's body, parsed (the parser must outlive the element).
dom::element Status(Receiver* receiver, dom::parser* parser, std::string* text) {
  http::Response response;
  receiver->HandleStatus(&response);
  EXPECT_EQ(response.status, 200);
  *text = response.body;
  dom::element root;
  EXPECT_FALSE(parser->parse(*text).get(root)) << *text;
  return root;
}

int64_t At(dom::element root, std::string_view pointer) {
  int64_t v = -1;
  EXPECT_FALSE(root.at_pointer(pointer).get_int64().get(v)) << pointer;
  return v;
}

std::string_view Str(dom::element root, std::string_view pointer) {
  std::string_view v;
  EXPECT_FALSE(root.at_pointer(pointer).get_string().get(v)) << pointer;
  return v;
}

std::string Json(dom::element root, std::string_view pointer) {
  dom::element e;
  if (root.at_pointer(pointer).get(e)) return "<absent>";
  return simdjson::to_string(e);
}

TEST(ReceiverTest, CreateValidatesOptions) {
  auto candidate = [](std::string_view, UnixNanos, http::Response*) {};
  ReceiverOptions options;
  options.ignore = {"/ok", "bad"};
  Result<std::unique_ptr<Receiver>> r = Receiver::Create(options, candidate);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("\"bad\""), std::string::npos);
  options = ReceiverOptions();
  options.queue_capacity = 0;
  EXPECT_FALSE(Receiver::Create(options, candidate).ok());
  options = ReceiverOptions();
  options.threads = 0;
  EXPECT_FALSE(Receiver::Create(options, candidate).ok());
  EXPECT_FALSE(Receiver::Create(ReceiverOptions(), nullptr).ok());
}

TEST(ReceiverTest, APostOverTheLimitIs413) {
  MapCandidate map;
  ReceiverOptions options;
  options.max_post_bytes = 100;
  std::unique_ptr<Receiver> receiver = MustCreate(options, map.AsCandidate());
  ASSERT_NE(receiver, nullptr);
  EXPECT_EQ(Post(receiver.get(), std::string(101, ' ')).status, 413);
  EXPECT_EQ(Post(receiver.get(), std::string(100, ' ')).status, 202);
}

TEST(ReceiverTest, MatchMismatchAndErrors) {
  MapCandidate map;
  const std::string match = std::string(kLayouts) + "&pageId=match";
  const std::string reordered = std::string(kLayouts) + "&pageId=reordered";
  const std::string differs = std::string(kLayouts) + "&pageId=differs";
  const std::string status = std::string(kLayouts) + "&pageId=status";
  const std::string not_json = std::string(kLayouts) + "&pageId=notjson";
  map.Set(match, 200, std::string(kLegacy));
  map.Set(
      reordered, 200,
      R"({"version":7.0,"zones":[{"modules":[{"priority":1,"id":"m1"},{"id":"m2","priority":2e0}],"id":"hero"}]})");
  map.Set(
      differs, 200,
      R"({"zones":[{"id":"hero","modules":[{"id":"m1","priority":1},{"id":"m2","priority":3}]}],"version":7})");
  map.Set(status, 404, R"({"error":"not_found"})");
  map.Set(not_json, 200, "<html>oops</html>");
  ReceiverOptions options;
  options.threads = 1;  // mismatches kept in post order
  std::unique_ptr<Receiver> receiver = MustCreate(options, map.AsCandidate());
  ASSERT_NE(receiver, nullptr);

  std::string post;
  post += Line(match, 200, kLegacy);
  post += Line(reordered, 200, kLegacy);
  post += Line(differs, 200, kLegacy, "2026-11-22T12:00:00.5Z");
  post += Line(status, 200, kLegacy, "2026-11-22T12:00:00Z");
  post += Line(not_json, 200, kLegacy);
  post += Line("/api/v2/tempo/other?tenant=ACME", 200, kLegacy);  // not a layouts request
  post += Line("/api/v2/tempo/layouts/x?tenant=ACME", 200, kLegacy);
  post += Line(match, 200, "<not json>");              // the legacy body is not JSON
  post += "{\"target\":\"/api/v2/tempo/layouts\"}\n";  // malformed: line 9
  http::Response answer = Post(receiver.get(), post);
  EXPECT_EQ(answer.status, 202);
  EXPECT_EQ(
      answer.body,
      R"({"accepted":8,"rejected":1,"dropped":0,"errors":[{"line":9,"message":"`status` missing"}]})");
  bool json = false, no_store = false;
  for (const auto& [name, value] : answer.headers) {
    json |= name == "Content-Type" && value == "application/json";
    no_store |= name == "Cache-Control" && value == "no-store";
  }
  EXPECT_TRUE(json);
  EXPECT_TRUE(no_store);
  receiver->WaitIdle();

  dom::parser parser;
  std::string text;
  dom::element root = Status(receiver.get(), &parser, &text);
  EXPECT_EQ(At(root, "/counts/match"), 2) << text;
  EXPECT_EQ(At(root, "/counts/mismatch"), 3) << text;
  EXPECT_EQ(At(root, "/counts/error"), 3) << text;
  EXPECT_EQ(At(root, "/counts/dropped"), 0) << text;
  EXPECT_EQ(At(root, "/tenants/ACME/match"), 2) << text;
  EXPECT_EQ(At(root, "/tenants/ACME/mismatch"), 3) << text;
  EXPECT_EQ(At(root, "/tenants/ACME/error"), 3) << text;
  EXPECT_EQ(At(root, "/queue/depth"), 0);
  EXPECT_EQ(At(root, "/queue/capacity"), 10'000);

  // Newest first: not_json, status, differs.
  EXPECT_EQ(Str(root, "/mismatches/0/target"), not_json);
  EXPECT_EQ(Str(root, "/mismatches/0/path"), "");
  EXPECT_EQ(Json(root, "/mismatches/0/actual"), R"("<html>oops</html>")");
  EXPECT_EQ(Json(root, "/mismatches/0/expected").substr(0, 10), R"({"zones":[)");

  EXPECT_EQ(Str(root, "/mismatches/1/target"), status);
  EXPECT_EQ(Str(root, "/mismatches/1/path"), "");
  EXPECT_EQ(Json(root, "/mismatches/1/expected"), "200");
  EXPECT_EQ(Json(root, "/mismatches/1/actual"), "404");
  EXPECT_EQ(Str(root, "/mismatches/1/at"), "2026-11-22T12:00:00Z");

  EXPECT_EQ(Str(root, "/mismatches/2/target"), differs);
  EXPECT_EQ(Str(root, "/mismatches/2/tenant"), "ACME");
  EXPECT_EQ(Str(root, "/mismatches/2/path"), "/zones/0/modules/1/priority");
  EXPECT_EQ(Json(root, "/mismatches/2/expected"), "2");
  EXPECT_EQ(Json(root, "/mismatches/2/actual"), "3");
  EXPECT_EQ(Str(root, "/mismatches/2/at"), "2026-11-22T12:00:00.5Z");
}

TEST(ReceiverTest, IgnoredPathsAndAbsentSides) {
  MapCandidate map;
  const std::string extra = std::string(kLayouts) + "&pageId=extra";
  const std::string ignored = std::string(kLayouts) + "&pageId=ignored";
  map.Set(extra, 200, R"({"zones":[],"version":7,"debug":true})");
  map.Set(ignored, 200, R"({"zones":[{"id":"hero","modules":[]}],"version":8})");
  ReceiverOptions options;
  options.ignore = {"/version", "/zones/*/modules"};
  std::unique_ptr<Receiver> receiver = MustCreate(options, map.AsCandidate());
  ASSERT_NE(receiver, nullptr);
  Post(receiver.get(),
       Line(extra, 200, R"({"zones":[],"version":1})") + Line(ignored, 200, kLegacy));
  receiver->WaitIdle();
  dom::parser parser;
  std::string text;
  dom::element root = Status(receiver.get(), &parser, &text);
  EXPECT_EQ(At(root, "/counts/match"), 1) << text;
  EXPECT_EQ(At(root, "/counts/mismatch"), 1) << text;
  EXPECT_EQ(Str(root, "/mismatches/0/path"), "/debug");
  // The legacy side has no /debug: null, and named as missing.
  EXPECT_EQ(Json(root, "/mismatches/0/expected"), "null");
  EXPECT_EQ(Str(root, "/mismatches/0/missing"), "expected");
  EXPECT_EQ(Json(root, "/mismatches/0/actual"), "true");
}

TEST(ReceiverTest, TenantsAreDecodedAndBounded) {
  MapCandidate map;
  std::unique_ptr<Receiver> receiver = MustCreate(ReceiverOptions(), map.AsCandidate());
  ASSERT_NE(receiver, nullptr);
  std::string post;
  // Not layouts requests: counted as errors, by tenant, without the candidate.
  post += Line("/x?tenant=WM%5FGLASS&tenant=NO", 200, "{}");
  post += Line("/x?channel=web", 200, "{}");
  post += Line("/x?tenant=", 200, "{}");
  post += Line("/x?tenant=a+b", 200, "{}");
  post += Line("/x?tenant=%zz", 200, "{}");
  for (int i = 0; i < 1005; ++i) post += Line("/x?tenant=T" + std::to_string(i), 200, "{}");
  Post(receiver.get(), post);
  receiver->WaitIdle();
  dom::parser parser;
  std::string text;
  dom::element root = Status(receiver.get(), &parser, &text);
  EXPECT_EQ(At(root, "/counts/error"), 1010);
  EXPECT_EQ(At(root, "/tenants/WM_GLASS/error"), 1);
  EXPECT_EQ(At(root, "/tenants/_none/error"), 2);
  dom::object tenants;
  ASSERT_FALSE(root.at_pointer("/tenants").get_object().get(tenants));
  EXPECT_EQ(tenants.size(), 1001u);  // 1000 names and _other
  // a+b and %zz, and the tenants past the first 1000 names.
  EXPECT_EQ(At(root, "/tenants/_other/error"), 2 + 1005 - (1000 - 2));
}

TEST(ReceiverTest, KeepsTheNewestMismatchesFirst) {
  MapCandidate map;
  ReceiverOptions options;
  options.keep = 3;
  options.threads = 1;
  std::unique_ptr<Receiver> receiver = MustCreate(options, map.AsCandidate());
  ASSERT_NE(receiver, nullptr);
  std::string post;
  for (int i = 0; i < 5; ++i)
    post += Line(std::string(kLayouts) + "&n=" + std::to_string(i), 200, "{}");
  Post(receiver.get(), post);  // every answer is 404: status mismatches
  receiver->WaitIdle();
  dom::parser parser;
  std::string text;
  dom::element root = Status(receiver.get(), &parser, &text);
  EXPECT_EQ(At(root, "/counts/mismatch"), 5);
  dom::array kept;
  ASSERT_FALSE(root.at_pointer("/mismatches").get_array().get(kept));
  EXPECT_EQ(kept.size(), 3u);
  EXPECT_EQ(Str(root, "/mismatches/0/target"), std::string(kLayouts) + "&n=4");
  EXPECT_EQ(Str(root, "/mismatches/2/target"), std::string(kLayouts) + "&n=2");
}

TEST(ReceiverTest, ResetZeroesTheViewNotTheMetrics) {
  MapCandidate map;
  std::unique_ptr<Receiver> receiver = MustCreate(ReceiverOptions(), map.AsCandidate());
  ASSERT_NE(receiver, nullptr);
  Post(receiver.get(), Line(kLayouts, 200, "{}") + Line("/other", 200, "{}"));
  receiver->WaitIdle();

  http::Response reset;
  receiver->HandleReset(&reset);
  EXPECT_EQ(reset.status, 200);
  EXPECT_EQ(reset.body, R"({"reset":true})");
  http::Response status;
  receiver->HandleStatus(&status);
  EXPECT_EQ(status.body, R"({"counts":{"match":0,"mismatch":0,"error":0,"dropped":0},"tenants":{},)"
                         R"("mismatches":[],"queue":{"depth":0,"capacity":10000}})");

  admin::MetricsWriter metrics;
  receiver->WriteMetrics(&metrics);
  const std::string text = metrics.Take();
  EXPECT_NE(text.find("# TYPE tempo_shadow_items_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find("tempo_shadow_items_total{result=\"match\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("tempo_shadow_items_total{result=\"mismatch\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("tempo_shadow_items_total{result=\"error\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("tempo_shadow_items_total{result=\"dropped\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("tempo_shadow_mismatches_total{tenant=\"ACME\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE tempo_shadow_queue_depth gauge"), std::string::npos);
  EXPECT_NE(text.find("tempo_shadow_queue_depth 0\n"), std::string::npos);
  EXPECT_NE(text.find("tempo_shadow_queue_capacity 10000\n"), std::string::npos);
}

// A candidate that blocks until Release(), counting its calls.
class GatedCandidate {
 public:
  Candidate AsCandidate() {
    return [this](std::string_view, UnixNanos, http::Response* response) {
      calls_.fetch_add(1);
      gate_.wait();
      response->status = 200;
      response->body = kLegacy;
    };
  }
  void Release() { release_.set_value(); }
  int calls() const { return calls_.load(); }
  // Waits (bounded) until the candidate was entered at least once.
  bool WaitEntered() const {
    for (int i = 0; i < 10'000 && calls_.load() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return calls_.load() > 0;
  }

 private:
  std::promise<void> release_;
  std::shared_future<void> gate_ = release_.get_future().share();
  std::atomic<int> calls_{0};
};

TEST(ReceiverTest, QueueFloodDropsAndStillAnswers) {
  GatedCandidate gated;
  ReceiverOptions options;
  options.queue_capacity = 10;
  options.threads = 1;
  std::unique_ptr<Receiver> receiver = MustCreate(options, gated.AsCandidate());
  ASSERT_NE(receiver, nullptr);
  std::string post;
  for (int i = 0; i < 100; ++i) post += Line(kLayouts, 200, kLegacy);

  // The candidate is blocked: posts are still answered, the overflow dropped.
  http::Response first = Post(receiver.get(), post);
  EXPECT_EQ(first.status, 202);
  EXPECT_EQ(first.body, R"({"accepted":100,"rejected":0,"dropped":90,"errors":[]})");
  ASSERT_TRUE(gated.WaitEntered());
  http::Response second = Post(receiver.get(), post);
  EXPECT_EQ(second.status, 202);
  dom::parser parser;
  dom::element answer;
  ASSERT_FALSE(parser.parse(second.body).get(answer));
  int64_t dropped = 0;
  ASSERT_FALSE(answer["dropped"].get_int64().get(dropped));
  EXPECT_GE(dropped, 90);

  std::string text;
  dom::element root = Status(receiver.get(), &parser, &text);
  EXPECT_EQ(At(root, "/counts/dropped"), 90 + dropped);
  EXPECT_LE(At(root, "/queue/depth"), 10);

  gated.Release();
  receiver->WaitIdle();
  root = Status(receiver.get(), &parser, &text);
  EXPECT_EQ(At(root, "/counts/match"), 200 - 90 - dropped);
  EXPECT_EQ(At(root, "/queue/depth"), 0);
}

TEST(ReceiverTest, DestructionWithItemsQueuedDoesNotWaitForThem) {
  GatedCandidate gated;
  ReceiverOptions options;
  options.threads = 2;
  std::unique_ptr<Receiver> receiver = MustCreate(options, gated.AsCandidate());
  ASSERT_NE(receiver, nullptr);
  std::string post;
  for (int i = 0; i < 1000; ++i) post += Line(kLayouts, 200, kLegacy);
  Post(receiver.get(), post);
  ASSERT_TRUE(gated.WaitEntered());
  std::thread destroy([&] { receiver.reset(); });
  // The destructor waits for the calls in flight (one per worker), which end
  // when released; released a moment after it began, the workers see that it
  // has and compare nothing more.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  gated.Release();
  destroy.join();
  EXPECT_LT(gated.calls(), 1000);
}

TEST(ReceiverTest, ConcurrentPostsAndReads) {
  MapCandidate map;
  map.Set(kLayouts, 200, std::string(kLegacy));
  std::unique_ptr<Receiver> receiver = MustCreate(ReceiverOptions(), map.AsCandidate());
  ASSERT_NE(receiver, nullptr);
  std::string post;
  for (int i = 0; i < 200; ++i) post += Line(kLayouts, 200, kLegacy);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        Post(receiver.get(), post);
        http::Response status;
        receiver->HandleStatus(&status);
        admin::MetricsWriter metrics;
        receiver->WriteMetrics(&metrics);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  receiver->WaitIdle();
  dom::parser parser;
  std::string text;
  dom::element root = Status(receiver.get(), &parser, &text);
  EXPECT_EQ(At(root, "/counts/match") + At(root, "/counts/dropped"), 4 * 10 * 200);
  EXPECT_EQ(At(root, "/counts/mismatch"), 0);
}

}  // namespace
}  // namespace tempo::shadow
