// RunLoad: checks the options, resolves the server, connects, runs the workers and merges
// what they measured.
#include "loadgen/loadgen.h"

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <thread>

#include "common/duration.h"
#include "loadgen/request_source.h"
#include "loadgen/worker.h"

namespace tempo::loadgen {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// The gap between the end of the connect phase and the first intended send, so that every
// worker is running before its first request is due.
constexpr std::chrono::milliseconds kStartDelay{20};

Status CheckOptions(const LoadOptions& o) {
  if (o.targets.empty()) return Status::InvalidArgument("no request to send");
  if (!(o.rate_per_s > 0) || o.rate_per_s > kMaxRatePerS) {
    return Status::InvalidArgument("the rate must be > 0 and at most " +
                                   std::to_string(static_cast<int64_t>(kMaxRatePerS)) + "/s");
  }
  if (o.duration.count() <= 0) return Status::InvalidArgument("the duration must be > 0");
  if (o.warmup.count() < 0) return Status::InvalidArgument("the warm-up must be >= 0");
  if (o.duration + o.warmup > kMaxDuration) {
    return Status::InvalidArgument("the warm-up and duration together must be at most " +
                                   FormatDuration(kMaxDuration));
  }
  if (o.connections < 1 || o.connections > kMaxConnections) {
    return Status::InvalidArgument("connections must be from 1 to " +
                                   std::to_string(kMaxConnections));
  }
  if (o.threads < 1 || o.threads > kMaxThreads || o.threads > o.connections) {
    return Status::InvalidArgument("threads must be from 1 to " + std::to_string(kMaxThreads) +
                                   " and at most the connections");
  }
  if (o.timeout.count() <= 0) return Status::InvalidArgument("the time-out must be > 0");
  return Status::OK();
}

Result<tcp::endpoint> Resolve(const std::string& host, uint16_t port) {
  asio::io_context io;
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  const auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) {
    return Status::Unavailable("cannot resolve " + host + ": " +
                               (ec ? ec.message() : std::string("no address")));
  }
  return results.begin()->endpoint();
}

// Runs fn(i) on one thread per worker and waits for them all.
template <typename Fn>
void OnEachThread(size_t workers, Fn fn) {
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (size_t i = 0; i < workers; ++i) threads.emplace_back([&fn, i] { fn(i); });
  for (auto& thread : threads) thread.join();
}

// Calls `progress` once a second from `start` until no worker is `running`.
void ReportProgress(const ProgressFn& progress, Clock::time_point start,
                    Clock::time_point measure_start, std::vector<std::unique_ptr<Worker>>& workers,
                    const std::atomic<int>& running) {
  auto done = [&] { return running.load() == 0; };
  for (int64_t second = 1; !done(); ++second) {
    const Clock::time_point tick = start + std::chrono::seconds(second);
    while (!done() && Clock::now() < tick) {
      std::this_thread::sleep_for(
          std::min<Clock::duration>(tick - Clock::now(), std::chrono::milliseconds(50)));
    }
    if (done()) return;
    Progress p;
    p.elapsed = std::chrono::seconds(second);
    p.warmup = tick - std::chrono::seconds(1) < measure_start;
    for (auto& worker : workers) {
      ProgressCounters& c = worker->state().progress;
      p.answers += c.answers.exchange(0, std::memory_order_relaxed);
      p.errors += c.errors.exchange(0, std::memory_order_relaxed);
      p.max_latency_us =
          std::max(p.max_latency_us, c.max_latency_us.exchange(0, std::memory_order_relaxed));
    }
    progress(p);
  }
}

}  // namespace

void ErrorCounts::Add(const ErrorCounts& other) {
  connect += other.connect;
  timeout += other.timeout;
  io += other.io;
  status_4xx += other.status_4xx;
  status_5xx += other.status_5xx;
}

bool FellShortOfRate(const LoadReport& report) {
  return report.achieved_rate_per_s < kAchievedRateShortfall * report.requested_rate_per_s;
}

Result<LoadReport> RunLoad(const LoadOptions& options, const ProgressFn& progress) {
  if (Status st = CheckOptions(options); !st.ok()) return st;
  Result<tcp::endpoint> endpoint = Resolve(options.host, options.port);
  if (!endpoint.ok()) return endpoint.status();

  std::vector<std::string> requests;
  requests.reserve(options.targets.size());
  for (const std::string& target : options.targets) {
    requests.push_back(RenderGet(target, options.host, options.port));
  }
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < options.threads; ++t) {
    // Connections t*C/T to (t+1)*C/T - 1, and a start in the log as far into it.
    const int first = t * options.connections / options.threads;
    const int next = (t + 1) * options.connections / options.threads;
    workers.push_back(std::make_unique<Worker>(
        options, *endpoint, &requests, requests.size() * t / options.threads, first, next - first));
  }

  std::vector<int> made(workers.size(), 0);
  std::vector<std::string> errors(workers.size());
  OnEachThread(workers.size(), [&](size_t i) { made[i] = workers[i]->Connect(&errors[i]); });
  int total_made = 0;
  for (int m : made) total_made += m;
  if (total_made == 0) {
    return Status::Unavailable("cannot connect to " + options.host + ":" +
                               std::to_string(options.port) + ": " + errors.front());
  }

  const Clock::time_point start = Clock::now() + kStartDelay;
  const Clock::time_point measure_start = start + options.warmup;
  const Clock::time_point end = measure_start + options.duration;
  // The workers run on threads of their own; this one reports progress meanwhile.
  std::atomic<int> running{static_cast<int>(workers.size())};
  std::thread runner([&] {
    OnEachThread(workers.size(), [&](size_t i) {
      workers[i]->Run(start, measure_start, end);
      running.fetch_sub(1);
    });
  });
  if (progress) ReportProgress(progress, start, measure_start, workers, running);
  runner.join();

  LoadReport report;
  report.requested_rate_per_s = options.rate_per_s;
  report.duration = options.duration;
  for (auto& worker : workers) {
    WorkerState& s = worker->state();
    report.requests += s.answers;
    report.unsent += s.unsent;
    report.errors.Add(s.errors);
    report.latency_us.Merge(s.latency_us);
    report.service_time_us.Merge(s.service_time_us);
  }
  report.achieved_rate_per_s = static_cast<double>(report.requests) /
                               std::chrono::duration<double>(options.duration).count();
  return report;
}

}  // namespace tempo::loadgen
