// How many CPUs this process may use: what defaults such as "one serving
// thread per core" should count.
//
// std::thread::hardware_concurrency() counts the host's cores. A container
// limited to 2 CPUs on a 64-core host (a cgroup CPU quota) or a process
// pinned to a few cores (its affinity mask) can use far fewer; 64 threads
// there would only contend. AvailableCpus() takes the smallest of the
// affinity mask, the cgroup quota (v2 cpu.max, or v1 cpu.cfs_quota_us over
// cpu.cfs_period_us, rounded up) and the host's count.
#pragma once

#include <optional>
#include <string_view>

namespace tempo {

// At least 1. Read once per call (cheap: a few small files).
int AvailableCpus();

// The CPUs a cgroup v2 "cpu.max" line allows ("200000 100000": 2; "150000
// 100000": 2, rounded up), or nullopt for "max ..." (no quota) and for text
// that is not such a line.
std::optional<int> CpusOfCgroupV2Max(std::string_view text);

// The same for cgroup v1's cpu.cfs_quota_us and cpu.cfs_period_us contents
// (a quota of -1: no quota).
std::optional<int> CpusOfCgroupV1Quota(std::string_view quota_us, std::string_view period_us);

}  // namespace tempo
