// FrequencySketch: a Count-Min sketch of how often each key was accessed
// recently, with 4-bit counters and periodic aging (TinyLFU's "reset").
//
// The layout follows Caffeine's FrequencySketch: the table is split into
// 64-byte blocks; a key's four counters (one per row of the Count-Min sketch)
// all sit in one block, so an increment or an estimate touches one cache line.
// Counters saturate at 15. After `sample_period` increments every counter is
// halved, so the sketch forgets old popularity and tracks a sliding window.
//
// Two departures from Caffeine, both measured with bench/hit_ratio (Zipf 0.8
// over 1M keys, cache of 0.1% of them, one shard, steady state, ours / ideal
// LFU): updates are conservative (only the counters at the key's minimum
// grow; the others already count some other key too), and the table has 128
// counters per entry instead of 16, because the longer sample period we use
// (CacheOptions::sketch_samples_per_entry, 150 rather than 10) brings many
// more distinct keys per period: 0.949 with 32 counters per entry, 0.970
// with 64, 0.974 with 128, 0.975 with 256.
// Not thread-safe: each cache shard owns one under its lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tempo::cache::internal {

class FrequencySketch {
 public:
  // The largest count a counter holds.
  static constexpr int kMaxCount = 15;
  // 64-bit words (16 counters each) per expected entry.
  static constexpr size_t kWordsPerEntry = 8;
  // The most table memory one entry accounts for: the table is rounded up
  // to a power of two words, so up to twice kWordsPerEntry.
  static constexpr size_t kMaxBytesPerEntry = 2 * kWordsPerEntry * sizeof(uint64_t);

  // `samples_per_entry`: the aging period in increments per expected entry
  // (TinyLFU's W / C).
  explicit FrequencySketch(int samples_per_entry);

  FrequencySketch(const FrequencySketch&) = delete;
  FrequencySketch& operator=(const FrequencySketch&) = delete;

  // Tells the sketch that `entries` keys are resident. The aging period
  // follows the largest value seen, and the table grows with it (keeping
  // every count), so sizing is automatic for caches bounded in bytes whose
  // entry count is not known in advance.
  void EnsureCapacity(size_t entries);

  // The estimated access count of `hash` since the last agings, in [0, 15].
  int Estimate(uint64_t hash) const;

  // How much an access counts towards the sample period.
  enum class Weight {
    kFull,
    // Half: every second such access counts. For a miss on a key not
    // missed recently (a scan's key, a one-off; WTinyLfu::Add). Counted in
    // full, a scan shortened the period in which the popular keys are
    // counted by the scan's share of requests: bench/hit_ratio
    // --scan-resistance (scans 19.7 % of requests) lost 2.7 % of its hit
    // ratio at 0.1 % (-0.3 % with kHalf). Not counted at all, the one-offs'
    // increments (which still happen: the key may come back) piled up
    // between agings as noise, and the Zipf 0.8 rows lost up to 2.5 %.
    kHalf,
  };

  // Counts one access of `hash`; halves every counter when the sample period
  // is reached. Returns true when the key's count is saturated afterwards:
  // further increments change no counter until generation() changes, and
  // the caller may count them with CountSaturated instead.
  bool Increment(uint64_t hash, Weight weight = Weight::kFull);

  // Counts an access of a key known to be saturated in this generation
  // towards the sample period, without touching the table. Every access
  // counts towards the period, saturated or not, so that the period is a
  // fixed number of requests: had they not counted, a large cache, whose
  // many popular keys saturate, would see periods of several times as many
  // requests, in which the keys near its admission boundary saturate too.
  void CountSaturated() {
    if (++additions_ >= sample_period_) Halve();
  }

  // Sets every counter to zero (the workload has shifted: what the sketch
  // learned describes the old one).
  void Reset();

  // Changes whenever counts may decrease (aging, Reset); never 0.
  uint32_t generation() const { return generation_; }

  // Increments counted towards the next aging (for tests).
  size_t additions() const { return additions_; }
  // Increments between two agings.
  size_t sample_period() const { return sample_period_; }

 private:
  static constexpr size_t kWordsPerBlock = 8;  // 8 x 64 bits = one cache line
  static constexpr size_t kMinWords = 128;

  struct Slots {
    size_t word[4];
    int shift[4];
  };
  Slots Locate(uint64_t hash) const;
  void Halve();
  void NextGeneration();

  const size_t samples_per_entry_;
  std::vector<uint64_t> table_;
  size_t block_mask_;
  size_t max_entries_ = 0;
  size_t sample_period_;
  size_t additions_ = 0;
  bool half_pending_ = false;  // a kHalf access waits for its other half
  uint32_t generation_ = 1;
};

}  // namespace tempo::cache::internal
