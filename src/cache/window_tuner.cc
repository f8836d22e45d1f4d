// WindowTuner: miniature simulations of the policy at other window sizes.
#include "cache/window_tuner.h"

#include <algorithm>
#include <cmath>

#include "cache/node.h"
#include "cache/wtinylfu.h"

namespace tempo::cache::internal {

// One simulated shard: the policy over key hashes, with a fixed window.
struct WindowTuner::Ghost {
  explicit Ghost(const PolicyOptions& options) : policy(options) {}
  ~Ghost() {
    for (auto& [hash, n] : nodes) Node::Delete(n);
  }

  // Replays one request; true on a hit.
  bool Access(uint64_t hash, size_t charge) {
    auto it = nodes.find(hash);
    if (it != nodes.end()) {
      policy.OnHit(it->second);
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
    nodes.emplace(hash, n);
    for (Node* e : evicted) {
      nodes.erase(e->hash);
      Node::Delete(e);
    }
    return false;
  }

  WTinyLfu policy;
  std::unordered_map<uint64_t, Node*> nodes;
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
