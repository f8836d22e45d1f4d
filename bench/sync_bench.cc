// Throughput of the sync loop (product goal: >= 50K events/s from a 1M-event
// backlog): what `tempo sync --log DIR --store DIR` does, measured in process.
//
// The backlog is the first --events=N lines (default 1 000 000) of
// `tempo gen --modules 5000` with as many tenants as that takes (~560 bytes
// an event, 1% invalid, several versions of some records), appended once to
// an embedded log (src/log) in a temporary directory. BM_SyncLog drains it
// as a new consumer group into a fresh RocksDB origin with a Syncer whose
// DLQ and invalidations go to the same log, as the real service: one
// ApplyBatch, one WAL sync, one fsynced Flush and one offset commit per poll
// batch. Baselines on the first kBaselineEvents lines show where the time
// goes: decoding alone, and decode + Apply (one event a write) or
// ApplyBatch (one write a batch, with or without the outbox) without the loop.
//
//   build/<dir>/bench/sync_bench [--events=N] [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "events/events.h"
#include "gen/generator.h"
#include "log/log.h"
#include "origin/rocks_origin.h"
#include "sync/publish.h"
#include "sync/syncer.h"

namespace tempo::sync {
namespace {

constexpr int kModulesPerTenant = 5000;
// `tempo gen` writes ~1.7 events per module; the margin makes sure one run
// of the generator gives enough lines.
constexpr double kEventsPerTenant = kModulesPerTenant * 1.5;
constexpr size_t kBaselineEvents = 200'000;

size_t g_events = 1'000'000;
std::string g_root;  // a temporary directory, removed at exit

[[noreturn]] void Fail(const std::string& what) {
  fprintf(stderr, "sync_bench: %s\n", what.c_str());
  std::filesystem::remove_all(g_root);
  exit(1);
}

struct Backlog {
  std::string log_dir;
  std::vector<std::string> baseline;  // the first kBaselineEvents lines
  size_t events = 0;
};

// Generates the backlog and appends it to the log on first use.
const Backlog& TheBacklog() {
  static const Backlog backlog = [] {
    Backlog b;
    b.log_dir = g_root + "/log";
    const std::string file = g_root + "/events.ndjson";
    {
      std::ofstream out(file, std::ios::binary);
      gen::GenOptions options;
      options.tenants = static_cast<int>(g_events / kEventsPerTenant) + 1;
      options.modules = kModulesPerTenant;
      if (Status s = gen::Generate(options, out, nullptr, nullptr); !s.ok()) Fail(s.ToString());
      if (!out.flush()) Fail("cannot write " + file);
    }
    auto producer = log::OpenLogProducer(b.log_dir);
    if (!producer.ok()) Fail(producer.status().ToString());
    std::ifstream in(file, std::ios::binary);
    for (std::string line; b.events < g_events && std::getline(in, line); ++b.events) {
      auto event = events::DecodeEvent(line);
      const std::string key = event.ok() ? ContentKey(event->key) : "invalid";
      if (Status s = (*producer)->Send(stream::kContentTopic, key, line); !s.ok()) {
        Fail(s.ToString());
      }
      if (b.baseline.size() < kBaselineEvents) b.baseline.push_back(std::move(line));
    }
    if (Status s = (*producer)->Flush(std::chrono::minutes(5)); !s.ok()) Fail(s.ToString());
    std::filesystem::remove(file);
    if (b.events < g_events)
      Fail("the generator gave only " + std::to_string(b.events) + " events");
    return b;
  }();
  return backlog;
}

// A fresh RocksDB origin under g_root, removed afterwards.
class ScratchOrigin {
 public:
  ScratchOrigin() : dir_(g_root + "/store" + std::to_string(next_++)) {
    auto opened = origin::OpenRocksOrigin(dir_);
    if (!opened.ok()) Fail(opened.status().ToString());
    origin_ = std::move(*opened);
  }
  ~ScratchOrigin() {
    origin_.reset();
    std::filesystem::remove_all(dir_);
  }
  origin::Origin* get() { return origin_.get(); }

 private:
  static inline int next_ = 0;
  std::string dir_;
  std::unique_ptr<origin::Origin> origin_;
};

void SetRate(benchmark::State& state, size_t events) {
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

std::vector<events::Event> DecodeAll(const std::vector<std::string>& lines) {
  std::vector<events::Event> out;
  for (const std::string& line : lines) {
    auto event = events::DecodeEvent(line);
    if (event.ok()) out.push_back(std::move(*event));
  }
  return out;
}

void BM_Decode(benchmark::State& state) {
  const std::vector<std::string>& lines = TheBacklog().baseline;
  for (auto _ : state) {
    for (const std::string& line : lines) benchmark::DoNotOptimize(events::DecodeEvent(line));
  }
  SetRate(state, lines.size());
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond)->UseRealTime();

// Args: events per ApplyBatch (0: one Apply per event), and whether each
// batch records its pending invalidations (the outbox, as the Syncer does).
void BM_DecodeAndApply(benchmark::State& state) {
  const std::vector<std::string>& lines = TheBacklog().baseline;
  const size_t batch = static_cast<size_t>(state.range(0));
  const bool record_pending = state.range(1) != 0;
  std::vector<origin::SliceKey> touched;
  std::vector<origin::ApplyResult> results;
  for (auto _ : state) {
    state.PauseTiming();
    auto origin = std::make_unique<ScratchOrigin>();
    state.ResumeTiming();
    const std::vector<events::Event> decoded = DecodeAll(lines);
    if (batch == 0) {
      for (const events::Event& event : decoded) {
        touched.clear();
        if (!origin->get()->Apply(event, &touched).ok()) Fail("apply");
      }
    } else {
      std::vector<const events::Event*> pointers;
      for (size_t i = 0; i < decoded.size(); i += batch) {
        pointers.clear();
        for (size_t j = i; j < std::min(decoded.size(), i + batch); ++j) {
          pointers.push_back(&decoded[j]);
        }
        touched.clear();
        if (!origin->get()->ApplyBatch(pointers, &results, &touched, record_pending).ok()) {
          Fail("apply batch");
        }
      }
    }
    if (!origin->get()->Sync().ok()) Fail("sync");
    state.PauseTiming();
    origin.reset();
    state.ResumeTiming();
  }
  SetRate(state, lines.size());
}
BENCHMARK(BM_DecodeAndApply)
    ->Args({0, 0})
    ->Args({2000, 0})
    ->Args({2000, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(2);

// The real service's loop over the whole backlog. Arg: max_batch.
void BM_SyncLog(benchmark::State& state) {
  const Backlog& backlog = TheBacklog();
  uint64_t applied = 0, invalidations = 0;
  int64_t apply_us = 0, batch_us = 0;  // decode + apply; first decode to commit
  static int run = 0;                  // a new consumer group per run, reading from offset 0
  for (auto _ : state) {
    state.PauseTiming();
    auto origin = std::make_unique<ScratchOrigin>();
    auto consumer =
        log::OpenLogConsumer(backlog.log_dir, "bench" + std::to_string(run++),
                             {std::string(stream::kContentTopic)}, log::StartAt::kEarliest);
    auto producer = log::OpenLogProducer(backlog.log_dir);
    if (!consumer.ok() || !producer.ok()) Fail("cannot open the log");
    SyncOptions options;
    options.max_batch = static_cast<size_t>(state.range(0));
    options.poll_timeout = std::chrono::milliseconds(0);
    Syncer syncer(consumer->get(), producer->get(), origin->get(), options);
    state.ResumeTiming();
    for (;;) {
      auto batch = syncer.RunOnce();
      if (!batch.ok()) Fail(batch.status().ToString());
      if (batch->messages == 0) break;
      apply_us += syncer.Stats().last_batch_apply_us;
      batch_us += syncer.Stats().last_batch_total_us;
    }
    state.PauseTiming();
    if (syncer.Stats().events != backlog.events) {
      Fail("consumed " + std::to_string(syncer.Stats().events) + " of " +
           std::to_string(backlog.events) + " events");
    }
    applied += syncer.Stats().applied;
    invalidations += syncer.Stats().invalidations;
    origin.reset();
    state.ResumeTiming();
  }
  SetRate(state, backlog.events);
  state.counters["events"] = static_cast<double>(backlog.events);
  state.counters["applied"] = static_cast<double>(applied) / state.iterations();
  state.counters["invalidations"] = static_cast<double>(invalidations) / state.iterations();
  // The share of a batch's time spent decoding and applying (the rest: the
  // origin's WAL sync, sending and flushing invalidations, the commit).
  state.counters["apply_share"] =
      batch_us > 0 ? static_cast<double>(apply_us) / static_cast<double>(batch_us) : 0;
}
BENCHMARK(BM_SyncLog)
    ->Arg(2000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace
}  // namespace tempo::sync

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    char* end = nullptr;
    if (arg.starts_with("--events=")) {
      const unsigned long long n = strtoull(argv[i] + 9, &end, 10);
      if (*end == '\0' && n > 0 && n <= 100'000'000) {
        tempo::sync::g_events = n;
        continue;
      }
    }
    fprintf(stderr,
            "sync_bench: unknown argument %s (--events=N, 1 <= N <= 1e8, and "
            "Google Benchmark's --benchmark_* flags)\n",
            argv[i]);
    return 2;
  }
  const char* tmp = getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/tempo_sync_bench.XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    perror("sync_bench: mkdtemp");
    return 1;
  }
  tempo::sync::g_root = pattern;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(tempo::sync::g_root);
  return 0;
}
