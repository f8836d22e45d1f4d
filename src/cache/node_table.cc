// NodeTable: linear probing with backward-shift deletion, readable without a lock.
#include "cache/node_table.h"

#include <cassert>
#include <new>

namespace tempo::cache::internal {

NodeTable::Array* NodeTable::Array::New(size_t slot_count) {
  static_assert(sizeof(Array) % alignof(Slot) == 0);
  void* memory = ::operator new(sizeof(Array) + slot_count * sizeof(Slot));
  auto* a = new (memory) Array{slot_count - 1};
  for (size_t i = 0; i < slot_count; ++i) new (&a->slots()[i]) Slot();
  return a;
}

void NodeTable::Array::Delete(void* array) {
  // Slot and Array are trivially destructible.
  ::operator delete(array);
}

NodeTable::NodeTable(RetireList* retired) : retired_(retired), array_(Array::New(kInitialSlots)) {}

NodeTable::~NodeTable() { Array::Delete(array_.load(std::memory_order_relaxed)); }

void NodeTable::Insert(Node* n) {
  if ((size_ + 1) * kMaxLoadDenominator > (array_.load()->mask + 1) * kMaxLoadNumerator) Grow();
  Array& a = *array_.load(std::memory_order_relaxed);
  size_t i = n->hash & a.mask;
  while (a.slots()[i].node.load(std::memory_order_relaxed) != nullptr) {
    assert(a.slots()[i].node.load(std::memory_order_relaxed) != n);
    i = (i + 1) & a.mask;
  }
  Set(a.slots()[i], n->hash, n);
  ++size_;
}

size_t NodeTable::SlotOf(const Array& a, const Node* n) const {
  size_t i = n->hash & a.mask;
  while (a.slots()[i].node.load(std::memory_order_relaxed) != n) {
    assert(a.slots()[i].node.load(std::memory_order_relaxed) != nullptr &&
           "the node is not indexed");
    i = (i + 1) & a.mask;
  }
  return i;
}

void NodeTable::Replace(const Node* old, Node* replacement) {
  assert(old->hash == replacement->hash && old->key() == replacement->key());
  Array& a = *array_.load(std::memory_order_relaxed);
  a.slots()[SlotOf(a, old)].node.store(replacement, std::memory_order_release);
}

void NodeTable::Erase(const Node* n) {
  Array& a = *array_.load(std::memory_order_relaxed);
  Slot* slots = a.slots();
  size_t hole = SlotOf(a, n);
  // Shift back every later slot of the run whose home is not strictly
  // between the hole and itself, so that no lookup meets an empty slot early.
  for (size_t j = (hole + 1) & a.mask;; j = (j + 1) & a.mask) {
    Node* moving = slots[j].node.load(std::memory_order_relaxed);
    if (moving == nullptr) break;
    const uint64_t hash = slots[j].hash.load(std::memory_order_relaxed);
    const size_t home = hash & a.mask;
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!stays) {
      Set(slots[hole], hash, moving);
      hole = j;
    }
  }
  Set(slots[hole], 0, nullptr);
  --size_;
}

void NodeTable::Grow() {
  Array* old = array_.load(std::memory_order_relaxed);
  Array* grown = Array::New((old->mask + 1) * 2);
  for (size_t j = 0; j <= old->mask; ++j) {
    const Slot& s = old->slots()[j];
    Node* n = s.node.load(std::memory_order_relaxed);
    if (n == nullptr) continue;
    size_t i = n->hash & grown->mask;
    while (grown->slots()[i].node.load(std::memory_order_relaxed) != nullptr) {
      i = (i + 1) & grown->mask;
    }
    Set(grown->slots()[i], n->hash, n);
  }
  array_.store(grown, std::memory_order_release);
  retired_->Retire(old, &Array::Delete);
}

}  // namespace tempo::cache::internal
