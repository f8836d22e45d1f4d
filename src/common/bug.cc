// TEMPO_BUG's report: abort in debug builds, log once per site and count in
// release builds.
#include "common/bug.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "common/logging.h"
#include "common/mutex.h"

namespace tempo {
namespace {

struct Registry {
  Mutex mu;
  std::map<std::string, uint64_t> counts GUARDED_BY(mu);
};

Registry& Bugs() {
  static Registry* registry = new Registry;  // never destroyed: usable at exit
  return *registry;
}

std::atomic<int> g_do_not_abort{0};

#ifdef NDEBUG
constexpr bool kAbortOnBug = false;
#else
constexpr bool kAbortOnBug = true;
#endif

}  // namespace

std::map<std::string, uint64_t> BugCounts() {
  Registry& bugs = Bugs();
  MutexLock lock(&bugs.mu);
  return bugs.counts;
}

ScopedBugsDoNotAbort::ScopedBugsDoNotAbort() { g_do_not_abort.fetch_add(1); }
ScopedBugsDoNotAbort::~ScopedBugsDoNotAbort() { g_do_not_abort.fetch_sub(1); }

namespace internal {

void ReportBug(const char* site, std::string_view message) {
  if (kAbortOnBug && g_do_not_abort.load() == 0) {
    Log(LogLevel::kError, "bug",
        std::string(site) + ": " + std::string(message) + " (aborting: debug build)");
    std::abort();
  }
  bool first = false;
  {
    Registry& bugs = Bugs();
    MutexLock lock(&bugs.mu);
    first = bugs.counts[site]++ == 0;
  }
  if (first) {
    Log(LogLevel::kError, "bug",
        std::string(site) + ": " + std::string(message) +
            " (a bug in Tempo: please report it; counted in tempo_bugs_total)");
  }
}

}  // namespace internal
}  // namespace tempo
