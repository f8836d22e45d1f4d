// Throughput of the sync loop: events/s that Syncer::RunOnce applies from a
// backlog into a RocksDB origin (product goal: >= 50K events/s).
//
// The backlog is `tempo gen --tenants 20 --modules 5000` (about 172K events,
// 1% invalid, ~560 bytes each) in an in-memory stream of 8 partitions, so
// what is measured is decode + origin + invalidations, not a broker.
// Baselines show where the time goes: decoding alone, and decode + Apply
// without the loop.
//
//   build/<dir>/src/sync/sync_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "events/events.h"
#include "gen/generator.h"
#include "origin/origin.h"
#include "sync/memory_stream_test_util.h"
#include "sync/publish.h"
#include "sync/syncer.h"

namespace tempo::sync {
namespace {

constexpr int kTenants = 20;
constexpr int kModulesPerTenant = 5000;
constexpr int32_t kPartitions = 8;

const std::vector<std::string>& Backlog() {
  static const std::vector<std::string> lines = [] {
    std::ostringstream out;
    gen::GenOptions options;
    options.tenants = kTenants;
    options.modules = kModulesPerTenant;
    if (!gen::Generate(options, out, nullptr, nullptr).ok()) abort();
    std::vector<std::string> result;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) result.push_back(std::move(line));
    return result;
  }();
  return lines;
}

// A fresh RocksDB origin in a temporary directory, removed afterwards.
class ScratchOrigin {
 public:
  ScratchOrigin() {
    const char* tmp = getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/tempo_sync_bench.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) abort();
    dir_ = pattern;
    auto opened = origin::OpenRocksOrigin(dir_ + "/db");
    if (!opened.ok()) abort();
    origin_ = std::move(*opened);
  }
  ~ScratchOrigin() {
    origin_.reset();
    std::filesystem::remove_all(dir_);
  }
  origin::Origin* get() { return origin_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<origin::Origin> origin_;
};

void BM_Decode(benchmark::State& state) {
  const std::vector<std::string>& lines = Backlog();
  for (auto _ : state) {
    for (const std::string& line : lines) benchmark::DoNotOptimize(events::DecodeEvent(line));
  }
  state.counters["events/s"] = benchmark::Counter(
      static_cast<double>(lines.size()) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_DecodeAndApply(benchmark::State& state) {
  const std::vector<std::string>& lines = Backlog();
  for (auto _ : state) {
    state.PauseTiming();
    auto origin = std::make_unique<ScratchOrigin>();
    std::vector<origin::SliceKey> touched;
    state.ResumeTiming();
    for (const std::string& line : lines) {
      auto event = events::DecodeEvent(line);
      if (!event.ok()) continue;
      touched.clear();
      if (!origin->get()->Apply(*event, &touched).ok()) abort();
    }
    if (!origin->get()->Sync().ok()) abort();
    state.PauseTiming();
    origin.reset();
    state.ResumeTiming();
  }
  state.counters["events/s"] = benchmark::Counter(
      static_cast<double>(lines.size()) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeAndApply)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// Arg: max_batch.
void BM_SyncerBacklog(benchmark::State& state) {
  const std::vector<std::string>& lines = Backlog();
  uint64_t applied = 0, invalidations = 0;
  for (auto _ : state) {
    state.PauseTiming();
    testing::MemoryLog log;
    for (const std::string& line : lines) {
      auto event = events::DecodeEvent(line);
      const std::string key = event.ok() ? ContentKey(event->key) : "invalid";
      log.Append(stream::kContentTopic, static_cast<int32_t>(std::hash<std::string>()(key) % kPartitions),
                 key, line);
    }
    auto origin = std::make_unique<ScratchOrigin>();
    testing::MemoryConsumer consumer(&log, {std::string(stream::kContentTopic)});
    testing::MemoryProducer producer(&log);
    SyncOptions options;
    options.max_batch = static_cast<size_t>(state.range(0));
    options.poll_timeout = std::chrono::milliseconds(0);
    Syncer syncer(&consumer, &producer, origin->get(), options);
    state.ResumeTiming();
    for (;;) {
      auto batch = syncer.RunOnce();
      if (!batch.ok()) abort();
      if (batch->messages == 0) break;
    }
    state.PauseTiming();
    if (syncer.Stats().events != lines.size()) abort();
    applied += syncer.Stats().applied;
    invalidations += syncer.Stats().invalidations;
    origin.reset();
    state.ResumeTiming();
  }
  state.counters["events/s"] = benchmark::Counter(
      static_cast<double>(lines.size()) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["applied"] = static_cast<double>(applied) / state.iterations();
  state.counters["invalidations"] = static_cast<double>(invalidations) / state.iterations();
}
BENCHMARK(BM_SyncerBacklog)
    ->Arg(500)
    ->Arg(2000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace
}  // namespace tempo::sync

BENCHMARK_MAIN();
