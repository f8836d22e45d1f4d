// WTinyLfu: the admission and eviction policy of one cache shard, bounded in
// bytes (Einziger, Friedman, Manes: "TinyLFU: A Highly Efficient Cache
// Admission Policy", 2017; the layout of Caffeine's BoundedLocalCache).
//
// New entries enter a small LRU "window". Entries pushed out of the window are
// candidates for the main region, a segmented LRU (probation, then protected
// once hit again). While the shard is over capacity, a candidate is compared
// with the main region's least recently used entry (the victim) by the
// frequency the sketch estimates for each; the less frequent one is evicted.
// So a burst of one-hit wonders (a scan) churns only the window, and a key
// must be requested more often than the entry it would displace to get in.
//
// The policy does not own nodes: Add and UpdateCharge report the nodes they
// evicted and the caller unindexes and frees them. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "cache/frequency_sketch.h"
#include "cache/lru_list.h"
#include "cache/node.h"
#include "cache/shift_detector.h"
#include "cache/window_tuner.h"

namespace tempo::cache::internal {

struct PolicyOptions {
  size_t capacity_bytes = 0;
  // Share of the capacity kept for the admission window: where it starts,
  // when adaptive_window is set.
  double window_fraction = 0.01;
  // Let a WindowTuner move the window (window_tuner.h).
  bool adaptive_window = true;
  // Share of the main region (capacity minus window) for protected entries.
  double protected_fraction = 0.8;
  // The sketch halves its counters after this many accesses per entry.
  int sketch_samples_per_entry = 150;
  // Seeds the generator behind the rare random admission of a warm candidate
  // (hash-flooding protection), so runs are reproducible.
  uint64_t seed = 1;
};

class WTinyLfu {
 public:
  // A candidate at least this frequent that loses to its victim is still
  // admitted with probability 1/kRandomAdmitOneIn (Caffeine's defence against
  // an attacker who keeps a victim's counter high with colliding keys).
  static constexpr int kRandomAdmitMinFrequency = 6;
  static constexpr uint64_t kRandomAdmitOneIn = 128;
  // The most window entries one call moves to the main region.
  static constexpr int kMaxTransfers = 64;

  explicit WTinyLfu(const PolicyOptions& options);
  WTinyLfu(const WTinyLfu&) = delete;
  WTinyLfu& operator=(const WTinyLfu&) = delete;

  // Counts one access of `hash` in the frequency sketch without touching
  // any entry (a request for a key that is not resident and is not added),
  // and remembers it as a recent miss (ShiftDetector::MissedBefore).
  void RecordAccess(uint64_t hash) {
    sketch_.Increment(hash);
    (void)shift_detector_.MissedBefore(hash, entries_);
  }

  // A hit on resident `n`: counts the access and moves `n` up: to the front
  // of its list, or from probation to protected (demoting protected's least
  // recently used entries to probation while protected is over its share).
  // Skips the sketch while it knows n's count is saturated.
  void OnHit(Node* n);

  // Counts an access of new node `n` and adds it, at the front of the window,
  // then evicts until the shard fits its capacity, appending the evicted
  // nodes (never `n`) to *evicted. Returns false, changing nothing, when
  // n->charge alone exceeds the capacity. REQUIRES: `n` is not resident.
  bool Add(Node* n, std::vector<Node*>* evicted);

  // Sets resident `n`'s charge to `charge` and evicts as Add does (never `n`).
  // Returns false, changing nothing, when `charge` exceeds the capacity.
  bool UpdateCharge(Node* n, size_t charge, std::vector<Node*>* evicted);

  // Puts new node `n` (its charge set) where resident `old` is (same region
  // and LRU position) and evicts as UpdateCharge does (never `n`); the caller
  // frees `old`. Returns false, changing nothing, when n->charge exceeds the
  // capacity. This is how a key gets a new value: nodes are immutable for
  // the lock-free readers.
  bool Replace(Node* old, Node* n, std::vector<Node*>* evicted);

  // Unlinks resident `n` (invalidation or expiry); the caller frees it.
  void Remove(Node* n);

  // Sets the window's share of the capacity (what the tuner does). Entries
  // move between the regions as later calls evict, not at once.
  void SetWindowFraction(double fraction);

  size_t capacity_bytes() const { return capacity_; }
  // The window's current share of the capacity, and how often the tuner moved it.
  double window_fraction() const { return window_fraction_; }
  uint64_t window_moves() const { return tuner_ ? tuner_->moves() : 0; }
  size_t window_bytes() const { return window_bytes_; }
  // Workload shifts detected (see ShiftDetector): each one cleared the
  // sketch and demoted every protected entry to probation's least recent end.
  uint64_t shifts() const { return shifts_; }
  // Sum of the charges of the resident nodes; never above capacity_bytes().
  size_t bytes() const { return total_bytes_; }
  size_t entries() const { return entries_; }
  // Candidates that lost the frequency comparison (or did not fit) and were
  // evicted instead of their victim.
  uint64_t admissions_rejected() const { return admissions_rejected_; }
  // The sketch's estimate for `hash` (for tests and the hit-ratio tool).
  int EstimateFrequency(uint64_t hash) const { return sketch_.Estimate(hash); }
  const FrequencySketch& sketch() const { return sketch_; }

 private:
  static Node* AsNode(ListLinks* l) { return static_cast<Node*>(l); }

  // Moves window overflow into main (each candidate facing main's victims),
  // then evicts least recently used entries until the shard fits.
  void Evict(const Node* keep, std::vector<Node*>* evicted);
  // Admits detached `candidate` into probation or evicts it.
  void AdmitToMain(Node* candidate, const Node* keep, std::vector<Node*>* evicted);
  // True when `candidate` should replace `victim`.
  bool Admit(uint64_t candidate_hash, uint64_t victim_hash);
  // The least recently used entry of a list other than `keep`, or nullptr.
  Node* LeastRecent(const LruList& list, const Node* keep) const;
  // Main region's eviction victim: probation's LRU entry, else protected's.
  Node* MainVictim(const Node* keep) const;
  void DemoteProtectedOverflow(const Node* keep);
  // Counts a request for the shift detector and forgets on a shift.
  void Sample(bool hit);
  // Counts a request for the window tuner and applies what it decides.
  void Tune(uint64_t hash, size_t charge) {
    if (tuner_ == nullptr) return;
    if (std::optional<double> window = tuner_->Record(hash, charge)) SetWindowFraction(*window);
  }
  void Unlink(Node* n);
  void Drop(Node* detached, std::vector<Node*>* evicted);
  size_t& RegionBytes(Region r);
  uint64_t NextRandom();

  const size_t capacity_;
  const double protected_fraction_;
  double window_fraction_;
  size_t window_max_;
  size_t protected_max_;
  FrequencySketch sketch_;
  LruList window_, probation_, protected_;
  size_t window_bytes_ = 0, probation_bytes_ = 0, protected_bytes_ = 0;
  size_t total_bytes_ = 0;
  size_t entries_ = 0;
  uint64_t admissions_rejected_ = 0;
  uint64_t random_state_;
  ShiftDetector shift_detector_;
  uint64_t shifts_ = 0;
  uint64_t requests_ = 0;               // hits and adds: the clock of Node::last_access
  std::unique_ptr<WindowTuner> tuner_;  // null unless adaptive_window
};

}  // namespace tempo::cache::internal
