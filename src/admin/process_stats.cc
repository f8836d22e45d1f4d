// Process metrics from /proc, as the Prometheus client libraries read them.
#include "admin/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <string>

namespace tempo::admin {
namespace {

// Fields of /proc/<pid>/stat, numbered from 1 as proc(5) numbers them. The command name
// (field 2) is in parentheses; field 3 is the first after its last ')'.
constexpr int kFirstFieldAfterComm = 3;
constexpr int kUtimeField = 14;      // clock ticks
constexpr int kStimeField = 15;      // clock ticks
constexpr int kStartTimeField = 22;  // clock ticks after boot
constexpr int kVsizeField = 23;      // bytes
constexpr int kRssField = 24;        // pages

bool ParseUint(std::string_view text, uint64_t* value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size();
}

Result<std::string> ReadWholeFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(std::string("cannot read ") + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text;
}

// Entries of /proc/self/fd but "." and "..": the descriptors open now, the directory's own
// included (as the Prometheus clients count them).
Result<uint64_t> CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return Status::IOError("cannot read /proc/self/fd");
  uint64_t n = 0;
  while (const dirent* entry = readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") ++n;
  }
  closedir(dir);
  return n;
}

}  // namespace

Status ParseProcStat(std::string_view stat, long clock_ticks_per_second, long page_bytes,
                     uint64_t boot_time_seconds, ProcessStats* stats) {
  const size_t comm_end = stat.rfind(')');
  if (comm_end == std::string_view::npos || clock_ticks_per_second <= 0 || page_bytes <= 0) {
    return Status::Corruption("/proc/self/stat: no command name");
  }
  std::string_view rest = stat.substr(comm_end + 1);
  uint64_t utime = 0, stime = 0, start_ticks = 0, vsize = 0, rss_pages = 0;
  int field = kFirstFieldAfterComm;
  while (field <= kRssField) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\n')) rest.remove_prefix(1);
    if (rest.empty()) return Status::Corruption("/proc/self/stat: fewer than 24 fields");
    const size_t end = std::min(rest.find(' '), rest.find('\n'));
    const std::string_view text = rest.substr(0, end);
    rest.remove_prefix(text.size());
    uint64_t* target = field == kUtimeField       ? &utime
                       : field == kStimeField     ? &stime
                       : field == kStartTimeField ? &start_ticks
                       : field == kVsizeField     ? &vsize
                       : field == kRssField       ? &rss_pages
                                                  : nullptr;
    if (target != nullptr && !ParseUint(text, target)) {
      return Status::Corruption("/proc/self/stat: field " + std::to_string(field) +
                                " is not a number: " + std::string(text));
    }
    ++field;
  }
  const auto ticks = static_cast<double>(clock_ticks_per_second);
  stats->cpu_seconds = static_cast<double>(utime + stime) / ticks;
  stats->start_time_seconds =
      static_cast<double>(boot_time_seconds) + static_cast<double>(start_ticks) / ticks;
  stats->virtual_bytes = vsize;
  stats->resident_bytes = rss_pages * static_cast<uint64_t>(page_bytes);
  return Status::OK();
}

Result<uint64_t> ParseBootTime(std::string_view proc_stat) {
  constexpr std::string_view kKey = "btime ";
  for (size_t at = 0; at < proc_stat.size();) {
    const size_t end = std::min(proc_stat.find('\n', at), proc_stat.size());
    const std::string_view line = proc_stat.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with(kKey)) continue;
    uint64_t btime = 0;
    if (!ParseUint(line.substr(kKey.size()), &btime)) break;
    return btime;
  }
  return Status::Corruption("/proc/stat: no btime line");
}

Result<ProcessStats> ReadProcessStats() {
  Result<std::string> proc_stat = ReadWholeFile("/proc/stat");
  if (!proc_stat.ok()) return proc_stat.status();
  Result<uint64_t> boot_time = ParseBootTime(*proc_stat);
  if (!boot_time.ok()) return boot_time.status();
  Result<std::string> self_stat = ReadWholeFile("/proc/self/stat");
  if (!self_stat.ok()) return self_stat.status();
  ProcessStats stats;
  if (Status s = ParseProcStat(*self_stat, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), *boot_time,
                               &stats);
      !s.ok()) {
    return s;
  }
  Result<uint64_t> fds = CountOpenFds();
  if (!fds.ok()) return fds.status();
  stats.open_fds = *fds;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return Status::IOError("getrlimit(RLIMIT_NOFILE)");
  stats.max_fds = limit.rlim_cur;
  return stats;
}

void WriteProcessMetrics(MetricsWriter* out) {
  Result<ProcessStats> stats = ReadProcessStats();
  if (!stats.ok()) return;
  out->Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds",
               stats->cpu_seconds);
  out->Gauge("process_resident_memory_bytes", "Resident memory size in bytes",
             stats->resident_bytes);
  out->Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes", stats->virtual_bytes);
  out->Gauge("process_open_fds", "Number of open file descriptors", stats->open_fds);
  out->Gauge("process_max_fds", "Maximum number of open file descriptors", stats->max_fds);
  out->Gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds",
             stats->start_time_seconds);
}

}  // namespace tempo::admin
