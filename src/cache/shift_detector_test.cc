// Tests of the shift detector on synthetic hit/miss sequences: a steady hit
// rate never signals, a fall of more than kDrop does within a sample, and a
// rise or a slow drift does not.
#include "cache/shift_detector.h"

#include <gtest/gtest.h>

#include <random>

namespace tempo::cache::internal {
namespace {

// Feeds `requests` requests hitting with probability `rate`; returns how many
// of them signalled a shift.
int Feed(ShiftDetector* d, std::mt19937* rng, double rate, int requests, size_t entries = 0) {
  std::bernoulli_distribution hit(rate);
  int shifts = 0;
  for (int i = 0; i < requests; ++i) shifts += d->Record(hit(*rng), entries);
  return shifts;
}

constexpr int kSample = static_cast<int>(ShiftDetector::kMinSample);

TEST(ShiftDetectorTest, SteadyHitRatesNeverSignal) {
  for (double rate : {0.05, 0.2, 0.5, 0.9}) {
    ShiftDetector d;
    std::mt19937 rng(1);
    EXPECT_EQ(Feed(&d, &rng, rate, 200 * kSample), 0) << rate;
    EXPECT_NEAR(d.average(), rate, 0.02) << rate;
  }
}

TEST(ShiftDetectorTest, AFallSignalsOnceAtTheEndOfTheFirstLowSample) {
  ShiftDetector d;
  std::mt19937 rng(2);
  ASSERT_EQ(Feed(&d, &rng, 0.45, 20 * kSample), 0);
  // The next sample falls to 0.05: its last request signals.
  EXPECT_EQ(Feed(&d, &rng, 0.05, kSample - 1), 0);
  EXPECT_TRUE(d.Record(false, 0));
  // The average restarted from the low sample: staying low is no new shift.
  EXPECT_NEAR(d.average(), 0.05, 0.03);
  EXPECT_EQ(Feed(&d, &rng, 0.05, 50 * kSample), 0);
  // Recovering never signals; a second fall does.
  EXPECT_EQ(Feed(&d, &rng, 0.4, 50 * kSample), 0);
  EXPECT_EQ(Feed(&d, &rng, 0.1, kSample), 1);
}

TEST(ShiftDetectorTest, ASlowDriftIsFollowedWithoutSignalling) {
  ShiftDetector d;
  std::mt19937 rng(3);
  // From 0.6 down to 0.2 by 0.002 per sample: each sample is within kDrop
  // of an average that follows it.
  for (int step = 0; step <= 200; ++step) {
    EXPECT_EQ(Feed(&d, &rng, 0.6 - 0.002 * step, kSample), 0) << step;
  }
}

TEST(ShiftDetectorTest, SamplesGrowWithTheResidentEntries) {
  ShiftDetector d;
  constexpr size_t kEntries = 3 * ShiftDetector::kMinSample;
  for (size_t i = 0; i < kEntries; ++i) ASSERT_FALSE(d.Record(true, kEntries));  // first sample
  for (size_t i = 0; i + 1 < kEntries; ++i) ASSERT_FALSE(d.Record(false, kEntries));
  EXPECT_TRUE(d.Record(false, kEntries));  // a sample of kEntries requests, not kMinSample
}

// A well-mixed 64-bit hash of i (the cache's key hashes are).
uint64_t HashOf(uint64_t i) {
  i += 0x9e3779b97f4a7c15ULL;
  i = (i ^ (i >> 30)) * 0xbf58476d1ce4e5b9ULL;
  i = (i ^ (i >> 27)) * 0x94d049bb133111ebULL;
  return i ^ (i >> 31);
}

TEST(ShiftDetectorTest, MissedBeforeRemembersTheRecentMisses) {
  ShiftDetector d;
  EXPECT_FALSE(d.MissedBefore(HashOf(1), 0));
  EXPECT_TRUE(d.MissedBefore(HashOf(1), 0));
  // Still remembered after a full sample's worth of other misses (it moved
  // to the previous filter) ...
  for (uint64_t i = 0; i < ShiftDetector::kMinSample; ++i) d.MissedBefore(HashOf(1000 + i), 0);
  EXPECT_TRUE(d.MissedBefore(HashOf(1), 0));
  // ... but not after two more.
  for (uint64_t i = 0; i < 2 * ShiftDetector::kMinSample + 1; ++i) {
    d.MissedBefore(HashOf(100000 + i), 0);
  }
  EXPECT_FALSE(d.MissedBefore(HashOf(7), 0));
  EXPECT_FALSE(d.MissedBefore(HashOf(1), 0));
}

// A scan of never-repeated keys must look like one-offs: few false
// positives, however long the scan (the filters turn over with the misses).
TEST(ShiftDetectorTest, AScanLooksLikeOneOffs) {
  ShiftDetector d;
  constexpr size_t kEntries = 500;
  int seen = 0;
  constexpr int kScan = 50000;
  for (int i = 0; i < kScan; ++i) seen += d.MissedBefore(HashOf(i), kEntries);
  EXPECT_LT(seen, kScan / 50);  // under 2 %
}

TEST(ShiftDetectorTest, TheFiltersGrowWithTheResidentEntries) {
  ShiftDetector d;
  constexpr size_t kEntries = 4 * ShiftDetector::kMinSample;
  EXPECT_FALSE(d.MissedBefore(HashOf(1), kEntries));
  // 3 x kMinSample other misses: more than a kMinSample filter holds, fewer
  // than one sized for kEntries.
  for (uint64_t i = 0; i < 3 * ShiftDetector::kMinSample; ++i) {
    d.MissedBefore(HashOf(1000 + i), kEntries);
  }
  EXPECT_TRUE(d.MissedBefore(HashOf(1), kEntries));
}

}  // namespace
}  // namespace tempo::cache::internal
