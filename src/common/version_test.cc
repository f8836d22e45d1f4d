// Tests of version.h: what `tempo --version` prints comes from the build.
#include "common/version.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace tempo {
namespace {

TEST(VersionTest, IsTheProjectVersion) {
  EXPECT_EQ(Version(), TEMPO_PROJECT_VERSION);
  EXPECT_TRUE(std::regex_match(std::string(Version()), std::regex(R"(\d+\.\d+\.\d+)")))
      << Version();
}

TEST(VersionTest, CommitIsTwelveHexDigitsOrUnknown) {
  const std::string commit(GitCommit());
  EXPECT_TRUE(commit == "unknown" || std::regex_match(commit, std::regex("[0-9a-f]{12,40}")))
      << commit;
}

}  // namespace
}  // namespace tempo
