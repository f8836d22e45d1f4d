// What the access log costs a request, to a file, from 1 and 2 serving threads.
//
// BM_Write: one AccessLog::Write per iteration, as fast as it goes. "CPU" is
// the calling threads' time per Write; writer_ns is the writer thread's CPU
// time (its write(2) calls) per line written. The writer cannot keep up with
// millions of lines a second, so these runs drop lines (counter dropped): the
// serving threads' cost is the same either way (a dropped block is handed off
// like a queued one).
//
// BM_Request: requests of ~5-6 us of CPU each (the server answers ~150k
// requests/s per core), without (access_log:0) and with (access_log:1) the
// access log at sample 1 in text: the ratio of their items_per_second is
// what the access log leaves of the throughput. With 2 threads on a 2-core
// machine the writer thread takes its CPU from the serving threads.
//
//   ninja -C build/rel access_log_bench && build/rel/bench/access_log_bench
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "http/access_log.h"
#include "testing/temp_dir.h"

namespace {

using tempo::LogFormat;
using tempo::http::AccessLog;
using tempo::http::AccessRecord;

tempo::testing::TempDir* g_dir = nullptr;
std::unique_ptr<AccessLog> g_log;  // shared by the benchmark's threads; made by thread 0

void Fail(const std::string& what) {
  std::fprintf(stderr, "access_log_bench: %s\n", what.c_str());
  std::exit(1);
}

// The CPU time, in nanoseconds, of the access log's writer thread (there is
// one AccessLog at a time here): the first field of its
// /proc/self/task/TID/schedstat.
double WriterCpuNs() {
  double total = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name != tempo::http::kAccessLogThreadName) continue;
    std::ifstream schedstat(task.path() / "schedstat");
    double ns = 0;
    schedstat >> ns;
    total += ns;
  }
  return total;
}

// Opens a new g_log (thread 0 only) on an empty file, closing the previous
// one and removing its file (a run writes up to a few GB).
void OpenLog(const std::string& name, double sample, LogFormat format) {
  g_log.reset();
  const std::string path = g_dir->path() + "/" + name;
  std::filesystem::remove(path);
  auto log = AccessLog::Open(path, sample, format);
  if (!log.ok()) Fail(log.status().ToString());
  g_log = std::move(*log);
}

// Thread 0's counters once the others are done: lines written, dropped, and
// the writer's CPU per line written.
void ReportLog(benchmark::State& state) {
  g_log->Flush();
  const auto stats = g_log->Stats();
  state.counters["written"] = static_cast<double>(stats.lines_written);
  state.counters["dropped"] = static_cast<double>(stats.lines_dropped);
  if (stats.lines_written > 0) {
    state.counters["writer_ns"] = WriterCpuNs() / static_cast<double>(stats.lines_written);
  }
}

// A hot URL's request as the server would log it (a 134-byte text line).
AccessRecord HotRequest() {
  AccessRecord r;
  r.time = 1'796'606'098'123'456'789;
  r.request_id = "5f2b8c1e9a7d4e3f";
  r.client_address = "10.20.30.40:51234";
  r.method = "GET";
  r.target = "/v1/acme/web/home?locale=en-US&segment=returning";
  r.tier = "L1";
  r.status = 200;
  r.bytes = 14'230;
  r.duration_us = 42;
  return r;
}

// state.range(0): the format (1: json); state.range(1): the sample in percent.
void BM_Write(benchmark::State& state) {
  if (state.thread_index() == 0) {
    OpenLog("write.log", static_cast<double>(state.range(1)) / 100,
            static_cast<LogFormat>(state.range(0)));
  }
  AccessRecord r = HotRequest();
  for (auto _ : state) {
    r.time += 1'000;  // 1 us later: a new second every 1M requests
    g_log->Write(r);
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) ReportLog(state);
}
BENCHMARK(BM_Write)
    ->ArgNames({"json", "sample%"})
    ->Args({0, 100})
    ->Args({1, 100})
    ->Args({0, 1})
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

// ~5-6 us of a serving thread's CPU: a chain of dependent multiplications
// the compiler cannot fold away.
uint64_t BurnRequest(uint64_t seed) {
  constexpr int kSteps = 5'000;  // ~3 cycles each
  for (int i = 0; i < kSteps; ++i) seed = seed * 6364136223846793005ull + 1442695040888963407ull;
  return seed;
}

void BM_Request(benchmark::State& state) {
  const bool logged = state.range(0) == 1;
  if (state.thread_index() == 0) {
    g_log.reset();
    if (logged) OpenLog("requests.log", 1.0, LogFormat::kText);
  }
  AccessRecord r = HotRequest();
  uint64_t seed = static_cast<uint64_t>(state.thread_index());
  for (auto _ : state) {
    seed = BurnRequest(seed);
    benchmark::DoNotOptimize(seed);
    if (logged) {
      r.time += 1'000;
      g_log->Write(r);
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (logged && state.thread_index() == 0) ReportLog(state);
}
BENCHMARK(BM_Request)->ArgName("access_log")->Arg(0)->Arg(1)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  tempo::testing::TempDir dir("access_log_bench");
  g_dir = &dir;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_log.reset();
  return 0;
}
