// The open-loop HTTP load generator of `tempo bench`: requests at a constant total rate, with
// latency measured from when each request was meant to be sent (wrk2's model).
//
// A closed-loop generator (wrk, ab) sends the next request when the last one is answered, so a
// server that stalls for 100 ms also stops the clock: the stall is one slow request, and the
// requests that would have arrived meanwhile are never sent ("coordinated omission"). Here
// every request has an intended send time fixed in advance: connection i of C sends its k-th
// request at start + (i + k*C) / rate, so the connections together send `rate` requests a
// second, evenly spaced. Each connection is a keep-alive HTTP/1.1 connection with at most one
// request in flight; when the previous answer is late, the next request is sent as soon as it
// arrives, and its latency still counts from its intended time. A stall thus shows in every
// request that should have been sent during it, as users would see it. The service time (from
// the actual send to the answer, what wrk reports) is recorded too.
//
//   LoadOptions options;
//   options.host = "127.0.0.1";
//   options.port = 8080;
//   options.targets = {"/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage"};
//   options.rate_per_s = 1000;
//   Result<LoadReport> report = RunLoad(options, nullptr);
//   report->latency_us.ValueAtPercentile(99.0);
//
// RunLoad blocks until the run is over: the warm-up, the measured duration, then at most
// `timeout` for the answers still in flight.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/hdr_histogram.h"
#include "common/status.h"

namespace tempo::loadgen {

// The bounds of LoadOptions, checked by RunLoad (and shown by `tempo bench --help`).
inline constexpr double kMaxRatePerS = 10'000'000;
inline constexpr std::chrono::nanoseconds kMaxDuration = std::chrono::hours(24);
inline constexpr int kMaxConnections = 10'000;
inline constexpr int kMaxThreads = 256;
// What one answer may make the generator read: its header, and its body (read and discarded).
inline constexpr uint32_t kMaxHeaderBytes = 64 * 1024;
inline constexpr uint64_t kMaxBodyBytes = 64 * 1024 * 1024;

struct LoadOptions {
  // The server: a name or an address (an IPv6 one without brackets), and its port.
  std::string host;
  uint16_t port = 0;
  // The request targets in origin form ("/path?query"), sent in turn and again from the first
  // after the last; each thread starts at a different place. REQUIRES: not empty.
  std::vector<std::string> targets;
  // Intended requests per second over all connections. REQUIRES: > 0, <= kMaxRatePerS.
  double rate_per_s = 0;
  // How long requests are sent and measured, after the warm-up. REQUIRES: > 0, with the warm-up
  // at most kMaxDuration.
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  // How long requests are sent at the same rate before measuring starts (connections warm,
  // server caches filled). Default: 1 s.
  std::chrono::nanoseconds warmup = std::chrono::seconds(1);
  // Keep-alive connections, each with at most one request in flight. The rate is spread over
  // them, so a connection sends every connections / rate_per_s seconds; it needs more than
  // rate_per_s times the latency of connections to keep up. Default: 16.
  int connections = 16;
  // Threads the connections are spread over, each with its own event loop. REQUIRES: 1 to
  // connections. Default: 1.
  int threads = 1;
  // How long a connect, or a request and its whole answer, may take before it counts as an
  // error (the connection is then closed and made again for the next request). Default: 2 s.
  std::chrono::nanoseconds timeout = std::chrono::seconds(2);
};

// Requests that got no usable answer, by why; the status classes count answers.
struct ErrorCounts {
  uint64_t connect = 0;     // the connection could not be made (refused, timed out, reset)
  uint64_t timeout = 0;     // no complete answer within LoadOptions::timeout
  uint64_t io = 0;          // the connection broke or the answer was not valid HTTP/1.1
  uint64_t status_4xx = 0;  // answered 4xx (also in LoadReport::requests and the latencies)
  uint64_t status_5xx = 0;  // answered 5xx (likewise)

  uint64_t Total() const { return connect + timeout + io + status_4xx + status_5xx; }
  void Add(const ErrorCounts& other);
};

// What a run measured. Only requests sent in the measured window count (not the warm-up's);
// their answers are counted when they arrive, even after the window's end.
struct LoadReport {
  double requested_rate_per_s = 0;
  std::chrono::nanoseconds duration{0};  // the measured window
  // Answers (any status) to requests sent in the window, and that count per second of it.
  uint64_t requests = 0;
  double achieved_rate_per_s = 0;
  // Intended sends of the window that were never made: at its end their connection was still
  // waiting for an earlier answer. Non-zero when the server could not keep up.
  uint64_t unsent = 0;
  ErrorCounts errors;
  // Of each answer, in µs: from its request's intended send time (what a user would see), and
  // from its actual send (the server's service time, as a closed-loop tool reports it).
  HdrHistogram latency_us;
  HdrHistogram service_time_us;
};

// The share of the requested rate below which a run did not keep up (LoadReport users warn).
inline constexpr double kAchievedRateShortfall = 0.95;

// True when `report` achieved less than kAchievedRateShortfall of its requested rate.
bool FellShortOfRate(const LoadReport& report);

// What happened in one second of a run, for a progress line.
struct Progress {
  std::chrono::seconds elapsed{0};  // since the start, warm-up included
  bool warmup = false;              // the second was (at least partly) in the warm-up
  uint64_t answers = 0;             // answers that arrived in the second
  uint64_t errors = 0;              // requests that failed in it (all kinds)
  int64_t max_latency_us = 0;       // the largest latency (from intended send) among its answers
};
using ProgressFn = std::function<void(const Progress&)>;

// Connects the connections, then sends requests as described at the top of the file until
// warmup + duration has passed, waits at most `timeout` for the answers in flight, and reports.
// Calls `progress` (unless null) once a second from the calling thread. InvalidArgument when an
// option is out of its bounds; Unavailable when the host cannot be resolved or none of the
// connections could be made at the start (with the reason). Connections that fail later are
// made again at their next request, each failure counted in errors.connect.
Result<LoadReport> RunLoad(const LoadOptions& options, const ProgressFn& progress);

}  // namespace tempo::loadgen
