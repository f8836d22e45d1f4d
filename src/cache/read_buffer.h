// ReadBuffer: a shard's per-thread record of recent hits (Caffeine's read
// buffers), so that a hit neither takes the shard's lock nor writes a cache
// line that another thread writes.
//
// Each thread that hits has its own stripe (its EpochGuard::thread_index(),
// dense over the live threads): a ring of the last kSlots nodes it hit and a
// counter of its hits, written only by that thread with plain stores, so
// the lines stay in its core's cache. When a hit completes a lap of its ring,
// the thread tries to take the shard's lock and drains every stripe into the
// policy (the sketch increment and the LRU move that a hit used to make under
// the lock); writers drain too, under the lock they hold. Threads whose index
// is past the stripes do not record here (the caller handles them).
//
// Lossy by design: when the lock is busy a ring keeps being overwritten, and
// a drain sees at most the last kSlots hits of each stripe (a slot being
// overwritten while it is read yields the newer node). The policy only needs
// a faithful sample of the hits, as in Caffeine; the counts are exact.
//
// Nodes are recorded by pointer while the reader is pinned; the shard's
// drain reads the reclamation epoch before it drains and frees only what
// that epoch allows (see ShardedCache::DrainLocked), so a recorded node is
// never freed before it is drained or overwritten.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "cache/node.h"

namespace tempo::cache::internal {

class ReadBuffer {
 public:
  // Hits per lap. Every drain pays a try_lock on the shard's mutex and a
  // look at every stripe, lines other cores write; 64 rather than 16 made a
  // hit 10-25 % cheaper on 1 and 2 threads (bench/cache_bench) and left the
  // hit ratios (bench/hit_ratio) unchanged.
  static constexpr size_t kSlots = 64;

  explicit ReadBuffer(size_t stripes)
      : stripe_count_(stripes), stripes_(std::make_unique<Stripe[]>(stripes)) {}
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;

  size_t stripes() const { return stripe_count_; }

  // Records a hit on `n` in stripe `stripe`. Returns true when it completed
  // a lap: the caller should drain. Lock-free.
  // REQUIRES: stripe < stripes(), and only one thread at a time records into
  // a stripe (its owner).
  bool Record(size_t stripe, Node* n) {
    Stripe& s = stripes_[stripe];
    const uint64_t ticket = s.recorded.load(std::memory_order_relaxed);
    s.slots[ticket & (kSlots - 1)].store(n, std::memory_order_relaxed);
    s.recorded.store(ticket + 1, std::memory_order_release);
    return (ticket & (kSlots - 1)) == kSlots - 1;
  }

  // Calls fn(Node*) for the hits recorded since the last drain (at most the
  // last kSlots of each stripe). REQUIRES: the owner's lock (one drainer).
  template <typename Fn>
  void Drain(Fn&& fn) {
    for (size_t i = 0; i < stripe_count_; ++i) {
      Stripe& s = stripes_[i];
      const uint64_t recorded = s.recorded.load(std::memory_order_acquire);
      const uint64_t lap_start = recorded < kSlots ? 0 : recorded - kSlots;
      for (uint64_t t = s.drained > lap_start ? s.drained : lap_start; t < recorded; ++t) {
        fn(s.slots[t & (kSlots - 1)].load(std::memory_order_relaxed));
      }
      s.drained = recorded;
    }
  }

  // The number of hits recorded so far (each stripe read at its own instant).
  uint64_t Recorded() const {
    uint64_t total = 0;
    for (size_t i = 0; i < stripe_count_; ++i) {
      total += stripes_[i].recorded.load(std::memory_order_relaxed);
    }
    return total;
  }

 private:
  // The counter and the ring share lines that the recording thread owns;
  // `drained` is the drainer's, and shares them only because the drainer
  // reads them anyway.
  struct alignas(64) Stripe {
    std::atomic<uint64_t> recorded{0};
    uint64_t drained = 0;
    std::atomic<Node*> slots[kSlots] = {};
  };

  const size_t stripe_count_;
  std::unique_ptr<Stripe[]> stripes_;
};

}  // namespace tempo::cache::internal
