// Tests of TEMPO_BUG: counted and logged once per site when not aborting,
// abort in debug builds.
#include "common/bug.h"

#include <gtest/gtest.h>

#include <string>

namespace tempo {
namespace {

std::string SiteOf(int line) { return std::string(__FILE__) + ":" + std::to_string(line); }

TEST(TempoBug, HoldingConditionDoesNothing) {
  const auto before = BugCounts();
  TEMPO_BUG(1 + 1 == 2, "arithmetic");
  EXPECT_EQ(BugCounts(), before);
}

TEST(TempoBug, FailuresAreCountedPerSiteWhenNotAborting) {
  ScopedBugsDoNotAbort keep_going;
  int line = 0;
  for (int i = 0; i < 3; ++i) {
    line = __LINE__ + 1;
    TEMPO_BUG(false, "a test bug");
  }
  EXPECT_EQ(BugCounts()[SiteOf(line)], 3u);
}

#ifndef NDEBUG
TEST(TempoBugDeathTest, AbortsInDebugBuilds) {
  EXPECT_DEATH(TEMPO_BUG(false, "a debug-build bug"), "a debug-build bug");
}
#endif

}  // namespace
}  // namespace tempo
