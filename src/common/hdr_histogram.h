// HdrHistogram: a log-linear histogram of latencies in microseconds with HdrHistogram's layout
// (3 significant digits from 1 µs to 60 s), for percentiles that keep their precision in the
// tail. What `tempo bench` records every answer in.
//
// Where histogram.h's Histogram has a dozen fixed Prometheus buckets (cheap to export, coarse),
// this one has 17 408 counters: values are grouped in power-of-two buckets, each split linearly
// in 2048 sub-buckets (the lower half of each bucket after the first repeats the previous
// bucket's range and is not stored), so any recorded value is known to within 1 part in 1000
// and any percentile is exact to that precision. Two histograms merge without loss (counters
// add), so each thread records in its own and they are merged at the end.
//
//   HdrHistogram latency;
//   latency.Record(1234);                    // µs
//   total.Merge(latency);                     // another thread's histogram, after it stopped
//   int64_t p99 = total.ValueAtPercentile(99.0);
//
// Not safe for concurrent use: one histogram per thread, merged once the threads are done.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tempo {

// The range and precision of every HdrHistogram: values from 1 µs to 60 s in microseconds,
// three significant decimal digits. A value above the highest is recorded as the highest.
inline constexpr int64_t kHdrLowestUs = 1;
inline constexpr int64_t kHdrHighestUs = 60'000'000;
inline constexpr int kHdrSignificantDigits = 3;

class HdrHistogram {
 public:
  HdrHistogram();
  // A value type: copy and move are allowed (a copy is about 140 KiB).
  HdrHistogram(const HdrHistogram&) = default;
  HdrHistogram& operator=(const HdrHistogram&) = default;
  HdrHistogram(HdrHistogram&&) = default;
  HdrHistogram& operator=(HdrHistogram&&) = default;

  // Counts one value in µs. A negative value counts as 0, one above kHdrHighestUs as
  // kHdrHighestUs (and is still the exact max() when below 2^62).
  void Record(int64_t value_us) { RecordN(value_us, 1); }
  // Counts `value_us` `n` times.
  void RecordN(int64_t value_us, uint64_t n);

  // Adds every count of `other` to this one: the result is the histogram of both sets of
  // values, as if they had all been recorded here.
  void Merge(const HdrHistogram& other);

  // Forgets every value.
  void Reset();

  // The value at or below which `percentile` percent (0 to 100) of the values fall, as the
  // highest value equivalent to it at this precision, but never above max(). 0 when empty.
  int64_t ValueAtPercentile(double percentile) const;

  // The number of values recorded.
  uint64_t count() const { return count_; }
  // The smallest and largest value recorded, exactly (not rounded to the precision); 0 when
  // empty.
  int64_t min() const { return count_ == 0 ? 0 : min_; }
  int64_t max() const { return max_; }
  // The mean of the values, at the histogram's precision; 0 when empty.
  double Mean() const;

  // The layout, for tests: the number of counters and the range of values that share the
  // counter of `value_us` (the lowest and highest value equivalent to it).
  size_t counter_count() const { return counts_.size(); }
  static int64_t LowestEquivalent(int64_t value_us);
  static int64_t HighestEquivalent(int64_t value_us);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
};

}  // namespace tempo
