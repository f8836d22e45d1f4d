// L2 Get-hit latency: a typical slice (40 rows, ~20 KB) from a local memcached,
// from 1 and 4 threads; prints p50/p99/p99.9 per thread count.
//
//   l2_bench [host:port,...]   (default: starts one memcached on loopback)
//
// The product goal is an L2 hit p99 under 1 ms. The client timeout is raised
// to 100 ms so that a scheduling stall on a shared machine shows in the tail
// rather than as an error (errors are counted and reported).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "l2/l2.h"
#include "testing/memcached_cluster.h"

namespace {

using namespace tempo;
using Clock = std::chrono::steady_clock;

constexpr int kRows = 40;
constexpr size_t kBodyBytes = 480;
constexpr int kSlices = 64;
constexpr int kGetsPerThread = 20000;
constexpr int kWarmupGets = 1000;

origin::SliceKey Slice(int i) {
  return origin::SliceKey{{"WM_GLASS", "web", "home"}, "page-" + std::to_string(i)};
}

std::vector<origin::Row> TypicalRows(const origin::SliceKey& slice) {
  std::vector<origin::Row> rows;
  for (int i = 0; i < kRows; ++i) {
    rows.push_back(origin::Row{slice.scope, events::Kind::kModule, "module-" + std::to_string(i),
                               1700000000 + i, std::string(kBodyBytes, 'x')});
  }
  return rows;
}

constexpr std::chrono::milliseconds kBenchTimeout{100};

// Runs `threads` threads of Gets; returns the latency of every hit in
// microseconds and counts the calls that did not hit in *failures.
std::vector<double> Measure(l2::L2Client* l2, int threads, std::atomic<int>* failures) {
  std::vector<std::vector<double>> per_thread(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < kWarmupGets + kGetsPerThread; ++i) {
        const origin::SliceKey slice = Slice((i + t * 7) % kSlices);
        const auto start = Clock::now();
        auto got = l2->Get(slice);
        const auto end = Clock::now();
        if (!got.ok() || !got->has_value()) {
          ++*failures;
        } else if (i >= kWarmupGets) {
          per_thread[t].push_back(std::chrono::duration<double, std::micro>(end - start).count());
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  std::vector<double> all;
  for (auto& v : per_thread) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  return all;
}

double Percentile(const std::vector<double>& sorted, double p) {
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<testing::MemcachedCluster> cluster;
  l2::L2Options options;
  if (argc > 1) {
    auto servers = l2::ParseServerList(argv[1]);
    if (!servers.ok()) {
      std::fprintf(stderr, "%s\n", servers.status().ToString().c_str());
      return 2;
    }
    options.servers = *servers;
  } else {
    auto started = testing::MemcachedCluster::Start(1);
    if (!started.ok()) {
      std::fprintf(stderr, "%s\n", started.status().ToString().c_str());
      return 1;
    }
    cluster = std::move(started).value();
    options.servers = cluster->servers();
  }
  options.ns = "bench";
  options.timeout = kBenchTimeout;
  auto opened = l2::L2Client::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  auto l2 = std::move(opened).value();
  size_t value_bytes = 0;
  for (int i = 0; i < kSlices; ++i) {
    const auto rows = TypicalRows(Slice(i));
    for (const auto& row : rows) value_bytes += row.id.size() + row.body.size();
    Status s = l2->Set(Slice(i), rows);
    if (!s.ok()) {
      std::fprintf(stderr, "set: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  std::printf("slice: %d rows, ~%zu bytes of row data; %d Gets per thread (timeout %lld ms)\n",
              kRows, value_bytes / kSlices, kGetsPerThread,
              static_cast<long long>(options.timeout.count()));
  for (int threads : {1, 4}) {
    const auto start = Clock::now();
    std::atomic<int> failures{0};
    std::vector<double> latencies = Measure(l2.get(), threads, &failures);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf(
        "threads=%d  p50=%.0f us  p99=%.0f us  p99.9=%.0f us  max=%.0f us  %.0f Gets/s  %d not "
        "hits\n",
        threads, Percentile(latencies, 0.50), Percentile(latencies, 0.99),
        Percentile(latencies, 0.999), latencies.back(),
        (kWarmupGets + kGetsPerThread) * threads / seconds, failures.load());
  }
  const l2::L2Stats stats = l2->Stats();
  std::printf("hits=%llu misses=%llu errors=%llu\n", static_cast<unsigned long long>(stats.hits),
              static_cast<unsigned long long>(stats.misses),
              static_cast<unsigned long long>(stats.errors));
  return 0;
}
