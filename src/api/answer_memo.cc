// AnswerMemo: thread-local direct-mapped tables with a doorkeeper.
#include "api/answer_memo.h"

#include <xxhash.h>

#include <atomic>
#include <bit>
#include <memory>
#include <vector>

#include "select/select.h"
#include "select/slice.h"

namespace tempo::api {
namespace {

// Key hashes remembered per slot: how many one-off queries may pass between
// a query's two askings before it is forgotten (on average, per slot).
constexpr size_t kSeenPerSlot = 4;

std::atomic<uint64_t> next_memo_serial{1};

uint64_t HashOf(const AnswerMemo::Key& key) {
  const uint64_t seed = static_cast<uint64_t>(key.api_version) * 2 + (key.preview ? 1 : 0);
  const uint64_t hash = XXH3_64bits_withSeed(key.query.data(), key.query.size(), seed);
  return hash == 0 ? 1 : hash;  // 0 marks an empty slot
}

uint64_t SerialOf(const select::PageSlice* slice) { return slice == nullptr ? 0 : slice->serial; }

}  // namespace

struct AnswerMemo::Table {
  struct Stored {
    int api_version = 0;
    bool preview = false;
    std::string query;
    Entry entry;
  };
  // A slot costs two words until an answer is stored in it: a thread's
  // table is cheap to make even with many slots.
  struct Slot {
    uint64_t hash = 0;  // of the committed key; 0 = nothing committed
    std::unique_ptr<Stored> stored;
  };
  uint64_t owner = 0;  // the AnswerMemo's serial
  std::vector<Slot> slots;
  std::vector<uint64_t> seen;  // the doorkeeper: hashes of keys asked once

  Slot& SlotOf(uint64_t hash) { return slots[hash & (slots.size() - 1)]; }
  uint64_t& SeenOf(uint64_t hash) { return seen[(hash >> 32) & (seen.size() - 1)]; }
};

bool AnswerMemo::Entry::AnswersFor(const PageSlices& slices, UnixNanos now) const {
  if (slices.type_slice == nullptr || slices.type_slice->serial != type_serial ||
      SerialOf(slices.page_slice) != page_serial) {
    return false;
  }
  // A query with `at` is always evaluated at valid_from.
  const UnixNanos evaluated_at = at.value_or(now);
  return evaluated_at == valid_from || (evaluated_at > valid_from && evaluated_at < valid_until);
}

void AnswerMemo::Entry::SetSource(const PageSlices& slices, UnixNanos evaluated_at) {
  type_serial = slices.type_slice->serial;
  page_serial = SerialOf(slices.page_slice);
  valid_from = evaluated_at;
  valid_until = select::SelectionStableUntil(*slices.type_slice, slices.page_slice, evaluated_at);
}

AnswerMemo::AnswerMemo(size_t entries)
    : entries_(entries == 0 ? 0 : std::bit_ceil(entries)),
      serial_(next_memo_serial.fetch_add(1, std::memory_order_relaxed)) {}

AnswerMemo::Table* AnswerMemo::ThisThread() const {
  thread_local Table table;
  if (table.owner != serial_) {
    table.owner = serial_;
    table.slots = std::vector<Table::Slot>(entries_);
    table.seen = std::vector<uint64_t>(entries_ * kSeenPerSlot, 0);
  }
  return &table;
}

const AnswerMemo::Entry* AnswerMemo::Find(const Key& key) const {
  if (entries_ == 0) return nullptr;
  const uint64_t hash = HashOf(key);
  const Table::Slot& slot = ThisThread()->SlotOf(hash);
  if (slot.hash != hash) return nullptr;
  const Table::Stored& stored = *slot.stored;
  if (stored.api_version != key.api_version || stored.preview != key.preview ||
      stored.query != key.query) {
    return nullptr;
  }
  return &stored.entry;
}

AnswerMemo::Entry* AnswerMemo::Admit(const Key& key) const {
  if (entries_ == 0) return nullptr;
  const uint64_t hash = HashOf(key);
  Table* table = ThisThread();
  uint64_t& seen = table->SeenOf(hash);
  if (seen != hash) {
    seen = hash;  // asked once: remembered, not kept
    return nullptr;
  }
  Table::Slot& slot = table->SlotOf(hash);
  slot.hash = 0;  // answers nothing until committed
  if (slot.stored == nullptr) slot.stored = std::make_unique<Table::Stored>();
  return &slot.stored->entry;
}

void AnswerMemo::Commit(const Key& key) const {
  if (entries_ == 0) return;
  const uint64_t hash = HashOf(key);
  Table::Slot& slot = ThisThread()->SlotOf(hash);
  slot.stored->api_version = key.api_version;
  slot.stored->preview = key.preview;
  slot.stored->query.assign(key.query);
  slot.hash = hash;
}

}  // namespace tempo::api
