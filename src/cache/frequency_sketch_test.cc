// Tests of the Count-Min frequency sketch: counting, saturation, aging.
#include "cache/frequency_sketch.h"

#include <gtest/gtest.h>

#include <string>

#include "cache/sharded_cache.h"

namespace tempo::cache::internal {
namespace {

uint64_t H(const std::string& key) { return KeyHash(key); }

TEST(FrequencySketchTest, CountsAccessesAndSaturatesAtFifteen) {
  FrequencySketch sketch(10);
  sketch.EnsureCapacity(1000);
  EXPECT_EQ(sketch.Estimate(H("a")), 0);
  for (int i = 1; i <= 5; ++i) {
    sketch.Increment(H("a"));
    EXPECT_EQ(sketch.Estimate(H("a")), i);
  }
  for (int i = 0; i < 40; ++i) sketch.Increment(H("a"));
  EXPECT_EQ(sketch.Estimate(H("a")), FrequencySketch::kMaxCount);
  EXPECT_EQ(sketch.Estimate(H("never seen")), 0);
}

// Increment reports saturation, which lets hits on the most popular keys
// skip the sketch until the generation changes (aging or Reset).
TEST(FrequencySketchTest, ReportsSaturationAndChangesGenerationWhenCountsMayFall) {
  FrequencySketch sketch(10);
  sketch.EnsureCapacity(1000);
  const uint32_t first = sketch.generation();
  EXPECT_NE(first, 0u);
  for (int i = 1; i < FrequencySketch::kMaxCount; ++i) EXPECT_FALSE(sketch.Increment(H("a")));
  EXPECT_TRUE(sketch.Increment(H("a")));  // the 15th
  const size_t additions = sketch.additions();
  EXPECT_TRUE(sketch.Increment(H("a")));  // saturated: no counter changes...
  EXPECT_EQ(sketch.Estimate(H("a")), FrequencySketch::kMaxCount);
  EXPECT_EQ(sketch.additions(), additions + 1);  // ...but the access counts towards the period
  sketch.CountSaturated();
  EXPECT_EQ(sketch.additions(), additions + 2);
  EXPECT_EQ(sketch.generation(), first);

  sketch.Reset();
  EXPECT_NE(sketch.generation(), first);
  EXPECT_EQ(sketch.Estimate(H("a")), 0);
  EXPECT_EQ(sketch.additions(), 0u);
  EXPECT_FALSE(sketch.Increment(H("a")));
  EXPECT_EQ(sketch.Estimate(H("a")), 1);
}

// The period is a number of accesses, saturated or not: one key requested
// over and over ages the sketch as often as many keys would.
TEST(FrequencySketchTest, SaturatedAccessesCompleteThePeriod) {
  FrequencySketch sketch(10);
  sketch.EnsureCapacity(100);
  const size_t period = sketch.sample_period();
  const uint32_t first = sketch.generation();
  bool still_saturated = false;
  for (size_t i = 0; i + 1 < period; ++i) still_saturated = sketch.Increment(H("a"));
  EXPECT_TRUE(still_saturated);
  EXPECT_EQ(sketch.generation(), first);
  EXPECT_EQ(sketch.additions(), period - 1);
  EXPECT_FALSE(sketch.Increment(H("a")));  // completes the period: halved, not saturated
  EXPECT_NE(sketch.generation(), first);
  EXPECT_EQ(sketch.Estimate(H("a")), FrequencySketch::kMaxCount / 2);
}

TEST(FrequencySketchTest, HalfWeightAccessesCountHalfTowardsThePeriod) {
  FrequencySketch sketch(10);
  sketch.EnsureCapacity(100);
  const size_t period = sketch.sample_period();
  const uint32_t first = sketch.generation();
  // Two half-weight accesses make one addition; each still counts the key.
  for (int i = 0; i < 4; ++i) {
    sketch.Increment(H("once" + std::to_string(i)), FrequencySketch::Weight::kHalf);
  }
  EXPECT_EQ(sketch.additions(), 2u);
  EXPECT_EQ(sketch.Estimate(H("once0")), 1);
  EXPECT_EQ(sketch.Estimate(H("once3")), 1);
  // So a period of them takes twice as many accesses to age the counts.
  size_t accesses = 4;
  while (sketch.generation() == first) {
    sketch.Increment(H("k" + std::to_string(accesses++)), FrequencySketch::Weight::kHalf);
  }
  EXPECT_EQ(accesses, 2 * period);
  EXPECT_EQ(sketch.additions(), period / 2);  // the halved count of the period
}

TEST(FrequencySketchTest, SamplePeriodIsSamplesPerEntryTimesLargestEntryCount) {
  FrequencySketch sketch(10);
  sketch.EnsureCapacity(5000);
  EXPECT_EQ(sketch.sample_period(), 50000u);
  sketch.EnsureCapacity(100);  // never shrinks
  EXPECT_EQ(sketch.sample_period(), 50000u);
}

TEST(FrequencySketchTest, HalvesEveryCounterWhenTheSamplePeriodIsReached) {
  FrequencySketch sketch(10);
  sketch.EnsureCapacity(1024);
  for (int i = 0; i < 13; ++i) sketch.Increment(H("hot"));
  const size_t period = sketch.sample_period();
  // Distinct one-off keys until the next increment completes the period.
  int k = 0;
  while (sketch.additions() + 1 < period) sketch.Increment(H("cold" + std::to_string(k++)));
  const int before = sketch.Estimate(H("hot"));
  ASSERT_GE(before, 13);
  const uint32_t generation = sketch.generation();
  // Triggers the aging; not saturated, whatever the key's count was.
  EXPECT_FALSE(sketch.Increment(H("cold" + std::to_string(k++))));
  EXPECT_NE(sketch.generation(), generation);
  const int after = sketch.Estimate(H("hot"));
  // The last key may have shared one of hot's counters; halving is exact otherwise.
  EXPECT_TRUE(after == before / 2 || after == (before + 1) / 2) << before << " -> " << after;
  EXPECT_LT(sketch.additions(), period / 2 + 1);
}

TEST(FrequencySketchTest, AgingLetsANewPopularKeyOvertakeAnOldOne) {
  FrequencySketch sketch(10);
  sketch.EnsureCapacity(1024);
  for (int i = 0; i < 15; ++i) sketch.Increment(H("old"));
  EXPECT_EQ(sketch.Estimate(H("old")), 15);
  // The popularity moves to "new", among background traffic, for several periods.
  for (int round = 0; round < 4 * static_cast<int>(sketch.sample_period()); ++round) {
    sketch.Increment(round % 8 == 0 ? H("new") : H("bg" + std::to_string(round)));
  }
  EXPECT_GT(sketch.Estimate(H("new")), sketch.Estimate(H("old")));
  EXPECT_LE(sketch.Estimate(H("old")), 3);
}

TEST(FrequencySketchTest, GrowingKeepsTheCounts) {
  FrequencySketch sketch(10);
  for (int i = 0; i < 5; ++i) sketch.Increment(H("a"));
  for (int i = 0; i < 9; ++i) sketch.Increment(H("b"));
  sketch.EnsureCapacity(4096);
  EXPECT_EQ(sketch.Estimate(H("a")), 5);
  EXPECT_EQ(sketch.Estimate(H("b")), 9);
  sketch.Increment(H("a"));
  EXPECT_EQ(sketch.Estimate(H("a")), 6);
}

TEST(FrequencySketchTest, ConservativeUpdateLeavesSharedCountersAlone) {
  // In a sketch of one block every key shares counters with others; a key
  // counted once must not raise the estimate of keys it collides with above
  // their own count by more than their collisions already did.
  FrequencySketch sketch(10);
  for (int i = 0; i < 12; ++i) sketch.Increment(H("hot"));
  int raised = 0;
  for (int k = 0; k < 100; ++k) {
    const int before = sketch.Estimate(H("hot"));
    sketch.Increment(H("cold" + std::to_string(k)));
    raised += sketch.Estimate(H("hot")) > before;
  }
  // A cold key raises hot's estimate only if it hits all four of hot's
  // counters, each at hot's minimum: rare even in a small table.
  EXPECT_LE(raised, 2);
  EXPECT_GE(sketch.Estimate(H("hot")), 12);
}

}  // namespace
}  // namespace tempo::cache::internal
