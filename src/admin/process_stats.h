// Process metrics as every Prometheus client library names them (process_cpu_seconds_total,
// process_resident_memory_bytes, ...), read from Linux's /proc, so that the dashboards and
// alerts written for any other service work for Tempo's processes unchanged.
#pragma once

#include <cstdint>
#include <string_view>

#include "admin/metrics.h"
#include "common/status.h"

namespace tempo::admin {

// The process's resource use at one instant.
struct ProcessStats {
  double cpu_seconds = 0;         // user + system CPU time
  uint64_t resident_bytes = 0;    // resident set size
  uint64_t virtual_bytes = 0;     // virtual memory size
  uint64_t open_fds = 0;          // open file descriptors
  uint64_t max_fds = 0;           // the soft RLIMIT_NOFILE
  double start_time_seconds = 0;  // since the Unix epoch
};

// What the fields of /proc/<pid>/stat give, in the units of ProcessStats, given the
// system's constants: clock ticks per second (sysconf(_SC_CLK_TCK)), the page size, and the
// boot time in seconds since the epoch (/proc/stat "btime"). Sets cpu_seconds,
// resident_bytes, virtual_bytes and start_time_seconds. A command name with spaces or
// parentheses is skipped correctly (the fields follow its last ')'). Corruption when `stat`
// is not of that form.
Status ParseProcStat(std::string_view stat, long clock_ticks_per_second, long page_bytes,
                     uint64_t boot_time_seconds, ProcessStats* stats);

// The boot time ("btime N") of the contents of /proc/stat. Corruption without one.
Result<uint64_t> ParseBootTime(std::string_view proc_stat);

// Reads this process's ProcessStats from /proc/self/stat, /proc/stat, /proc/self/fd and
// getrlimit. IOError when a file cannot be read, Corruption when it is not as expected.
Result<ProcessStats> ReadProcessStats();

// Appends process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds and
// process_start_time_seconds, from ReadProcessStats; nothing when that fails (a scrape
// goes on without them).
void WriteProcessMetrics(MetricsWriter* out);

}  // namespace tempo::admin
