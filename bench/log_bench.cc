// Throughput of the embedded log: reading a backlog of 1M ~500-byte events
// (what `tempo serve --embedded` does after a bulk publish), appending with
// one Flush (fsync) per batch (what `tempo publish --embedded` does), and
// the latency from a publish to a waiting consumer.
//
//   ninja -C build/rel log_bench && build/rel/bench/log_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "log/log.h"

namespace {

using namespace std::chrono_literals;
using tempo::log::LogOptions;

constexpr int64_t kBacklogEvents = 1'000'000;
constexpr size_t kValueBytes = 470;  // + a ~30-byte key: ~500 bytes an event
constexpr size_t kPollBatch = 2000;  // the sync loop's default max_batch

std::string g_root;  // a temp dir, removed at exit

std::string Key(int64_t i) { return "acme/module/m" + std::to_string(i % 50'000) + "/x"; }

void Fail(const std::string& what) {
  std::fprintf(stderr, "log_bench: %s\n", what.c_str());
  std::exit(1);
}

// The backlog's directory, written on first use.
const std::string& Backlog() {
  static const std::string dir = [] {
    std::string dir = g_root + "/backlog";
    auto p = tempo::log::OpenLogProducer(dir);
    if (!p.ok()) Fail(p.status().ToString());
    std::string value(kValueBytes, 'v');
    for (int64_t i = 0; i < kBacklogEvents; ++i) {
      if (!(*p)->Send("tempo.content.v1", Key(i), value).ok()) Fail("send");
    }
    if (!(*p)->Flush(60s).ok()) Fail("flush");
    return dir;
  }();
  return dir;
}

// Reads the whole backlog as a new consumer group, in Polls of kPollBatch.
void BM_ReadBacklog(benchmark::State& state) {
  const std::string& dir = Backlog();
  int group = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    auto c = tempo::log::OpenLogConsumer(dir, "g" + std::to_string(group++), {"tempo.content.v1"},
                                         tempo::log::StartAt::kEarliest);
    if (!c.ok()) Fail(c.status().ToString());
    int64_t read = 0;
    while (read < kBacklogEvents) {
      auto got = (*c)->Poll(kPollBatch, 1s);
      if (!got.ok() || got->empty()) Fail("poll");
      for (const auto& m : *got) bytes += static_cast<int64_t>(m.key.size() + m.value.size());
      read += static_cast<int64_t>(got->size());
    }
  }
  state.SetItemsProcessed(state.iterations() * kBacklogEvents);
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_ReadBacklog)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// Appends ~500-byte events, one Flush (write + fsync) per state.range(0).
void BM_Append(benchmark::State& state) {
  std::string dir = g_root + "/append" + std::to_string(state.range(0));
  auto p = tempo::log::OpenLogProducer(dir);
  if (!p.ok()) Fail(p.status().ToString());
  std::string value(kValueBytes, 'v');
  int64_t i = 0;
  for (auto _ : state) {
    for (int64_t n = 0; n < state.range(0); ++n, ++i) {
      if (!(*p)->Send("tempo.content.v1", Key(i), value).ok()) Fail("send");
    }
    if (!(*p)->Flush(10s).ok()) Fail("flush");
  }
  state.SetItemsProcessed(i);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Append)->Arg(1)->Arg(100)->Arg(2000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// From Send to the message in a Poll of a consumer waiting in another
// thread: one write, one fsync and up to one poll_interval. The loop makes
// it the worst case: each publish comes just after the consumer went back
// to sleep.
void BM_PublishToPoll(benchmark::State& state) {
  std::string dir = g_root + "/latency";
  auto p = tempo::log::OpenLogProducer(dir);
  auto c = tempo::log::OpenLogConsumer(dir, "g", {"t"}, tempo::log::StartAt::kEarliest);
  if (!p.ok() || !c.ok()) Fail("open");
  std::atomic<int64_t> received{0};
  std::atomic<bool> stop{false};
  std::thread consumer([&] {
    while (!stop.load()) {
      auto got = (*c)->Poll(100, 100ms);
      if (!got.ok()) Fail(got.status().ToString());
      received.fetch_add(static_cast<int64_t>(got->size()));
    }
  });
  int64_t sent = 0;
  for (auto _ : state) {
    if (!(*p)->Send("t", "k", "v").ok() || !(*p)->Flush(10s).ok()) Fail("publish");
    ++sent;
    while (received.load() < sent) std::this_thread::yield();
  }
  stop.store(true);
  consumer.join();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_PublishToPoll)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/log_bench_XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) Fail("mkdtemp");
  g_root = pattern;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(g_root);
  return 0;
}
