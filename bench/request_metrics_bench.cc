// The cost of the request metrics on the serving path (admin/request_metrics.h): one
// RequestMetrics::Record per answered request, from one thread and from two at once on
// one shared object (the stripes keep them off each other's cache lines). Figures in
// docs/benchmarks.md.
//
//   build/release/bench/request_metrics_bench --benchmark_min_time=1s
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <vector>

#include "admin/request_metrics.h"
#include "common/histogram.h"

namespace tempo::admin {
namespace {

constexpr size_t kTenants = 8;

// One object for every thread of a run, as the server has one.
RequestMetrics& SharedMetrics() {
  static RequestMetrics metrics;
  return metrics;
}

const std::vector<std::string>& Tenants() {
  static const std::vector<std::string> tenants = [] {
    std::vector<std::string> names;
    for (size_t i = 0; i < kTenants; ++i) names.push_back("tenant-" + std::to_string(i));
    return names;
  }();
  return tenants;
}

// A hot URL: the same route, code, tier and tenant every time.
void BM_RecordHotUrl(benchmark::State& state) {
  RequestMetrics& metrics = SharedMetrics();
  const std::string& tenant = Tenants()[0];
  for (auto _ : state) {
    metrics.Record(Route::kLayoutsV2, 200, "L1", tenant, std::chrono::microseconds(7));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordHotUrl)->Threads(1)->Threads(2)->UseRealTime();

// A mix: 8 tenants, three tiers, 200 and 304, durations across the buckets.
void BM_RecordMixed(benchmark::State& state) {
  RequestMetrics& metrics = SharedMetrics();
  const std::vector<std::string>& tenants = Tenants();
  const char* const tiers[] = {"L1", "L1", "L1", "L2", "origin"};
  const int codes[] = {200, 200, 304};
  const std::chrono::nanoseconds durations[] = {
      std::chrono::microseconds(7), std::chrono::microseconds(40), std::chrono::microseconds(300),
      std::chrono::milliseconds(2), std::chrono::microseconds(12), std::chrono::milliseconds(30),
      std::chrono::microseconds(9)};
  size_t i = static_cast<size_t>(state.thread_index()) * 7;
  for (auto _ : state) {
    metrics.Record(Route::kLayoutsV2, codes[i % 3], tiers[i % 5], tenants[i % kTenants],
                   durations[i % 7]);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordMixed)->Threads(1)->Threads(2)->UseRealTime();

// The histogram alone, and the route lookup the caller does before Record.
void BM_HistogramObserve(benchmark::State& state) {
  static Histogram histogram(kRequestDurationBounds);
  for (auto _ : state) histogram.Observe(std::chrono::microseconds(7));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2)->UseRealTime();

void BM_RouteOf(benchmark::State& state) {
  const std::string target = "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=home";
  for (auto _ : state) benchmark::DoNotOptimize(RouteOf(target));
}
BENCHMARK(BM_RouteOf);

// What the stripes avoid: every thread adding to one shared counter.
void BM_SharedAtomicCounter(benchmark::State& state) {
  static std::atomic<uint64_t> counter{0};
  for (auto _ : state) counter.fetch_add(1, std::memory_order_relaxed);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SharedAtomicCounter)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace tempo::admin

BENCHMARK_MAIN();
