// Node: one allocation holding the node and its key.
#include "cache/node.h"

#include <cstring>
#include <new>

namespace tempo::cache::internal {

Node* Node::New(std::string_view key) {
  void* memory = ::operator new (sizeof(Node) + key.size(), std::align_val_t{alignof(Node)});
  Node* n = new (memory) Node();
  n->key_size = static_cast<uint32_t>(key.size());
  if (!key.empty()) std::memcpy(reinterpret_cast<char*>(n + 1), key.data(), key.size());
  return n;
}

void Node::Delete(Node* n) {
  n->~Node();
  ::operator delete (static_cast<void*>(n), std::align_val_t{alignof(Node)});
}

}  // namespace tempo::cache::internal
