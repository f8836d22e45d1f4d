// Tests of HdrHistogram: the layout's precision, percentiles, and that a merge loses nothing.
#include "common/hdr_histogram.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace tempo {
namespace {

TEST(HdrHistogramTest, EmptyHistogramAnswersZero) {
  HdrHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.ValueAtPercentile(50), 0);
  EXPECT_EQ(h.ValueAtPercentile(100), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.Mean(), 0.0);
}

TEST(HdrHistogramTest, HasHdrHistogramsLayoutFor1UsTo60sAt3Digits) {
  // HdrHistogram_c with (1, 60'000'000, 3): 16 buckets of 1024 stored sub-buckets, plus one.
  EXPECT_EQ(HdrHistogram().counter_count(), 17u * 1024);
  // Below 2048 every value has a counter of its own.
  for (int64_t v = 0; v < 2048; ++v) {
    ASSERT_EQ(HdrHistogram::LowestEquivalent(v), v);
    ASSERT_EQ(HdrHistogram::HighestEquivalent(v), v);
  }
  EXPECT_EQ(HdrHistogram::LowestEquivalent(2049), 2048);
  EXPECT_EQ(HdrHistogram::HighestEquivalent(2048), 2049);
  // Above, a counter spans less than a thousandth of its values.
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> value(2048, kHdrHighestUs);
  for (int i = 0; i < 100000; ++i) {
    const int64_t v = value(rng);
    const int64_t low = HdrHistogram::LowestEquivalent(v);
    const int64_t high = HdrHistogram::HighestEquivalent(v);
    ASSERT_LE(low, v);
    ASSERT_GE(high, v);
    ASSERT_LE(high - low + 1, low / 1000) << v;
  }
}

TEST(HdrHistogramTest, PercentilesOfAUniformRangeAreWithinTheirPrecision) {
  HdrHistogram h;
  for (int64_t v = 1; v <= 100000; ++v) h.Record(v);
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.min(), 1);
  EXPECT_EQ(h.max(), 100000);
  for (double p : {50.0, 90.0, 99.0, 99.9, 99.99}) {
    const double want = p * 1000;
    EXPECT_NEAR(static_cast<double>(h.ValueAtPercentile(p)), want, want / 1000 + 1) << p;
  }
  EXPECT_EQ(h.ValueAtPercentile(100), 100000);
  EXPECT_NEAR(h.Mean(), 50000.5, 50);
}

TEST(HdrHistogramTest, ATailOfOnePercentShowsAboveP99NotAtIt) {
  HdrHistogram h;
  h.RecordN(1000, 9900);
  h.RecordN(100000, 100);
  EXPECT_EQ(h.ValueAtPercentile(50), 1000);
  EXPECT_EQ(h.ValueAtPercentile(99), 1000);
  EXPECT_GE(h.ValueAtPercentile(99.9), 100000);
  EXPECT_LE(h.ValueAtPercentile(99.9), 100000 + 100);
}

TEST(HdrHistogramTest, MergeIsTheHistogramOfBothSets) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> latency(7.0, 1.5);  // µs: a long tail
  HdrHistogram a, b, all;
  for (int i = 0; i < 50000; ++i) {
    const auto v = static_cast<int64_t>(latency(rng));
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  HdrHistogram merged;
  merged.Merge(a);
  merged.Merge(b);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  for (double p = 0; p <= 100; p += 0.5)
    EXPECT_EQ(merged.ValueAtPercentile(p), all.ValueAtPercentile(p));
  EXPECT_EQ(merged.ValueAtPercentile(99.99), all.ValueAtPercentile(99.99));
  EXPECT_DOUBLE_EQ(merged.Mean(), all.Mean());
}

TEST(HdrHistogramTest, OutOfRangeValuesAreClampedButMaxStaysExact) {
  HdrHistogram h;
  h.Record(-5);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.ValueAtPercentile(50), 0);
  h.Record(100'000'000);  // 100 s
  EXPECT_EQ(h.max(), 100'000'000);
  EXPECT_GE(h.ValueAtPercentile(100), kHdrHighestUs);
  EXPECT_LE(h.ValueAtPercentile(100), h.max());
  h.Reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0);
}

}  // namespace
}  // namespace tempo
