// AvailableCpus: affinity mask, cgroup quota and host count.
#include "common/cpus.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace tempo {
namespace {

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return "";
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::optional<long long> ParseInt(std::string_view s) {
  s = Trim(s);
  long long value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

std::optional<int> CpusOf(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  return static_cast<int>(std::max<long long>(1, (quota + period - 1) / period));
}

}  // namespace

std::optional<int> CpusOfCgroupV2Max(std::string_view text) {
  text = Trim(text);
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::optional<long long> quota = ParseInt(text.substr(0, space));
  const std::optional<long long> period = ParseInt(text.substr(space + 1));
  if (!quota || !period) return std::nullopt;  // "max 100000" included
  return CpusOf(*quota, *period);
}

std::optional<int> CpusOfCgroupV1Quota(std::string_view quota_us, std::string_view period_us) {
  const std::optional<long long> quota = ParseInt(quota_us);
  const std::optional<long long> period = ParseInt(period_us);
  if (!quota || !period) return std::nullopt;
  return CpusOf(*quota, *period);
}

int AvailableCpus() {
  int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = std::min(cpus, CPU_COUNT(&set));
  std::optional<int> quota = CpusOfCgroupV2Max(ReadFile("/sys/fs/cgroup/cpu.max"));
  if (!quota) {
    quota = CpusOfCgroupV1Quota(ReadFile("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
                                ReadFile("/sys/fs/cgroup/cpu/cpu.cfs_period_us"));
  }
  if (quota) cpus = std::min(cpus, *quota);
  return std::max(1, cpus);
}

}  // namespace tempo
