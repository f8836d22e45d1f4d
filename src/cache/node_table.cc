// NodeTable: linear probing with backward-shift deletion.
#include "cache/node_table.h"

#include <cassert>
#include <utility>

namespace tempo::cache::internal {

NodeTable::NodeTable() : slots_(new Slot[kInitialSlots]), mask_(kInitialSlots - 1) {}

void NodeTable::Insert(Node* n) {
  if ((size_ + 1) * kMaxLoadDenominator > (mask_ + 1) * kMaxLoadNumerator) Grow();
  size_t i = n->hash & mask_;
  while (slots_[i].node != nullptr) {
    assert(slots_[i].node != n);
    i = (i + 1) & mask_;
  }
  slots_[i] = Slot{n->hash, n};
  ++size_;
}

void NodeTable::Erase(const Node* n) {
  size_t hole = n->hash & mask_;
  while (slots_[hole].node != n) {
    assert(slots_[hole].node != nullptr && "erasing a node that is not indexed");
    hole = (hole + 1) & mask_;
  }
  // Shift back every later slot of the run whose home is not strictly
  // between the hole and itself, so that no lookup meets an empty slot early.
  for (size_t j = (hole + 1) & mask_; slots_[j].node != nullptr; j = (j + 1) & mask_) {
    const size_t home = slots_[j].hash & mask_;
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!stays) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
}

void NodeTable::Grow() {
  const size_t old_slots = mask_ + 1;
  std::unique_ptr<Slot[]> old = std::exchange(slots_, std::make_unique<Slot[]>(old_slots * 2));
  mask_ = old_slots * 2 - 1;
  for (size_t j = 0; j < old_slots; ++j) {
    const Slot& s = old[j];
    if (s.node == nullptr) continue;
    size_t i = s.hash & mask_;
    while (slots_[i].node != nullptr) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

}  // namespace tempo::cache::internal
