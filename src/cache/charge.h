// Charges: how to measure what a cached value really costs in memory, so
// that a cache's capacity_bytes bounds the process's memory (cache.h).
#pragma once

#include <cstddef>

namespace tempo::cache {

// The heap memory malloc takes for a block of `requested` bytes: glibc's
// allocator adds an 8-byte header and rounds up to 16, and no block is
// smaller than 32 (malloc_usable_size(p) + 8 for a block it returned). Zero
// for zero bytes: nothing was allocated.
constexpr size_t HeapBlockBytes(size_t requested) {
  constexpr size_t kHeaderBytes = 8, kGranuleBytes = 16, kMinBlockBytes = 32;
  if (requested == 0) return 0;
  const size_t rounded =
      (requested + kHeaderBytes + kGranuleBytes - 1) / kGranuleBytes * kGranuleBytes;
  return rounded < kMinBlockBytes ? kMinBlockBytes : rounded;
}

// The heap memory of std::make_shared<T>(...): one block holding T and its
// control block (a vtable pointer and two 32-bit reference counts).
template <typename T>
constexpr size_t SharedValueBytes() {
  constexpr size_t kControlBlockBytes = sizeof(void*) + 2 * sizeof(int);
  return HeapBlockBytes(kControlBlockBytes + sizeof(T));
}

}  // namespace tempo::cache
