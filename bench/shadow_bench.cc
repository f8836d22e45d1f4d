// Throughput of the shadow receiver (issue 14 goal: >= 20 000 items/s
// compared on one core, the candidate included; the real candidate, the
// LayoutService answering from L1, takes ~10-20 us an item, so the
// receiver's own work must stay at a few us).
//
// Every item carries the same representative ~1.5 KB v2 layout body (SPEC §2
// response shape: 3 zones, 9 modules with content objects), posted as NDJSON
// in posts of kItemsPerPost items; the candidate copies a precomputed body.
//   BM_ParsePost       POST /internal/shadow parsing alone (the admin thread's work)
//   BM_CompareItem     one worker's work per item: parse the legacy body, ask
//                      the candidate, parse its body, compare (equal bodies;
//                      /mismatch: the last module's priority differs)
//   BM_Receiver        a whole post through a Receiver with 1 worker thread,
//                      HandlePost to WaitIdle (wall-clock rate)
//
//   build/<dir>/bench/shadow_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <simdjson.h>
#include <stdio.h>
#include <stdlib.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/json.h"
#include "shadow/item.h"
#include "shadow/json_diff.h"
#include "shadow/receiver.h"

namespace tempo::shadow {
namespace {

constexpr size_t kItemsPerPost = 256;
constexpr std::string_view kTarget =
    "/api/v2/tempo/layouts?tenant=WM_GLASS&channel=web&pageType=homepage&pageId=home";

// A v2 layout answer of ~1.5 KB; `last_priority` is the last module's.
std::string LayoutBody(int last_priority) {
  std::string body =
      R"({"tenant":"WM_GLASS","channel":"web","pageType":"homepage","pageId":"home",)"
      R"("version":1234,"experiments":[{"id":"exp-hero","variant":"B"}],"zones":[)";
  const char* zones[] = {"hero", "main", "footer"};
  // 3 zones of 3 modules: ~1.5 KB.
  int module = 0;
  for (int z = 0; z < 3; ++z) {
    if (z > 0) body += ",";
    body += std::string(R"({"zone":")") + zones[z] + R"(","modules":[)";
    for (int m = 0; m < 3; ++m, ++module) {
      if (m > 0) body += ",";
      const int priority = module == 8 ? last_priority : 100 - module * 10;
      body += R"({"id":"mod-)" + std::to_string(module) + R"(","type":"carousel","priority":)" +
              std::to_string(priority) + R"(,"version":)" + std::to_string(17 + module) +
              R"(,"content":{"title":"Black Friday deals )" + std::to_string(module) +
              R"(","image":{"url":"https://cdn.example.com/img/hero-)" + std::to_string(module) +
              R"(.jpg"}}})";
    }
    body += "]}";
  }
  body += "]}";
  return body;
}

std::string Post(std::string_view legacy) {
  std::string line = "{\"target\":";
  AppendJsonString(kTarget, &line);
  line += ",\"status\":200,\"body\":";
  AppendJsonString(legacy, &line);
  line += ",\"at\":\"2026-11-22T12:00:00Z\"}\n";
  std::string post;
  for (size_t i = 0; i < kItemsPerPost; ++i) post += line;
  return post;
}

[[noreturn]] void Fail(const char* what) {
  fprintf(stderr, "shadow_bench: %s\n", what);
  exit(1);
}

void BM_ParsePost(benchmark::State& state) {
  const std::string post = Post(LayoutBody(20));
  for (auto _ : state) {
    ParsedPost parsed = ParsePost(post, 0);
    if (parsed.items.size() != kItemsPerPost) Fail("post did not parse");
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations() * kItemsPerPost);
  state.SetBytesProcessed(state.iterations() * post.size());
  state.counters["item_bytes"] = static_cast<double>(post.size()) / kItemsPerPost;
}
BENCHMARK(BM_ParsePost);

// What a receiver worker does per item (receiver.cc Compare), inline.
void CompareItems(benchmark::State& state, int candidate_priority) {
  const std::string candidate_body = LayoutBody(candidate_priority);
  ParsedPost parsed = ParsePost(Post(LayoutBody(20)), 0);
  Result<JsonComparer> comparer = JsonComparer::Create({});
  if (!comparer.ok() || parsed.items.empty()) Fail("setup");
  const Item& item = parsed.items[0];
  simdjson::dom::parser expected_parser, actual_parser;
  http::Response response;
  JsonDifference difference;
  size_t equal = 0;
  for (auto _ : state) {
    simdjson::dom::element expected, actual;
    if (expected_parser.parse(item.body).get(expected)) Fail("legacy body");
    response.body.clear();
    response.body.assign(candidate_body);  // the candidate
    if (actual_parser.parse(response.body).get(actual)) Fail("candidate body");
    equal += comparer->Equal(expected, actual, &difference);
  }
  benchmark::DoNotOptimize(equal);
  state.SetItemsProcessed(state.iterations());
  state.counters["body_bytes"] = static_cast<double>(candidate_body.size());
}
void BM_CompareItem(benchmark::State& state) { CompareItems(state, 20); }
void BM_CompareItem_Mismatch(benchmark::State& state) { CompareItems(state, 21); }
BENCHMARK(BM_CompareItem);
BENCHMARK(BM_CompareItem_Mismatch);

void BM_Receiver(benchmark::State& state) {
  const std::string body = LayoutBody(20);
  const std::string post = Post(body);
  ReceiverOptions options;
  options.threads = 1;
  Result<std::unique_ptr<Receiver>> receiver =
      Receiver::Create(options, [&body](std::string_view, UnixNanos, http::Response* response) {
        response->status = 200;
        response->body.assign(body);
      });
  if (!receiver.ok()) Fail("Receiver::Create");
  http::Request request;
  request.method = "POST";
  request.body = post;
  for (auto _ : state) {
    http::Response answer;
    (*receiver)->HandlePost(request, &answer);
    (*receiver)->WaitIdle();
  }
  state.SetItemsProcessed(state.iterations() * kItemsPerPost);
  http::Response status;
  (*receiver)->HandleStatus(&status);
  if (status.body.find("\"mismatch\":0,\"error\":0,\"dropped\":0") == std::string::npos) {
    Fail("items did not all match");
  }
}
BENCHMARK(BM_Receiver)->UseRealTime();

}  // namespace
}  // namespace tempo::shadow

BENCHMARK_MAIN();
