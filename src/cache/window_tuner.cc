// WindowTuner: miniature simulations of the policy at other window sizes.
#include "cache/window_tuner.h"

#include <algorithm>
#include <cmath>

#include "cache/node.h"
#include "cache/wtinylfu.h"

namespace tempo::cache::internal {

namespace {

// A ghost's index of its nodes by key hash: open addressing with linear
// probing and backward-shift deletion, about half full. A std::unordered_map
// (a heap node per entry, a chain per bucket) made the tuner 3 times as
// expensive (cache_bench BM_SkewedOnFullCache).
class GhostIndex {
 public:
  GhostIndex() : slots_(16) {}

  Node* Find(uint64_t hash) const {
    for (size_t i = Home(hash);; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.node == nullptr || s.hash == hash) return s.node;
    }
  }

  // REQUIRES: no node of n->hash is indexed.
  void Insert(Node* n) {
    if (2 * (size_ + 1) > slots_.size()) Grow();
    size_t i = Home(n->hash);
    while (slots_[i].node != nullptr) i = (i + 1) & mask();
    slots_[i] = {n->hash, n};
    ++size_;
  }

  // REQUIRES: a node of `hash` is indexed.
  void Erase(uint64_t hash) {
    size_t i = Home(hash);
    while (slots_[i].hash != hash || slots_[i].node == nullptr) i = (i + 1) & mask();
    // Moves each later node of the probe run back into the hole unless its
    // home slot lies after the hole.
    for (size_t j = (i + 1) & mask(); slots_[j].node != nullptr; j = (j + 1) & mask()) {
      if (((j - Home(slots_[j].hash)) & mask()) >= ((j - i) & mask())) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = {};
    --size_;
  }

  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const Slot& s : slots_) {
      if (s.node != nullptr) fn(s.node);
    }
  }

 private:
  // The hash beside the node: probing reads no node.
  struct Slot {
    uint64_t hash = 0;
    Node* node = nullptr;
  };

  size_t mask() const { return slots_.size() - 1; }
  size_t Home(uint64_t hash) const { return (hash ^ (hash >> 29)) & mask(); }

  void Grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const Slot& s : old) {
      if (s.node != nullptr) Insert(s.node);
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace

// One simulated shard: the policy over key hashes, with a fixed window.
struct WindowTuner::Ghost {
  explicit Ghost(const PolicyOptions& options) : policy(options) {}
  ~Ghost() {
    index.ForEach([](Node* n) { Node::Delete(n); });
  }

  // Replays one request; true on a hit.
  bool Access(uint64_t hash, size_t charge) {
    if (Node* n = index.Find(hash)) {
      policy.OnHit(n);
      return true;
    }
    Node* n = Node::New({});
    n->hash = hash;
    n->charge = charge;
    evicted.clear();
    if (!policy.Add(n, &evicted)) {
      Node::Delete(n);
      return false;
    }
    index.Insert(n);
    for (Node* e : evicted) {
      index.Erase(e->hash);
      Node::Delete(e);
    }
    return false;
  }

  WTinyLfu policy;
  GhostIndex index;
  std::vector<Node*> evicted;
  uint64_t hits = 0;
};

WindowTuner::WindowTuner(const PolicyOptions& options)
    : capacity_(options.capacity_bytes),
      protected_fraction_(options.protected_fraction),
      sketch_samples_per_entry_(options.sketch_samples_per_entry),
      seed_(options.seed) {
  for (size_t i = 1; i < kCandidates.size(); ++i) {
    if (std::abs(kCandidates[i] - options.window_fraction) <
        std::abs(kCandidates[current_] - options.window_fraction)) {
      current_ = i;
    }
  }
}

WindowTuner::~WindowTuner() = default;

void WindowTuner::Start(size_t entries) {
  if (started()) return;
  // Sample 1 key in 2^k so that a ghost holds about kGhostEntries entries.
  int k = 0;
  while ((entries >> k) > kGhostEntries) ++k;
  sample_shift_ = 64 - k;
  for (double window : kCandidates) {
    PolicyOptions o;
    o.capacity_bytes = capacity_ >> k;
    o.window_fraction = window;
    o.protected_fraction = protected_fraction_;
    o.sketch_samples_per_entry = sketch_samples_per_entry_;
    o.seed = seed_;
    o.adaptive_window = false;
    ghosts_.push_back(std::make_unique<Ghost>(o));
  }
  period_ = std::max(kMinPeriod, entries >> k);
}

std::optional<double> WindowTuner::RecordSampled(uint64_t hash, size_t charge) {
  for (auto& ghost : ghosts_) ghost->hits += ghost->Access(hash, charge);
  if (++in_period_ < period_) return std::nullopt;
  // The period ends: fold each ghost's hit ratio into its average. The
  // first one only fills the ghosts: their hit ratios then say more about a
  // cold start than about the window.
  for (size_t i = 0; i < ghosts_.size(); ++i) {
    const double ratio = static_cast<double>(ghosts_[i]->hits) / static_cast<double>(in_period_);
    if (periods_ == 1) average_[i] = ratio;
    if (periods_ > 1) average_[i] += kWeight * (ratio - average_[i]);
    ghosts_[i]->hits = 0;
  }
  in_period_ = 0;
  if (++periods_ < 2) return std::nullopt;
  size_t best = current_;
  for (size_t i = 0; i < ghosts_.size(); ++i) {
    if (average_[i] > average_[best]) best = i;
  }
  const double margin = best < current_ ? kShrinkMargin : kGrowMargin;
  if (best == current_ || average_[best] <= average_[current_] + margin) return std::nullopt;
  current_ = best;
  ++moves_;
  return kCandidates[current_];
}

}  // namespace tempo::cache::internal
