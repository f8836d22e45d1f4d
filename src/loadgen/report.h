// What `tempo bench` prints about a run (loadgen.h): a summary for a person, a JSON document
// for a script (--json), and a progress line a second on a terminal.
#pragma once

#include <string>

#include "loadgen/loadgen.h"

namespace tempo::loadgen {

// The percentiles every report gives, in this order, with their JSON keys.
struct ReportedPercentile {
  const char* key;
  double percentile;
};
inline constexpr ReportedPercentile kReportedPercentiles[] = {
    {"p50", 50.0}, {"p90", 90.0}, {"p99", 99.0}, {"p99.9", 99.9}, {"p99.99", 99.99}};

// The --json document, on one line with a trailing newline:
//   {"requested_rate":1000,"achieved_rate":999.8,"requests":9998,"duration_s":10,"unsent":0,
//    "errors":{"connect":0,"timeout":0,"io":0,"status_4xx":0,"status_5xx":0},
//    "latency_us":{"p50":210,"p90":260,"p99":950,"p99.9":2100,"p99.99":4900,"max":5012},
//    "service_time_us":{...the same keys...}}
// Rates in requests per second, latencies in µs; "service_time_us" only when
// `with_service_time` (--uncorrected).
std::string RenderJson(const LoadReport& report, bool with_service_time);

// The summary on stdout: what was asked and achieved, the errors, the latency percentiles in
// ms (and the service time's, when `with_service_time`), and a warning line when the run fell
// short of its rate (FellShortOfRate). `what` names the run ("GET http://..." or the log).
std::string RenderSummary(const LoadReport& report, const std::string& what,
                          bool with_service_time);

// One progress line, without a newline:
//   "tempo bench: 3s  answers 1000/s  errors 0  max 1.234 ms" (", warm-up" in the warm-up).
std::string RenderProgress(const Progress& progress);

}  // namespace tempo::loadgen
