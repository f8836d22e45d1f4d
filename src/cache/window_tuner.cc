// WindowTuner: miniature simulations of the policy at other window sizes.
#include "cache/window_tuner.h"

#include <bit>
#include <cmath>

#include "cache/node.h"
#include "cache/wtinylfu.h"

#include <cstdlib>
#include <cstdio>
namespace tempo::cache::internal {
namespace {
double Env(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v ? std::atof(v) : fallback;
}
const double kW = Env("WT_WEIGHT", 0.3), kM = Env("WT_MARGIN", 0.005), kP = Env("WT_PERIOD", 1);
}  // namespace

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
  uint64_t total_hits = 0;
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

WindowTuner::~WindowTuner() {
  if (std::getenv("WT_DEBUG") && started()) {
    std::fprintf(stderr, "tuner: sampled %llu, moves %llu, window %.2f, totals:", (unsigned long long)total_, (unsigned long long)moves_, kCandidates[current_]);
    for (auto& g : ghosts_) std::fprintf(stderr, " %.4f", double(g->total_hits) / double(total_));
    std::fprintf(stderr, "\n");
  }
}

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
  period_ = std::max<size_t>(kMinPeriod, static_cast<size_t>(kP * static_cast<double>(entries >> k)));
}

std::optional<double> WindowTuner::RecordSampled(uint64_t hash, size_t charge) {
  ++total_;
  for (auto& ghost : ghosts_) { const bool h = ghost->Access(hash, charge); ghost->hits += h; ghost->total_hits += h; }
  if (++in_period_ < period_) return std::nullopt;
  // The period ends: fold each ghost's hit ratio into its average. The
  // first one only fills the ghosts: their hit ratios then say more about a
  // cold start than about the window.
  for (size_t i = 0; i < ghosts_.size(); ++i) {
    const double ratio = static_cast<double>(ghosts_[i]->hits) / static_cast<double>(in_period_);
    if (periods_ == 1) average_[i] = ratio;
    if (periods_ > 1) average_[i] += kW * (ratio - average_[i]);
    ghosts_[i]->hits = 0;
  }
  in_period_ = 0;
  if (++periods_ < 2) return std::nullopt;
  size_t best = current_;
  for (size_t i = 0; i < ghosts_.size(); ++i) {
    if (average_[i] > average_[best]) best = i;
  }
  static const double kTie = Env("WT_TIE", -1);
  if (kTie >= 0) {
    // Within kTie of the best, the largest window: moving costs, and the
    // larger windows lose little where frequency wins by less than that.
    const double top = average_[best];
    if (average_[current_] >= top - kTie) return std::nullopt;
    for (size_t i = ghosts_.size(); i-- > 0;) {
      if (average_[i] >= top - kTie) { best = i; break; }
    }
  } else if (best == current_ || average_[best] <= average_[current_] + kM) {
    return std::nullopt;
  }
  if (std::getenv("WT_DEBUG")) { std::fprintf(stderr, "p%llu %.2f->%.2f:", (unsigned long long)periods_, kCandidates[current_], kCandidates[best]); for (double a : average_) std::fprintf(stderr, " %.3f", a); std::fprintf(stderr, "\n"); }
  if (std::getenv("WT_STEP")) current_ += best > current_ ? 1 : -1; else current_ = best;
  ++moves_;
  return kCandidates[current_];
}

}  // namespace tempo::cache::internal
