// LruList: an intrusive doubly-linked list, most recently used at the front.
//
// Intrusive so that moving a node on a hit is four pointer writes and never
// allocates. Not thread-safe; the owner's lock guards it.
#pragma once

namespace tempo::cache::internal {

// The links a listed object embeds (by deriving from it).
struct ListLinks {
  ListLinks* prev = nullptr;
  ListLinks* next = nullptr;
};

class LruList {
 public:
  LruList() { head_.prev = head_.next = &head_; }
  LruList(const LruList&) = delete;
  LruList& operator=(const LruList&) = delete;

  bool empty() const { return head_.next == &head_; }

  // Links `n` as the most recently used. REQUIRES: `n` is in no list.
  void PushFront(ListLinks* n) {
    n->prev = &head_;
    n->next = head_.next;
    head_.next->prev = n;
    head_.next = n;
  }

  // Links `n` as the least recently used. REQUIRES: `n` is in no list.
  void PushBack(ListLinks* n) {
    n->next = &head_;
    n->prev = head_.prev;
    head_.prev->next = n;
    head_.prev = n;
  }

  // Unlinks `n`. REQUIRES: `n` is in this list.
  static void Remove(ListLinks* n) {
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = nullptr;
  }

  // Puts `replacement` (in no list) where `old` is, and unlinks `old`.
  static void Replace(ListLinks* old, ListLinks* replacement) {
    replacement->prev = old->prev;
    replacement->next = old->next;
    replacement->prev->next = replacement;
    replacement->next->prev = replacement;
    old->prev = old->next = nullptr;
  }

  // Makes `n` the most recently used. REQUIRES: `n` is in this list.
  void MoveToFront(ListLinks* n) {
    if (head_.next == n) return;  // the hottest entries often are already there
    Remove(n);
    PushFront(n);
  }

  // The most recently used element, or nullptr when empty.
  ListLinks* Front() const { return empty() ? nullptr : head_.next; }

  // The least recently used element, or nullptr when empty.
  ListLinks* Back() const { return empty() ? nullptr : head_.prev; }

  // The element used just before `n` (towards the front), or nullptr at the front.
  ListLinks* Newer(const ListLinks* n) const { return n->prev == &head_ ? nullptr : n->prev; }

 private:
  ListLinks head_;  // sentinel: head_.next is the front, head_.prev the back
};

}  // namespace tempo::cache::internal
