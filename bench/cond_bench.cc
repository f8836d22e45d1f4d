// Micro-benchmarks of the condition evaluator (src/cond): Evaluate() per
// operator family on compiled conditions, building a request's attribute
// object, and Hash(). Attributes look like the server's: an object of
// string values (and one list), as select.cc builds them per request.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "cond/cond.h"

namespace tempo::cond {
namespace {

// A request carries this many t.* attributes besides the built-ins.
constexpr int kExtraAttributes = 20;

Value Attributes() {
  std::vector<Value::Member> fields;
  fields.emplace_back("tenant", Value::String("WM_GLASS"));
  fields.emplace_back("channel", Value::String("web"));
  fields.emplace_back("pageType", Value::String("home"));
  fields.emplace_back("visitorId", Value::String("v-8f14e45fceea167a"));
  fields.emplace_back("country", Value::String("US"));
  fields.emplace_back("age", Value::String("45"));
  fields.emplace_back("appVersion", Value::String("1.14.2"));
  fields.emplace_back("ua", Value::String("Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36"));
  fields.emplace_back("tags", Value::Array({Value::String("a"), Value::String("b"),
                                            Value::String("c"), Value::String("d")}));
  for (int i = 0; i < kExtraAttributes; ++i) {
    fields.emplace_back("attr" + std::to_string(i), Value::String("value" + std::to_string(i)));
  }
  return Value::Object(std::move(fields));
}

void BenchEvaluate(benchmark::State& state, const char* condition_json) {
  const Value attributes = Attributes();
  auto condition = Condition::Compile(condition_json);
  if (!condition.ok()) {
    state.SkipWithError(condition.status().ToString().c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(condition->Evaluate(attributes));
}

void BM_Equality(benchmark::State& state) {
  BenchEvaluate(state, R"({"country":"US","channel":"web"})");
}
BENCHMARK(BM_Equality);

void BM_EqualityLastKey(benchmark::State& state) {
  BenchEvaluate(state, R"({"attr19":"value19"})");
}
BENCHMARK(BM_EqualityLastKey);

void BM_In(benchmark::State& state) {
  BenchEvaluate(state,
                R"({"country":{"$in":["CA","MX","GB","FR","DE","IT","ES","JP","BR","US"]}})");
}
BENCHMARK(BM_In);

void BM_Ini(benchmark::State& state) {
  BenchEvaluate(state,
                R"({"country":{"$ini":["ca","mx","gb","fr","de","it","es","jp","br","us"]}})");
}
BENCHMARK(BM_Ini);

void BM_Comparison(benchmark::State& state) {
  BenchEvaluate(state, R"({"age":{"$gt":30,"$lte":60}})");  // "45" coerced to a number
}
BENCHMARK(BM_Comparison);

void BM_Regex(benchmark::State& state) {
  BenchEvaluate(state, R"j({"ua":{"$regex":"(Mobile|Tablet)"}})j");
}
BENCHMARK(BM_Regex);

void BM_RegexIgnoreCase(benchmark::State& state) {
  BenchEvaluate(state, R"({"ua":{"$regexi":"android \\d+"}})");
}
BENCHMARK(BM_RegexIgnoreCase);

void BM_Versions(benchmark::State& state) {
  BenchEvaluate(state, R"({"appVersion":{"$vgte":"1.2.0","$vlt":"2.0.0"}})");
}
BENCHMARK(BM_Versions);

void BM_ElemMatch(benchmark::State& state) {
  BenchEvaluate(state, R"({"tags":{"$elemMatch":{"$eq":"d"}}})");
}
BENCHMARK(BM_ElemMatch);

void BM_Logical(benchmark::State& state) {
  BenchEvaluate(
      state,
      R"({"$or":[{"country":"CA"},{"$and":[{"channel":"web"},{"$not":{"pageType":"cart"}}]}],
                    "$nor":[{"tenant":"OTHER"}]})");
}
BENCHMARK(BM_Logical);

void BM_MissingPath(benchmark::State& state) {
  BenchEvaluate(state, R"({"user.profile.tier":{"$exists":false}})");
}
BENCHMARK(BM_MissingPath);

// What a request pays before any condition runs: select.cc copies the
// request's name/value strings into an attribute object.
void BM_BuildAttributes(benchmark::State& state) {
  std::vector<std::pair<std::string, std::string>> request;
  for (const auto& [name, value] : Attributes().object_members()) {
    if (value.is_string()) request.emplace_back(name, value.string_value());
  }
  for (auto _ : state) {
    std::vector<Value::Member> fields;
    fields.reserve(request.size());
    for (const auto& [name, value] : request) fields.emplace_back(name, Value::String(value));
    benchmark::DoNotOptimize(Value::Object(std::move(fields)));
  }
  state.counters["attributes"] = static_cast<double>(request.size());
}
BENCHMARK(BM_BuildAttributes);

void BM_Compile(benchmark::State& state) {
  const std::string json =
      R"j({"$or":[{"country":{"$in":["CA","MX"]}},{"ua":{"$regex":"(Mobile|Tablet)"}}],)j"
      R"("appVersion":{"$vgte":"1.2.0"}})";
  for (auto _ : state) benchmark::DoNotOptimize(Condition::Compile(json));
}
BENCHMARK(BM_Compile);

void BM_HashV1(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Hash("exp-homepage-hero", "v-8f14e45fceea167a", 1));
}
BENCHMARK(BM_HashV1);

void BM_HashV2(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Hash("exp-homepage-hero", "v-8f14e45fceea167a", 2));
}
BENCHMARK(BM_HashV2);

}  // namespace
}  // namespace tempo::cond

BENCHMARK_MAIN();
