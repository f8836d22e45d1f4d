// Node: one cached entry as the cache's internals see it (untyped value).
//
// A node lives in exactly one shard: its hash table indexes it by key and its
// W-TinyLFU policy links it into one LRU list. Readers find it without the
// shard's lock (see NodeTable), so the fields a lookup reads (hash, key,
// written_ns, ttl_ns, value) never change once the node is published: a new
// value for a key is a new node that replaces the old one, which is retired
// (epoch.h) rather than freed. The other fields belong to the policy and the
// shard, under the shard's mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "cache/lru_list.h"

namespace tempo::cache::internal {

// What lock-free readers read is kept off the lines writers write, in units of this.
inline constexpr size_t kCacheLineBytes = 64;

// Which of the policy's three LRU lists holds a node.
enum class Region : uint8_t {
  kNone,       // not linked (new, or just taken out of the window)
  kWindow,     // the small admission window: every new entry starts here
  kProbation,  // main region, seen once since it was admitted or demoted
  kProtected,  // main region, hit again while in probation
};

// The key's bytes follow the node in the same allocation (as in LevelDB's
// LRUHandle): a hit compares the key without a second cache miss, and an
// entry costs one allocation. Create with New, free with Delete.
struct Node : ListLinks {
  // A node for `key` with every other field defaulted.
  static Node* New(std::string_view key);
  static void Delete(Node* n);
  // The heap memory New takes for a key of `key_size` bytes.
  static size_t AllocatedBytes(size_t key_size);

  std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), key_size}; }

  // key() == k, compared inline 8 bytes at a time: slice keys are a few
  // dozen bytes, and the call into libc's memcmp was 6 % of a hit.
  bool HasKey(std::string_view k) const {
    if (k.size() != key_size) return false;
    const char* a = reinterpret_cast<const char*>(this + 1);
    const char* b = k.data();
    size_t n = k.size();
    for (; n >= 8; n -= 8, a += 8, b += 8) {
      uint64_t x, y;
      std::memcpy(&x, a, 8);
      std::memcpy(&y, b, 8);
      if (x != y) return false;
    }
    for (; n > 0; --n, ++a, ++b) {
      if (*a != *b) return false;
    }
    return true;
  }

  // Under the shard's mutex: the policy writes these (the links too) on
  // every drained hit, so they share no cache line with what a lock-free
  // reader reads below (on two cores, that false sharing cost a fifth of a hit).
  size_t charge = 0;  // bytes counted against the capacity: the value's, plus the overhead
  int64_t refresh_not_before_ns = 0;  // after a failed or dropped refresh: no other until then
  // The frequency sketch's generation in which this key's count was seen
  // saturated (0: not seen); until the sketch ages, hits skip the sketch.
  uint32_t saturated_generation = 0;
  // Hits the policy has applied to this node since it was stored (buffered
  // hits count once drained; saturates at UINT32_MAX). For listings only.
  uint32_t hits = 0;
  // The policy's count of requests at this node's latest one (WTinyLfu).
  uint64_t last_access = 0;
  Region region = Region::kNone;
  // The most recent load or refresh of this key failed or timed out: once
  // past its stale grace, the node is served stale without waiting (cache.h).
  bool load_failed = false;
  // Bytes between the start of the allocation and the node (see New).
  uint8_t alignment_offset = 0;

  // Immutable once published; the key's bytes follow.
  alignas(kCacheLineBytes) uint64_t hash = 0;  // KeyHash(key()), computed once
  int64_t written_ns = 0;                      // clock time when `value` was stored
  int64_t ttl_ns = 0;                          // fresh while now - written_ns <= ttl_ns
  std::shared_ptr<const void> value;           // never null while resident
  uint32_t key_size = 0;

 private:
  Node() = default;
  ~Node() = default;
};

// Owns a node (tests; the shards own theirs through their tables).
struct NodeDeleter {
  void operator()(Node* n) const { Node::Delete(n); }
};
using NodePtr = std::unique_ptr<Node, NodeDeleter>;

}  // namespace tempo::cache::internal
