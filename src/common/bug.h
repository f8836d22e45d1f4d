// TEMPO_BUG: a check that only a bug in Tempo itself can fail (Envoy's
// ENVOY_BUG model).
//
//   TEMPO_BUG(condition, message);
//
// When `condition` is false: in debug and test builds (NDEBUG not defined)
// the process aborts, naming the site and `message`, so the bug cannot go
// unnoticed; in release builds the first failure at each site is logged
// (common/logging.h), every failure is counted (BugCounts(), exported as
// tempo_bugs_total{site}), and execution goes on, so the code after the check
// must still do something sensible (answer 500, drop the work, ...).
//
// Use it where a `catch (...)` would otherwise swallow an exception silently:
// the exception is a bug that someone must see, but one request's bug must
// not take the process down in production.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#define TEMPO_BUG_STRINGIFY_(x) #x
#define TEMPO_BUG_STRINGIFY(x) TEMPO_BUG_STRINGIFY_(x)

#define TEMPO_BUG(condition, message)                                                      \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      ::tempo::internal::ReportBug(__FILE__ ":" TEMPO_BUG_STRINGIFY(__LINE__), (message)); \
    }                                                                                      \
  } while (0)

namespace tempo {

// Failures counted so far, by site ("src/http/connection.cc:251").
std::map<std::string, uint64_t> BugCounts();

// While one lives, TEMPO_BUG counts and logs as in release builds instead of
// aborting: for tests of what the code does after a bug. Not thread-safe to
// create concurrently with itself; nestable.
class ScopedBugsDoNotAbort {
 public:
  ScopedBugsDoNotAbort();
  ~ScopedBugsDoNotAbort();
  ScopedBugsDoNotAbort(const ScopedBugsDoNotAbort&) = delete;
  ScopedBugsDoNotAbort& operator=(const ScopedBugsDoNotAbort&) = delete;
};

namespace internal {
void ReportBug(const char* site, std::string_view message);
}  // namespace internal

}  // namespace tempo
