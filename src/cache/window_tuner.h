// WindowTuner: sizes a shard's admission window from miniature simulations
// of the same policy at other window sizes (Waldspurger, Saemundsson, Ahmad,
// Park: "Cache Modeling and Optimization using Miniature Simulations",
// USENIX ATC 2017).
//
// The best share of W-TinyLFU's capacity for the LRU window depends on the
// workload: 1 % where frequency predicts the next request (Zipf-like
// popularity, scans), most of the cache where recency does (bursts of
// re-reads, a database's working set that moves). Real traces have both,
// and change over time (bench/hit_ratio --all-traces: with a fixed 1 %
// window, an e-commerce database trace hit 15.8 points less than a plain
// LRU at 1 % of its keys, a file system trace 13.2 points less at 10 %).
//
// What it watches: a sample of the shard's requests, chosen by key hash (all
// of them in a shard of up to kGhostEntries entries, else a power-of-two
// share that leaves about kGhostEntries entries), is replayed through
// kCandidates.size() simulated shards, "ghosts": the same WTinyLfu with the
// capacity scaled by the sample's share and a fixed window each (from 1 %,
// as good as a pure TinyLFU, to 100 %, an LRU). A ghost holds only key
// hashes and charges. Sampling by key keeps each sampled key's whole
// request stream, so a ghost's hit ratio estimates what the full shard
// would hit with that window.
//
// How fast it moves: every period (as many sampled requests as a ghost
// holds entries, at least kMinPeriod), each ghost's hit ratio in the
// period updates an exponential moving average (weight kWeight, so about
// the last ten periods count); the window takes the candidate with the best
// average when that beats the current one's by more than kGrowMargin (a
// larger window) or kShrinkMargin (a smaller one). The margins differ
// because the moves cost differently: a larger window is an LRU at once
// (main's entries then go in LRU order, WTinyLfu::Evict), while a ghost's
// lead at a smaller window comes from a main region it has filtered by
// frequency for a long time, which the real shard, just moved, does not
// have yet (bench/hit_ratio, sprite at 10 % of its keys: with a weight of
// 0.3 and one margin of 0.005, 1.8 points under LRU; with these, 0.7). So a
// workload that turns from frequency- to recency-friendly moves the window
// within a few periods, and back again (window_tuner_test.cc); noise of a
// point does not.
//
// What bounds it: the window is always one of kCandidates (1 % to 100 %);
// it changes at most once a period; the tuner starts when the shard first
// evicts (until then nothing is lost whatever the window). Its memory is a
// fixed cost per shard, not charged against the capacity: kCandidates.size()
// x up to about
// 2 x kGhostEntries nodes of 192 bytes and index slots of 16 (about 1.2 MB
// per shard at most, less the smaller the shard).
// Cost: each sampled request is replayed kCandidates.size() times, under the
// shard's lock (cache_bench BM_SkewedOnFullCache: a full cache of 1 250
// entries per shard, half the lookups misses, 0.44 -> 1.1 us of CPU per
// lookup; BM_GetHitPinned, the hit path of a cache that is not full, does
// not change).
// Not thread-safe: each shard's policy owns one under its lock.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace tempo::cache::internal {

class WTinyLfu;
struct Node;
struct PolicyOptions;

class WindowTuner {
 public:
  // The window shares the ghosts simulate, and so the ones the window takes.
  static constexpr std::array<double, 5> kCandidates = {0.01, 0.1, 0.3, 0.6, 1.0};
  // About how many entries a ghost holds (it samples keys to stay near it).
  static constexpr size_t kGhostEntries = 512;
  static constexpr size_t kMinPeriod = 256;
  static constexpr double kWeight = 0.1;
  // How much better (hit ratio) a candidate's average must be to take over:
  // a larger window, or a smaller one (see the top of this file).
  static constexpr double kGrowMargin = 0.005;
  static constexpr double kShrinkMargin = 0.02;

  // Tunes a shard of `options.capacity_bytes`, starting from the candidate
  // nearest options.window_fraction.
  explicit WindowTuner(const PolicyOptions& options);
  ~WindowTuner();
  WindowTuner(const WindowTuner&) = delete;
  WindowTuner& operator=(const WindowTuner&) = delete;

  // The shard evicted for the first time, holding `entries` entries: picks
  // the sample's share and starts the ghosts. Later calls do nothing.
  void Start(size_t entries);

  // Counts one request of the shard for a key of `hash` whose entry is (or
  // would be) `charge` bytes. Returns the new window share when this request
  // ends a period that moves the window, else nullopt.
  std::optional<double> Record(uint64_t hash, size_t charge) {
    if (ghosts_.empty() || (sample_shift_ < 64 && ((hash * kMix) >> sample_shift_) != 0)) {
      return std::nullopt;
    }
    return RecordSampled(hash, charge);
  }

  // The window share the tuner last chose (or started with).
  double window_fraction() const { return kCandidates[current_]; }
  // How often the window moved.
  uint64_t moves() const { return moves_; }
  bool started() const { return !ghosts_.empty(); }

 private:
  static constexpr uint64_t kMix = 0x9e3779b97f4a7c15ULL;
  struct Ghost;

  std::optional<double> RecordSampled(uint64_t hash, size_t charge);

  const size_t capacity_;
  const double protected_fraction_;
  const int sketch_samples_per_entry_;
  const uint64_t seed_;
  // A key is sampled when the top bits of hash * kMix above this shift are
  // zero; 64 samples every key.
  int sample_shift_ = 64;
  std::vector<std::unique_ptr<Ghost>> ghosts_;  // one per candidate, once started
  std::array<double, kCandidates.size()> average_{};
  size_t period_ = kMinPeriod;
  size_t in_period_ = 0;
  uint64_t periods_ = 0;
  size_t current_ = 0;
  uint64_t moves_ = 0;
};

}  // namespace tempo::cache::internal
