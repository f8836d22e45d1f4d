// ShiftDetector: notices that a shard's workload has moved (the keys that
// were popular are requested no more) from a sudden fall of its hit rate.
//
// W-TinyLFU learns popularity slowly on purpose: the sketch ages after about
// 150 requests per entry, which is what lets it rank keys requested a few
// times per period (bench/hit_ratio). When the popular set moves, the old
// popular entries keep counts that the new ones cannot beat until the sketch
// ages, and they sit in the protected segment, which only promotions drain:
// on the trace whose hot set moves ten times, a 10 % cache hit 0.29 where a
// plain LRU hit 0.48. So the policy samples its hit rate: every sample of
// max(kMinSample, resident entries) requests is compared with an average of
// the samples before it, and a fall of more than kDrop means a shift; the
// policy then clears the sketch and demotes protected (WTinyLfu::Sample).
//
// A scan must not look like a shift (scan resistance is the point of
// W-TinyLFU), so the policy leaves out of the samples the misses on keys the
// sketch has not seen: a scan's keys, one-offs. The sketch's false positives
// still let part of a long scan in, which is why kDrop is large: on
// bench/hit_ratio's scan trace a kDrop of 0.05 cost 8-13 % of the hit ratio,
// 0.15 under 1 %, 0.2 at most 0.4 %, 0.25 nothing; the moving trace at 10 %
// gains less the larger it is (steady state 0.29 -> 0.46 at 0.15, 0.44 at
// 0.2, 0.39 at 0.25; LRU 0.48).
//
// Caffeine's hill climber restarts on a change of 5 %, but answers by
// resizing the admission window; on bench/hit_ratio's traces no window size
// (1 % to 60 %) helped, forgetting did. A stationary workload's samples vary
// far less than kDrop (4096 requests at a hit rate of 0.5: sd 0.008). The
// average follows a slow drift with a lag of about 7 times its change per
// sample, so drifts under 0.02 per sample do not signal.
// Not thread-safe: each shard's policy owns one under its lock.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace tempo::cache::internal {

class ShiftDetector {
 public:
  static constexpr size_t kMinSample = 4096;
  // A sample this far below the average (absolute hit rate) is a shift.
  static constexpr double kDrop = 0.2;
  // The weight of the newest sample in the moving average.
  static constexpr double kWeight = 0.125;

  // Counts one request (`hit` or not) while `entries` entries are resident.
  // Returns true when it ends a sample that signals a shift; the average
  // then restarts from that sample, so a further shift must fall again.
  bool Record(bool hit, size_t entries) {
    hits_ += hit;
    if (++requests_ < std::max(kMinSample, entries)) return false;
    const double rate = static_cast<double>(hits_) / static_cast<double>(requests_);
    hits_ = requests_ = 0;
    if (samples_++ == 0) {
      average_ = rate;
      return false;
    }
    if (rate < average_ - kDrop) {
      average_ = rate;
      return true;
    }
    average_ += kWeight * (rate - average_);
    return false;
  }

  // The moving average of the samples' hit rates (0 before the first).
  double average() const { return average_; }

 private:
  uint64_t hits_ = 0;
  uint64_t requests_ = 0;
  uint64_t samples_ = 0;
  double average_ = 0;
};

}  // namespace tempo::cache::internal
