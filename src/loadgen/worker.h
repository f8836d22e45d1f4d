// Worker: one thread of a load run (loadgen.h): an event loop, its share of the connections,
// and what they measured, merged into the LoadReport once the thread is done.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/hdr_histogram.h"
#include "loadgen/loadgen.h"
#include "loadgen/schedule.h"

namespace tempo::loadgen {

class Connection;

// Counters a worker bumps as answers arrive and the progress line reads (and resets) from
// another thread once a second. On a cache line of their own (see kStripeAlignBytes in
// common/histogram.h) so that the reader does not slow the worker's other writes.
struct alignas(128) ProgressCounters {
  std::atomic<uint64_t> answers{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<int64_t> max_latency_us{0};
};

// What a run's connections share on one thread. Only the worker's thread touches it, except
// `progress`.
struct WorkerState {
  // One thread at a time runs it, and nothing else touches it: no locking inside Asio (the
  // scheduler's and the reactor's mutexes were 4 % of a saturated run's profile).
  boost::asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  boost::asio::ip::tcp::endpoint endpoint;
  std::chrono::nanoseconds timeout{0};
  // The rendered requests (RenderGet) all workers share, and this worker's next one.
  const std::vector<std::string>* requests = nullptr;
  size_t next_request = 0;
  // Requests sent in [measure_start, end) are measured; none is sent from `end` on.
  Clock::time_point measure_start;
  Clock::time_point end;

  HdrHistogram latency_us;
  HdrHistogram service_time_us;
  uint64_t answers = 0;
  uint64_t unsent = 0;
  ErrorCounts errors;
  ProgressCounters progress;

  const std::string& NextRequest() {
    const std::string& request = (*requests)[next_request];
    if (++next_request == requests->size()) next_request = 0;
    return request;
  }
};

class Worker {
 public:
  // Connections `first` to `first + count - 1` of `options.connections`, sending the rendered
  // `requests` (which must outlive the worker) from index `first_request` on.
  Worker(const LoadOptions& options, const boost::asio::ip::tcp::endpoint& endpoint,
         const std::vector<std::string>* requests, size_t first_request, int first, int count);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Makes every connection, on the calling thread; returns when each is made or has failed.
  // The number made, and the first failure's reason in *error (unless null).
  int Connect(std::string* error);

  // Sends the run's requests on the calling thread, as scheduled from `start`, until
  // `measure_start` + duration, then waits for the answers in flight (each bounded by the
  // time-out). Returns when every connection is done.
  void Run(Clock::time_point start, Clock::time_point measure_start, Clock::time_point end);

  WorkerState& state() { return state_; }

 private:
  const LoadOptions options_;
  const int first_;
  WorkerState state_;
  std::vector<std::unique_ptr<Connection>> connections_;
};

}  // namespace tempo::loadgen
