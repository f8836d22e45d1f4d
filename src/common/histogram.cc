// Histogram: thread-striped bucket counters, summed on Snapshot.
#include "common/histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <new>
#include <thread>

namespace tempo {
namespace {

constexpr size_t kMaxStripes = 64;

std::vector<int64_t> BoundsNs(std::span<const std::chrono::nanoseconds> bounds) {
  assert(!bounds.empty() && bounds.size() <= kMaxHistogramBounds);
  std::vector<int64_t> ns;
  ns.reserve(bounds.size());
  for (const std::chrono::nanoseconds bound : bounds) {
    assert(bound.count() > 0 && (ns.empty() || bound.count() > ns.back()));
    ns.push_back(bound.count());
  }
  return ns;
}

// Atomics per stripe for `bounds` finite bounds: one per bucket (with +Inf) and the sum,
// rounded up so that every stripe starts on its own kStripeAlignBytes.
size_t StripeSlots(size_t bounds) {
  constexpr size_t kPerAlign = kStripeAlignBytes / sizeof(std::atomic<uint64_t>);
  const size_t used = bounds + 2;
  return (used + kPerAlign - 1) / kPerAlign * kPerAlign;
}

}  // namespace

size_t DefaultStripes() {
  const size_t cpus = std::max<size_t>(1, std::thread::hardware_concurrency());
  return std::bit_ceil(std::min(cpus, kMaxStripes));
}

void HistogramSnapshot::Merge(const HistogramSnapshot& other) {
  if (bucket_counts.empty()) {
    *this = other;
    return;
  }
  assert(bounds == other.bounds);
  for (size_t i = 0; i < bucket_counts.size() && i < other.bucket_counts.size(); ++i) {
    bucket_counts[i] += other.bucket_counts[i];
  }
  count += other.count;
  sum_seconds += other.sum_seconds;
}

void FreeAlignedCounters::operator()(std::atomic<uint64_t>* counters) const {
  // std::atomic<uint64_t> is trivially destructible: nothing to run before freeing.
  ::operator delete (static_cast<void*>(counters), std::align_val_t{kStripeAlignBytes});
}

AlignedCounters NewAlignedCounters(size_t n) {
  constexpr size_t kPerAlign = kStripeAlignBytes / sizeof(std::atomic<uint64_t>);
  n = std::max<size_t>(1, (n + kPerAlign - 1) / kPerAlign) * kPerAlign;
  void* memory =
      ::operator new (n * sizeof(std::atomic<uint64_t>), std::align_val_t{kStripeAlignBytes});
  auto* counters = static_cast<std::atomic<uint64_t>*>(memory);
  // All zero bits: counts of 0, and a Histogram's sum of 0.0.
  for (size_t i = 0; i < n; ++i) new (&counters[i]) std::atomic<uint64_t>(0);
  return AlignedCounters(counters);
}

Histogram::Histogram(std::span<const std::chrono::nanoseconds> bounds)
    : bounds_ns_(BoundsNs(bounds)),
      stripe_mask_(DefaultStripes() - 1),
      stripe_slots_(StripeSlots(bounds_ns_.size())),
      slots_(NewAlignedCounters((stripe_mask_ + 1) * stripe_slots_)) {}

HistogramSnapshot Histogram::Snapshot() const {
  HistogramSnapshot snapshot;
  snapshot.bounds.reserve(bounds_ns_.size());
  for (const int64_t ns : bounds_ns_) snapshot.bounds.emplace_back(ns);
  snapshot.bucket_counts.assign(bounds_ns_.size() + 1, 0);
  double sum_ns = 0;
  for (size_t s = 0; s <= stripe_mask_; ++s) {
    const std::atomic<uint64_t>* stripe = slots_.get() + s * stripe_slots_;
    for (size_t b = 0; b < snapshot.bucket_counts.size(); ++b) {
      snapshot.bucket_counts[b] += stripe[b].load(std::memory_order_relaxed);
    }
    sum_ns += std::bit_cast<double>(stripe[sum_slot()].load(std::memory_order_relaxed));
  }
  for (const uint64_t n : snapshot.bucket_counts) snapshot.count += n;
  snapshot.sum_seconds = sum_ns / 1e9;
  return snapshot;
}

}  // namespace tempo
