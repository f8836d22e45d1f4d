// Epoch-based reclamation: how the cache frees memory that lock-free readers
// may still be reading (Fraser, "Practical lock-freedom", 2004; the scheme of
// crossbeam-epoch).
//
// A reader pins the current global epoch for the duration of a lookup
// (EpochGuard). A writer that unlinks a node (or a table array) under its
// shard's lock does not free it but retires it (RetireList::Retire), tagged
// with the global epoch. The epoch advances only when every pinned reader has
// pinned the current one, so once it has advanced twice past a retired
// object's tag, no reader can still hold a pointer to it, and it is freed.
//
// The domain is process-wide (one epoch, one record per thread, reused after
// the thread exits), so a reader pays two plain stores per lookup, whatever
// the number of caches, and the record is never shared.
//
// Pinning needs a store-load fence (the pin must be visible before the
// reader's loads of shared pointers). A fence on every lookup was the
// largest cost of the first lock-free version (a `lock or`, about 8 ns here),
// so the fence is asymmetric, as in folly's hazard pointers and the Linux
// kernel's sys_membarrier users: readers only stop the compiler from
// reordering, and the rare thread that advances the epoch makes every running
// thread of the process execute a full barrier first
// (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), a few microseconds). Where
// the kernel lacks it, readers fall back to a real fence.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tempo::cache::internal {

// One thread's published epoch. Padded: it is written by its owner on every
// lookup and read by writers that try to advance the epoch.
struct alignas(64) EpochRecord {
  static constexpr uint64_t kIdle = ~uint64_t{0};

  std::atomic<uint64_t> epoch{kIdle};  // the pinned epoch, or kIdle
  std::atomic<bool> in_use{false};     // claimed by a live thread
  bool light_pin = false;              // asymmetric fences are on; owner only
  uint32_t depth = 0;                  // nested guards; owner only
  uint32_t index = 0;                  // dense: records are numbered from 0
  EpochRecord* next = nullptr;         // the registry's list; immutable once linked
};

namespace epoch_internal {
// Written only when the epoch advances; read on every pin. Own cache line.
struct alignas(64) GlobalEpoch {
  std::atomic<uint64_t> value{0};
};
inline GlobalEpoch global_epoch;
inline thread_local EpochRecord* thread_record = nullptr;
// Claims a record for this thread (and releases it when the thread exits).
EpochRecord* ClaimRecord();
// Whether membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is registered for this
// process (decided once, on first use).
bool AsymmetricFences();
}  // namespace epoch_internal

// Pins the epoch: pointers read from shared structures while a guard lives
// stay valid until it is destroyed. Guards nest.
class EpochGuard {
 public:
  EpochGuard() {
    EpochRecord* r = epoch_internal::thread_record;
    if (r == nullptr) r = epoch_internal::ClaimRecord();
    record_ = r;
    if (r->depth++ == 0) {
      r->epoch.store(epoch_internal::global_epoch.value.load(std::memory_order_relaxed),
                     std::memory_order_relaxed);
      // Orders the pin before the reads it protects: a writer that unlinked
      // a pointer and then scans the records either sees this pin, or this
      // reader's loads see the unlink (the store-load pattern needs a fence;
      // with asymmetric fences the scanning thread issues it for us).
      if (r->light_pin) {
        std::atomic_signal_fence(std::memory_order_seq_cst);
      } else {
        std::atomic_thread_fence(std::memory_order_seq_cst);
      }
    }
  }
  ~EpochGuard() {
    if (--record_->depth == 0) record_->epoch.store(EpochRecord::kIdle, std::memory_order_release);
  }
  // A small number that no other live thread has (records are reused, so
  // the numbers stay dense): it spreads threads over striped structures.
  size_t thread_index() const { return record_->index; }

  EpochGuard(const EpochGuard&) = delete;
  EpochGuard& operator=(const EpochGuard&) = delete;

 private:
  EpochRecord* record_;
};

// Objects unlinked from shared structures, waiting until no reader can hold
// them. Not thread-safe: each shard owns one under its lock.
class RetireList {
 public:
  using Deleter = void (*)(void*);
  struct Item {
    void* object;
    Deleter deleter;
    uint64_t epoch;
  };

  RetireList() = default;
  // Frees everything. REQUIRES: no reader can hold any of it.
  ~RetireList();
  RetireList(const RetireList&) = delete;
  RetireList& operator=(const RetireList&) = delete;

  // Retires `object`, already unreachable for new readers; it is freed by
  // deleter(object) once no reader can hold it.
  void Retire(void* object, Deleter deleter);

  // Tries to advance the global epoch when retired items wait for it, and
  // returns the global epoch, for Collect. An advance costs a process-wide
  // barrier, so it is tried only when kAdvanceBatch items wait or on every
  // kAdvanceEvery-th call: a retired item is freed after at most about
  // 2 * kAdvanceEvery later calls (if no reader stays pinned).
  uint64_t ReclaimableEpoch();

  // Moves the items that no reader can hold any more, given the global
  // epoch `epoch` read earlier by ReclaimableEpoch, to *safe (the caller
  // frees them, typically after releasing its lock). Reading the epoch
  // first lets the caller drain what readers recorded before they unpinned
  // (the read buffers hold node pointers) before anything is freed.
  void Collect(uint64_t epoch, std::vector<Item>* safe);

  size_t size() const { return items_.size(); }

  // Frees `items`.
  static void Free(std::vector<Item>* items);

  // Advances the global epoch if every pinned reader has pinned the current
  // one. Returns whether it advanced (for tests).
  static bool TryAdvance();

  static constexpr size_t kAdvanceBatch = 32;
  static constexpr uint32_t kAdvanceEvery = 8;

 private:
  std::vector<Item> items_;  // in retirement order, so tags never decrease
  uint32_t calls_since_advance_ = 0;
};

}  // namespace tempo::cache::internal
