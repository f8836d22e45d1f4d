// Node: one allocation holding the node and its key.
#include "cache/node.h"

#include <cassert>
#include <cstdint>
#include <cstring>
#include <new>

#include "cache/charge.h"

namespace tempo::cache::internal {
namespace {

// The node is aligned to a cache line by hand, in a block from plain
// operator new: glibc's aligned allocation (memalign) splits off and strands
// a fragment on each side, and a 64-byte aligned block of 168 bytes cost
// 328 bytes of RSS when filling (176 for the plain block; measured with
// 400 000 allocations), which was most of what bench/l1_memory found
// uncharged. Rounding up to the line wastes at most this much, since
// operator new returns blocks aligned to max_align_t.
constexpr size_t kAlignmentSlackBytes = alignof(Node) - __STDCPP_DEFAULT_NEW_ALIGNMENT__;
static_assert(alignof(Node) > __STDCPP_DEFAULT_NEW_ALIGNMENT__);

size_t BlockRequestBytes(size_t key_size) { return sizeof(Node) + key_size + kAlignmentSlackBytes; }

}  // namespace

Node* Node::New(std::string_view key) {
  char* block = static_cast<char*>(::operator new(BlockRequestBytes(key.size())));
  const auto address = reinterpret_cast<uintptr_t>(block);
  const size_t offset = (alignof(Node) - address % alignof(Node)) % alignof(Node);
  assert(offset <= kAlignmentSlackBytes);
  Node* n = new (block + offset) Node();
  n->alignment_offset = static_cast<uint8_t>(offset);
  n->key_size = static_cast<uint32_t>(key.size());
  if (!key.empty()) std::memcpy(reinterpret_cast<char*>(n + 1), key.data(), key.size());
  return n;
}

void Node::Delete(Node* n) {
  char* block = reinterpret_cast<char*>(n) - n->alignment_offset;
  n->~Node();
  ::operator delete(static_cast<void*>(block));
}

size_t Node::AllocatedBytes(size_t key_size) { return HeapBlockBytes(BlockRequestBytes(key_size)); }

}  // namespace tempo::cache::internal
