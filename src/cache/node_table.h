// NodeTable: a shard's index from key to node, an open-addressing hash table.
//
// Chosen over std::unordered_map for the hit path: a slot holds the key's
// full 64-bit hash next to the node pointer, so a lookup reuses the hash the
// shard was chosen with (no second hash of the key), probes a contiguous
// array, and compares key bytes only on a full hash match. Linear probing
// with backward-shift deletion keeps probe sequences short without
// tombstones. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "cache/node.h"

namespace tempo::cache::internal {

class NodeTable {
 public:
  NodeTable();
  NodeTable(const NodeTable&) = delete;
  NodeTable& operator=(const NodeTable&) = delete;

  // The node with `key`, or nullptr. REQUIRES: hash == KeyHash(key).
  Node* Find(std::string_view key, uint64_t hash) const {
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.node == nullptr) return nullptr;
      if (s.hash == hash && s.node->key() == key) return s.node;
    }
  }

  // Indexes `n` under n->key. REQUIRES: no node with that key is indexed.
  void Insert(Node* n);

  // Unindexes `n`. REQUIRES: `n` is indexed.
  void Erase(const Node* n);

  size_t size() const { return size_; }

  // Calls fn(Node*) for every indexed node. REQUIRES: fn does not change the table.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t i = 0; i <= mask_; ++i) {
      if (slots_[i].node != nullptr) fn(slots_[i].node);
    }
  }

 private:
  static constexpr size_t kInitialSlots = 16;
  // Grow past 3/4 full: linear probing degrades quickly beyond that.
  static constexpr size_t kMaxLoadNumerator = 3;
  static constexpr size_t kMaxLoadDenominator = 4;

  struct Slot {
    uint64_t hash = 0;
    Node* node = nullptr;  // nullptr: empty
  };

  void Grow();

  // A pointer and a mask (not a std::vector) keep the fields a lookup reads
  // in 16 bytes, next to the shard's mutex.
  std::unique_ptr<Slot[]> slots_;
  size_t mask_;
  size_t size_ = 0;
};

}  // namespace tempo::cache::internal
