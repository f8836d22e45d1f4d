// NodeTable: a shard's index from key to node, an open-addressing hash table
// that readers search without the shard's lock.
//
// A slot holds the key's full 64-bit hash next to the node pointer, so a
// lookup reuses the hash the shard was chosen with, probes a contiguous
// array, and compares key bytes only on a full hash match. Linear probing
// with backward-shift deletion keeps probe sequences short without
// tombstones.
//
// Concurrency: one writer at a time (the shard's lock) changes the table;
// any number of readers call Find concurrently, inside an EpochGuard. Slots
// are atomics, nodes are published with release stores, and an array
// replaced by growth is retired to the epoch RetireList, so a reader never
// touches freed memory. A reader racing a writer may miss a key that is
// present (backward shift moved it behind the reader, or the reader saw a
// half-written slot); it never returns a node for another key, because it
// checks the node's own (immutable) hash and key. Callers treat a miss as a
// reason to look again under the lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cache/epoch.h"
#include "cache/node.h"

namespace tempo::cache::internal {

class NodeTable {
 public:
  // Arrays replaced by growth go to `retired`, which must outlive the table.
  explicit NodeTable(RetireList* retired);
  ~NodeTable();
  NodeTable(const NodeTable&) = delete;
  NodeTable& operator=(const NodeTable&) = delete;

  // The node with `key`, or nullptr. REQUIRES: hash == KeyHash(key), and
  // either the writer's lock (exact) or an EpochGuard (may miss, see above).
  Node* Find(std::string_view key, uint64_t hash) const {
    const Array* a = array_.load(std::memory_order_acquire);
    const Slot* slots = a->slots();
    // Bounded: a reader racing writers could otherwise chase moving runs.
    for (size_t i = hash & a->mask, probes = 0; probes <= a->mask;
         i = (i + 1) & a->mask, ++probes) {
      const Slot& s = slots[i];
      const uint64_t slot_hash = s.hash.load(std::memory_order_relaxed);
      Node* n = s.node.load(std::memory_order_acquire);
      if (n == nullptr) return nullptr;
      if (slot_hash == hash && n->hash == hash && n->HasKey(key)) return n;
    }
    return nullptr;
  }

  // Indexes `n` under n->key. REQUIRES: the writer's lock; no node with that
  // key is indexed; `n` is fully built (this publishes it).
  void Insert(Node* n);

  // Puts `replacement` (same key, fully built) in `old`'s slot, publishing
  // it. REQUIRES: the writer's lock; `old` is indexed.
  void Replace(const Node* old, Node* replacement);

  // Unindexes `n`. REQUIRES: the writer's lock; `n` is indexed.
  void Erase(const Node* n);

  size_t size() const { return size_; }

  // The most slot memory one indexed node accounts for: the table grows
  // (doubling) past 3/4 full and never shrinks, so just after growing it
  // holds 8/3 slots per node.
  static constexpr size_t MaxBytesPerNode() {
    return (2 * kMaxLoadDenominator * sizeof(Slot) + kMaxLoadNumerator - 1) / kMaxLoadNumerator;
  }

  // Calls fn(Node*) for every indexed node. REQUIRES: the writer's lock; fn
  // does not change the table.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    const Array* a = array_.load(std::memory_order_relaxed);
    for (size_t i = 0; i <= a->mask; ++i) {
      if (Node* n = a->slots()[i].node.load(std::memory_order_relaxed)) fn(n);
    }
  }

 private:
  static constexpr size_t kInitialSlots = 16;
  // Grow past 3/4 full: linear probing degrades quickly beyond that.
  static constexpr size_t kMaxLoadNumerator = 3;
  static constexpr size_t kMaxLoadDenominator = 4;

  struct Slot {
    std::atomic<uint64_t> hash{0};
    std::atomic<Node*> node{nullptr};  // nullptr: empty
  };

  // The mask and the slots in one allocation, so that a reader loads one
  // pointer and sees a consistent pair.
  struct Array {
    size_t mask;
    Slot* slots() { return reinterpret_cast<Slot*>(this + 1); }
    const Slot* slots() const { return reinterpret_cast<const Slot*>(this + 1); }
    static Array* New(size_t slot_count);
    static void Delete(void* array);
  };

  void Grow();
  size_t SlotOf(const Array& a, const Node* n) const;
  static void Set(Slot& s, uint64_t hash, Node* n) {
    s.hash.store(hash, std::memory_order_relaxed);
    s.node.store(n, std::memory_order_release);
  }

  RetireList* const retired_;
  std::atomic<Array*> array_;
  size_t size_ = 0;
};

}  // namespace tempo::cache::internal
