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
// W-TinyLFU), so the policy leaves out of the samples the misses on keys
// not missed recently (MissedBefore): a scan's keys, one-offs. A new hot
// set's keys are missed again (they recur faster than main admits them), so
// a shift still shows. The test was at first "the sketch has seen the key",
// but the sketch counts about 150 requests per entry between agings, and its
// false positives let a scan of a few thousand keys into a shard of a few
// hundred entries look like a shift: bench/hit_ratio --scan-resistance at
// 0.1 % (two shards of 500) lost 7.4 % of its hit ratio to 72 false shifts.
// With kDrop 0.2, 0.05 cost 8-13 % of the hit ratio on that trace, 0.15 under
// 1 %, 0.25 nothing; the moving trace at 10 % gains less the larger it is
// (steady state 0.29 -> 0.46 at 0.15, 0.44 at 0.2, 0.39 at 0.25; LRU 0.48).
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
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

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

  // Whether a miss on the key of `hash` follows another miss on it among
  // the last max(kMinSample, entries) to twice as many misses (two Bloom
  // filters in turn, kBitsPerMiss bits a miss and three probes: about 1 %
  // false positives); remembers this one. Misses that are not are left out
  // of the samples (see the top of this file).
  bool MissedBefore(uint64_t hash, size_t entries) {
    // Positions from a remix: the shard and its table use the hash's bits.
    const uint64_t h = hash * 0x9e3779b97f4a7c15ULL;
    const bool seen = Contains(current_, h) || Contains(previous_, h);
    if (misses_ >= std::max(kMinSample, entries) || current_.empty()) {
      previous_.swap(current_);
      const size_t words = std::bit_ceil(std::max(kMinSample, entries) * kBitsPerMiss / 64);
      current_.assign(std::min(words, kMaxWords), 0);
      misses_ = 0;
    }
    Insert(&current_, h);
    ++misses_;
    return seen;
  }

  // The moving average of the samples' hit rates (0 before the first).
  double average() const { return average_; }

  static constexpr size_t kBitsPerMiss = 16;
  // A filter's most words: what 20-bit probes reach (2^20 bits, 128 KiB;
  // the misses of a shard of 65 536 entries). Larger shards remember
  // proportionally fewer misses.
  static constexpr size_t kMaxWords = (size_t{1} << 20) / 64;

 private:
  // Three probes of 20 bits each from `h`'s top 60 bits.
  static bool Contains(const std::vector<uint64_t>& bits, uint64_t h) {
    if (bits.empty()) return false;
    const uint64_t mask = bits.size() * 64 - 1;
    for (int i = 0; i < 3; ++i) {
      const uint64_t bit = (h >> (4 + 20 * i)) & mask;
      if ((bits[bit / 64] >> (bit % 64) & 1) == 0) return false;
    }
    return true;
  }
  static void Insert(std::vector<uint64_t>* bits, uint64_t h) {
    const uint64_t mask = bits->size() * 64 - 1;
    for (int i = 0; i < 3; ++i) {
      const uint64_t bit = (h >> (4 + 20 * i)) & mask;
      (*bits)[bit / 64] |= uint64_t{1} << (bit % 64);
    }
  }

  std::vector<uint64_t> current_, previous_;  // the Bloom filters' bits
  size_t misses_ = 0;                         // remembered in current_
  uint64_t hits_ = 0;
  uint64_t requests_ = 0;
  uint64_t samples_ = 0;
  double average_ = 0;
};

}  // namespace tempo::cache::internal
