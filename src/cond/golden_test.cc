// Replays shared/golden/conditions.jsonl: every line's EvalLine() must be the
// JavaScript SDK's recorded answer in conditions.expected.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "cond/cond.h"

namespace tempo::cond {
namespace {

constexpr char kLinesPath[] = TEMPO_SHARED_DIR "/golden/conditions.jsonl";
constexpr char kExpectedPath[] = TEMPO_SHARED_DIR "/golden/conditions.expected";
// How many mismatches to print in full.
constexpr size_t kShownFailures = 10;

std::vector<std::string> ReadLines(const char* path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(CondGoldenTest, EveryLineMatchesTheSdk) {
  const std::vector<std::string> lines = ReadLines(kLinesPath);
  const std::vector<std::string> expected = ReadLines(kExpectedPath);
  ASSERT_FALSE(lines.empty()) << "cannot read " << kLinesPath;
  ASSERT_EQ(lines.size(), expected.size());

  size_t passed = 0;
  size_t shown = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string got = EvalLine(lines[i]);
    if (got == expected[i]) {
      ++passed;
      continue;
    }
    if (shown++ < kShownFailures) {
      ADD_FAILURE() << "line " << i + 1 << ": got " << got << ", want " << expected[i] << "\n  "
                    << lines[i];
    }
  }
  std::printf("golden: %zu/%zu passed\n", passed, lines.size());
  EXPECT_EQ(passed, lines.size());
}

}  // namespace
}  // namespace tempo::cond
