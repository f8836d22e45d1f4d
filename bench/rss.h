// The process's resident set size, for the memory benchmarks.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <fstream>

namespace tempo::bench {

// Bytes of this process resident in memory now (/proc/self/statm).
inline size_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace tempo::bench
