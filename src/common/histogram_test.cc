// Tests of Histogram: bucket placement, sums over stripes, and observers on many threads.
#include "common/histogram.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace tempo {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

constexpr nanoseconds kBounds[] = {microseconds(100), milliseconds(1), seconds(1)};

TEST(HistogramTest, EmptyHistogramHasItsBoundsAndNoCounts) {
  Histogram histogram(kBounds);
  const HistogramSnapshot s = histogram.Snapshot();
  EXPECT_EQ(s.bounds, std::vector<nanoseconds>(std::begin(kBounds), std::end(kBounds)));
  EXPECT_EQ(s.bucket_counts, (std::vector<uint64_t>{0, 0, 0, 0}));
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.sum_seconds, 0.0);
}

TEST(HistogramTest, AValueCountsInTheFirstBucketWhoseBoundIsAtLeastIt) {
  Histogram histogram(kBounds);
  histogram.Observe(nanoseconds(0));
  histogram.Observe(microseconds(100));  // on the bound: le is inclusive
  histogram.Observe(microseconds(100) + nanoseconds(1));
  histogram.Observe(milliseconds(1));
  histogram.Observe(milliseconds(999));
  histogram.Observe(seconds(1) + nanoseconds(1));  // above every bound: +Inf
  histogram.Observe(seconds(3600));
  const HistogramSnapshot s = histogram.Snapshot();
  EXPECT_EQ(s.bucket_counts, (std::vector<uint64_t>{2, 2, 1, 2}));
  EXPECT_EQ(s.count, 7u);
  EXPECT_DOUBLE_EQ(s.sum_seconds, 0.0001 + 0.000100001 + 0.001 + 0.999 + 1.000000001 + 3600);
}

TEST(HistogramTest, ANegativeValueCountsAsZero) {
  Histogram histogram(kBounds);
  histogram.Observe(nanoseconds(-5'000'000));  // a clock stepped back
  const HistogramSnapshot s = histogram.Snapshot();
  EXPECT_EQ(s.bucket_counts, (std::vector<uint64_t>{1, 0, 0, 0}));
  EXPECT_EQ(s.sum_seconds, 0.0);
}

TEST(HistogramTest, TheSumDoesNotOverflowOnYearsOfLag) {
  // 1000 events of a year's lag: 3.2e19 ns, past what a uint64 of nanoseconds holds.
  Histogram histogram(kLagBounds);
  const nanoseconds year = std::chrono::hours(24 * 365);
  for (int i = 0; i < 1000; ++i) histogram.Observe(year);
  const HistogramSnapshot s = histogram.Snapshot();
  EXPECT_EQ(s.count, 1000u);
  EXPECT_EQ(s.bucket_counts.back(), 1000u);
  EXPECT_NEAR(s.sum_seconds, 1000.0 * 365 * 24 * 3600, 1.0);
}

TEST(HistogramTest, TheStandardBoundsAreWhatTheirNamesSay) {
  // Histogram's constructor asserts that bounds increase; these are the ones in use.
  const HistogramSnapshot requests = Histogram(kRequestDurationBounds).Snapshot();
  EXPECT_EQ(requests.bounds.front(), microseconds(50));
  EXPECT_EQ(requests.bounds.back(), seconds(1));
  EXPECT_EQ(requests.bucket_counts.size(), 15u);
  const HistogramSnapshot reads = Histogram(kReadLatencyBounds).Snapshot();
  EXPECT_EQ(reads.bounds.front(), microseconds(10));
  EXPECT_EQ(reads.bounds.back(), seconds(1));
  const HistogramSnapshot lag = Histogram(kLagBounds).Snapshot();
  EXPECT_EQ(lag.bounds.front(), milliseconds(1));
  EXPECT_EQ(lag.bounds.back(), seconds(60));
}

TEST(HistogramTest, StripesAreAPowerOfTwo) {
  Histogram histogram(kBounds);
  EXPECT_GE(histogram.stripes(), 1u);
  EXPECT_LE(histogram.stripes(), 64u);
  EXPECT_EQ(histogram.stripes() & (histogram.stripes() - 1), 0u);
  EXPECT_EQ(histogram.stripes(), DefaultStripes());
}

TEST(HistogramTest, AThreadKeepsItsStripeAndThreadsGetDifferentOnes) {
  const uint32_t mine = ThreadStripe();
  EXPECT_EQ(ThreadStripe(), mine);
  uint32_t first = 0, second = 0;
  std::thread([&] { first = ThreadStripe(); }).join();
  std::thread([&] { second = ThreadStripe(); }).join();
  EXPECT_NE(first, mine);
  EXPECT_NE(second, first);
}

TEST(HistogramTest, ObservationsFromManyThreadsAreAllCounted) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20'000;
  Histogram histogram(kBounds);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&histogram, t] {
      // Thread t observes 50 µs (bucket 0) on even turns and 2 ms (bucket 2) on odd
      // ones, when t is odd; 500 µs (bucket 1) always when t is even.
      for (int i = 0; i < kPerThread; ++i) {
        if (t % 2 == 0) {
          histogram.Observe(microseconds(500));
        } else {
          histogram.Observe(i % 2 == 0 ? microseconds(50) : milliseconds(2));
        }
      }
    });
  }
  // Snapshots while they run: never more than was observed, never going back.
  uint64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    const uint64_t count = histogram.Snapshot().count;
    EXPECT_GE(count, last);
    EXPECT_LE(count, uint64_t{kThreads} * kPerThread);
    last = count;
  }
  for (std::thread& thread : threads) thread.join();
  const HistogramSnapshot s = histogram.Snapshot();
  constexpr uint64_t kHalf = kThreads / 2 * kPerThread;
  EXPECT_EQ(s.bucket_counts, (std::vector<uint64_t>{kHalf / 2, kHalf, kHalf / 2, 0}));
  EXPECT_EQ(s.count, uint64_t{kThreads} * kPerThread);
  // 80 000 × 500 µs + 40 000 × 50 µs + 40 000 × 2 ms, each an exact double of nanoseconds.
  EXPECT_DOUBLE_EQ(s.sum_seconds, 40.0 + 2.0 + 80.0);
}

TEST(HistogramSnapshotTest, MergeAddsCountsAndSums) {
  Histogram a(kBounds), b(kBounds);
  a.Observe(microseconds(10));
  a.Observe(seconds(2));
  b.Observe(microseconds(500));
  HistogramSnapshot total;
  total.Merge(a.Snapshot());  // an empty snapshot takes the bounds
  total.Merge(b.Snapshot());
  EXPECT_EQ(total.bounds, a.Snapshot().bounds);
  EXPECT_EQ(total.bucket_counts, (std::vector<uint64_t>{1, 1, 0, 1}));
  EXPECT_EQ(total.count, 3u);
  EXPECT_DOUBLE_EQ(total.sum_seconds, 2.00051);
}

TEST(AlignedCountersTest, CountersAreZeroedAndAligned) {
  AlignedCounters counters = NewAlignedCounters(3);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(counters.get()) % kStripeAlignBytes, 0u);
  for (size_t i = 0; i < kStripeAlignBytes / sizeof(uint64_t); ++i) {
    EXPECT_EQ(counters[i].load(), 0u);  // rounded up to a whole stripe, all zero
  }
}

}  // namespace
}  // namespace tempo
