// WTinyLfu: window LRU + TinyLFU admission + segmented-LRU main region.
#include "cache/wtinylfu.h"

#include <cassert>
#include <cstdlib>

namespace tempo::cache::internal {

WTinyLfu::WTinyLfu(const PolicyOptions& options)
    : capacity_(options.capacity_bytes),
      protected_fraction_(options.protected_fraction),
      sketch_(options.sketch_samples_per_entry),
      random_state_(options.seed | 1) {
  if (options.adaptive_window) {
    tuner_ = std::make_unique<WindowTuner>(options);
    SetWindowFraction(tuner_->window_fraction());
  } else {
    SetWindowFraction(options.window_fraction);
  }
}

void WTinyLfu::SetWindowFraction(double fraction) {
  window_fraction_ = fraction;
  window_max_ = static_cast<size_t>(static_cast<double>(capacity_) * fraction);
  protected_max_ =
      static_cast<size_t>(static_cast<double>(capacity_ - window_max_) * protected_fraction_);
  DemoteProtectedOverflow(nullptr);
}

size_t& WTinyLfu::RegionBytes(Region r) {
  switch (r) {
    case Region::kWindow:
      return window_bytes_;
    case Region::kProbation:
      return probation_bytes_;
    case Region::kProtected:
      return protected_bytes_;
    case Region::kNone:
      break;
  }
  // Every caller passes a listed node; going on would corrupt the accounting.
  std::abort();
}

void WTinyLfu::OnHit(Node* n) {
  // Most hits are on the most popular keys, whose counts are saturated: an
  // increment would change nothing, and skipping it was 20 % of a hit.
  if (n->saturated_generation != sketch_.generation()) {
    if (sketch_.Increment(n->hash)) n->saturated_generation = sketch_.generation();
  } else {
    sketch_.CountSaturated();
  }
  if (n->hits != UINT32_MAX) ++n->hits;
  n->last_access = ++requests_;
  switch (n->region) {
    case Region::kWindow:
      window_.MoveToFront(n);
      break;
    case Region::kProbation:
      LruList::Remove(n);
      probation_bytes_ -= n->charge;
      protected_.PushFront(n);
      n->region = Region::kProtected;
      protected_bytes_ += n->charge;
      DemoteProtectedOverflow(n);
      break;
    case Region::kProtected:
      protected_.MoveToFront(n);
      break;
    case Region::kNone:
      assert(false && "hit on a node in no region");
      break;
  }
  Sample(true);
  Tune(n->hash, n->charge);
}

bool WTinyLfu::Add(Node* n, std::vector<Node*>* evicted) {
  if (n->charge > capacity_) return false;
  // A miss on a key not missed recently (a scan, a one-off) says nothing
  // about the popular keys moving: it is left out of the sample, and it
  // counts half towards the sketch's aging (FrequencySketch::Weight).
  const bool missed_before = shift_detector_.MissedBefore(n->hash, entries_);
  if (missed_before) Sample(false);
  Tune(n->hash, n->charge);
  n->last_access = ++requests_;
  ++entries_;
  sketch_.EnsureCapacity(entries_);  // sizes the sketch and its aging period
  sketch_.Increment(
      n->hash, missed_before ? FrequencySketch::Weight::kFull : FrequencySketch::Weight::kHalf);
  window_.PushFront(n);
  n->region = Region::kWindow;
  window_bytes_ += n->charge;
  total_bytes_ += n->charge;
  const size_t before = evicted->size();
  Evict(n, evicted);
  // The first eviction: the shard is full, and its window starts to matter.
  if (tuner_ != nullptr && evicted->size() > before && !tuner_->started()) tuner_->Start(entries_);
  return true;
}

bool WTinyLfu::UpdateCharge(Node* n, size_t charge, std::vector<Node*>* evicted) {
  if (charge > capacity_) return false;
  size_t& region_bytes = RegionBytes(n->region);
  region_bytes = region_bytes - n->charge + charge;
  total_bytes_ = total_bytes_ - n->charge + charge;
  n->charge = charge;
  if (n->region == Region::kProtected) DemoteProtectedOverflow(n);
  Evict(n, evicted);
  return true;
}

bool WTinyLfu::Replace(Node* old, Node* n, std::vector<Node*>* evicted) {
  if (n->charge > capacity_) return false;
  const size_t charge = n->charge;
  n->charge = old->charge;
  n->region = old->region;
  LruList::Replace(old, n);
  old->region = Region::kNone;
  return UpdateCharge(n, charge, evicted);
}

void WTinyLfu::Remove(Node* n) {
  Unlink(n);
  total_bytes_ -= n->charge;
  --entries_;
}

void WTinyLfu::Unlink(Node* n) {
  RegionBytes(n->region) -= n->charge;
  LruList::Remove(n);
  n->region = Region::kNone;
}

void WTinyLfu::Drop(Node* detached, std::vector<Node*>* evicted) {
  total_bytes_ -= detached->charge;
  --entries_;
  evicted->push_back(detached);
}

Node* WTinyLfu::LeastRecent(const LruList& list, const Node* keep) const {
  ListLinks* l = list.Back();
  if (l == keep) l = list.Newer(l);
  return l == nullptr ? nullptr : AsNode(l);
}

Node* WTinyLfu::MainVictim(const Node* keep) const {
  Node* victim = LeastRecent(probation_, keep);
  return victim != nullptr ? victim : LeastRecent(protected_, keep);
}

void WTinyLfu::DemoteProtectedOverflow(const Node* keep) {
  while (protected_bytes_ > protected_max_) {
    Node* d = LeastRecent(protected_, keep);
    if (d == nullptr) break;
    LruList::Remove(d);
    protected_bytes_ -= d->charge;
    probation_.PushFront(d);
    d->region = Region::kProbation;
    probation_bytes_ += d->charge;
  }
}

void WTinyLfu::Evict(const Node* keep, std::vector<Node*>* evicted) {
  // The newest entry stays in the window even when it alone is over the
  // window's share, so that an entry is always resident right after Add.
  // After the window shrank, its overflow moves to main over several calls
  // (kMaxTransfers each), so that no call holds the shard's lock for long.
  for (int transfers = 0; window_bytes_ > window_max_ && transfers < kMaxTransfers; ++transfers) {
    Node* candidate = LeastRecent(window_, keep);
    if (candidate == nullptr) break;
    Unlink(candidate);
    AdmitToMain(candidate, keep, evicted);
  }
  // Over capacity with the window under its share: the window grew (or
  // entries were removed), so main must shrink. Its entries go in the order
  // an LRU would evict them, each against the window's oldest, so that what
  // main held stays while it is requested as recently as what the window
  // holds (evicting main's entries first cost up to a point of hit ratio
  // each time the tuner grew the window).
  while (total_bytes_ > capacity_) {
    Node* victim = LeastRecent(window_, keep);
    for (const LruList* list : {&probation_, &protected_}) {
      Node* oldest = LeastRecent(*list, keep);
      if (oldest != nullptr && (victim == nullptr || oldest->last_access < victim->last_access)) {
        victim = oldest;
      }
    }
    if (victim == nullptr) break;  // only `keep` is left, and it fits (checked by callers)
    Unlink(victim);
    Drop(victim, evicted);
  }
}

void WTinyLfu::AdmitToMain(Node* candidate, const Node* keep, std::vector<Node*>* evicted) {
  // While the cache is not full, every candidate gets in (nothing to compare
  // against); once it is, it must beat each victim it would displace.
  while (total_bytes_ > capacity_) {
    Node* victim = MainVictim(keep);
    if (victim == nullptr) break;
    if (!Admit(candidate->hash, victim->hash)) {
      ++admissions_rejected_;
      Drop(candidate, evicted);
      return;
    }
    Unlink(victim);
    Drop(victim, evicted);
  }
  if (total_bytes_ > capacity_) {  // main is empty and the window alone is full
    Drop(candidate, evicted);
    return;
  }
  probation_.PushFront(candidate);
  candidate->region = Region::kProbation;
  probation_bytes_ += candidate->charge;
}

bool WTinyLfu::Admit(uint64_t candidate_hash, uint64_t victim_hash) {
  const int candidate_freq = sketch_.Estimate(candidate_hash);
  const int victim_freq = sketch_.Estimate(victim_hash);
  if (candidate_freq > victim_freq) return true;
  if (candidate_freq < kRandomAdmitMinFrequency) return false;
  return NextRandom() % kRandomAdmitOneIn == 0;
}

void WTinyLfu::Sample(bool hit) {
  if (!shift_detector_.Record(hit, entries_)) return;
  ++shifts_;
  sketch_.Reset();
  // The old favourites are evicted first now, newest last, unless hit again.
  while (ListLinks* l = protected_.Front()) {
    Node* d = AsNode(l);
    LruList::Remove(d);
    protected_bytes_ -= d->charge;
    probation_.PushBack(d);
    d->region = Region::kProbation;
    probation_bytes_ += d->charge;
  }
}

uint64_t WTinyLfu::NextRandom() {
  // xorshift64*: deterministic per seed, and cheap.
  random_state_ ^= random_state_ >> 12;
  random_state_ ^= random_state_ << 25;
  random_state_ ^= random_state_ >> 27;
  return random_state_ * 0x2545f4914f6cdd1dULL;
}

}  // namespace tempo::cache::internal
