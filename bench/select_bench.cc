// Micro-benchmark: select + render of a 40-module page from in-memory compiled slices.
#include <benchmark/benchmark.h>

#include <string>

#include "select/select.h"

namespace tempo::select {
namespace {

constexpr int kModules = 40;
constexpr UnixNanos kNow = 1'795'000'000'000'000'000;

std::vector<events::Record> PageRecords() {
  static const char* kZones[] = {"hero", "main", "promo", "sidebar", "footer"};
  static const char* kTargeting[] = {
      "",
      R"({"segment":{"$in":["gold","platinum"]}})",
      R"({"geo":"US","age":{"$gte":"18"}})",
      R"({"appVersion":{"$vgte":"2.0.0"}})",
      R"({"$or":[{"tags":{"$elemMatch":{"$eq":"sale"}}},{"device":{"$regex":"^ios"}}]})",
  };
  std::vector<events::Record> records;
  for (int i = 0; i < kModules; ++i) {
    events::Module m;
    m.id = "m" + std::to_string(100 + i);
    m.tenant = "ACME";
    m.page_type = "homepage";
    m.zone = kZones[i % 5];
    m.type = "banner";
    m.channels = {"web"};
    m.priority = (i * 37) % 500;
    m.version = i + 1;
    m.schedule.start = kNow - 1'000'000'000'000;
    m.targeting_json = kTargeting[i % 5];
    m.content_json =
        R"({"title":"Module )" + std::to_string(i) +
        R"(","items":[1,2,3,{"sku":"sku-123","price":19.99}],"image":"https://cdn/x.png"})";
    records.push_back(m);
  }
  events::Experiment e;
  e.id = "exp-hero";
  e.tenant = "ACME";
  e.page_type = "homepage";
  e.channels = {"web"};
  e.version = 3;
  e.seed = "exp-hero";
  e.hash_version = 2;
  events::Variant control{"control", {}, {}, {}};
  events::Variant b{"B", {"m100"}, {}, {{"m101", 999}}};
  e.variants = {control, b};
  records.push_back(e);
  events::Template t;
  t.tenant = "ACME";
  t.channel = "web";
  t.page_type = "homepage";
  t.version = 2;
  t.zones = {{"hero", 3}, {"main", std::nullopt}, {"promo", 4}};
  records.push_back(t);
  return records;
}

void BM_SelectAndRender(benchmark::State& state) {
  auto slice = CompileSlice("*", PageRecords());
  select::PageRequest request;
  request.api_version = static_cast<int>(state.range(0));
  request.tenant = "ACME";
  request.channel = "web";
  request.page_type = "homepage";
  request.visitor_id = "v-12345";
  request.attributes = {{"segment", {"gold"}},     {"geo", {"US"}},
                        {"age", {"31"}},           {"appVersion", {"2.3.1"}},
                        {"tags", {"sale", "new"}}, {"device", {"ios-phone"}}};
  std::string body;
  for (auto _ : state) {
    body.clear();
    Selection s = Select(request, *slice, nullptr, kNow);
    Render(request, s, &body);
    benchmark::DoNotOptimize(body.data());
  }
  state.counters["body_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_SelectAndRender)->Arg(1)->Arg(2);

void BM_CompileSlice(benchmark::State& state) {
  const auto records = PageRecords();
  for (auto _ : state) benchmark::DoNotOptimize(CompileSlice("*", records));
}
BENCHMARK(BM_CompileSlice);

}  // namespace
}  // namespace tempo::select

BENCHMARK_MAIN();
