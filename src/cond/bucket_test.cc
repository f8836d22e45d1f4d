// Hash(), GetBucketRanges() and ChooseVariation() beyond the SDK's own cases.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "cond/cond.h"

namespace tempo::cond {
namespace {

TEST(CondHashTest, Versions) {
  EXPECT_EQ(Hash("", "a", 1), 0.22);
  EXPECT_EQ(Hash("seed", "a", 2), 0.0505);
  EXPECT_FALSE(Hash("a", "b", 3).has_value());
  EXPECT_FALSE(Hash("a", "b", 0).has_value());
  EXPECT_EQ(Hash("a", "b", 2.0), Hash("a", "b", 2));
}

TEST(CondHashTest, HashesUtf16CodeUnits) {
  // Reference values from the SDK's algorithm over charCodeAt() units.
  EXPECT_EQ(Hash("exp", "\u00e9", 1), 0.875);
  EXPECT_EQ(Hash("exp", "😀", 2), 0.7506);
  EXPECT_EQ(Hash("😀", "user-1", 2), 0.847);
}

TEST(CondHashTest, ResultsStayInUnitInterval) {
  for (int i = 0; i < 1000; ++i) {
    for (double version : {1.0, 2.0}) {
      const double h = *Hash("seed", "user" + std::to_string(i), version);
      EXPECT_GE(h, 0);
      EXPECT_LT(h, 1);
    }
  }
}

TEST(CondGetBucketRangesTest, EdgeCases) {
  EXPECT_TRUE(GetBucketRanges(0, 1, std::nullopt).empty());
  EXPECT_TRUE(GetBucketRanges(-1, 1, std::vector<double>{1}).empty());
  const auto one = GetBucketRanges(1, 0.5, std::nullopt);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], BucketRange(0, 0.5));
  const auto wrong_length = GetBucketRanges(3, 1, std::vector<double>{0.5, 0.5});
  ASSERT_EQ(wrong_length.size(), 3u);
  EXPECT_DOUBLE_EQ(wrong_length[2].second, 1.0);
  const auto weighted = GetBucketRanges(2, 1, std::vector<double>{0.995, 0.0});
  EXPECT_EQ(weighted[0], BucketRange(0, 0.995));  // within the 0.01 tolerance
}

TEST(CondChooseVariationTest, HalfOpenRanges) {
  const std::vector<BucketRange> ranges = {{0, 0.25}, {0.5, 0.75}};
  EXPECT_EQ(ChooseVariation(0, ranges), 0);
  EXPECT_EQ(ChooseVariation(0.25, ranges), -1);
  EXPECT_EQ(ChooseVariation(0.5, ranges), 1);
  EXPECT_EQ(ChooseVariation(0.75, ranges), -1);
  EXPECT_EQ(ChooseVariation(0.1, {}), -1);
}

}  // namespace
}  // namespace tempo::cond
