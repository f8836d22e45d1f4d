// Epoch-based reclamation: the thread registry, advancing, collecting.
#include "cache/epoch.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "cache/tsan.h"

namespace tempo::cache::internal {
namespace epoch_internal {
namespace {

// Every record ever created, newest first. Records are never freed (a
// thread's is reused by a later thread), so a scan needs no protection.
std::atomic<EpochRecord*> records{nullptr};

// Gives this thread's record back when the thread exits.
struct RecordReleaser {
  ~RecordReleaser() {
    if (thread_record == nullptr) return;
    thread_record->epoch.store(EpochRecord::kIdle, std::memory_order_release);
    thread_record->in_use.store(false, std::memory_order_release);
    thread_record = nullptr;
  }
};

}  // namespace

bool AsymmetricFences() {
  static const bool registered =
      syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
  return registered;
}

EpochRecord* ClaimRecord() {
  thread_local RecordReleaser releaser;
  const bool light_pin = AsymmetricFences();
  for (EpochRecord* r = records.load(std::memory_order_acquire); r != nullptr; r = r->next) {
    bool free = false;
    if (!r->in_use.load(std::memory_order_relaxed) &&
        r->in_use.compare_exchange_strong(free, true, std::memory_order_acquire)) {
      r->light_pin = light_pin;
      return thread_record = r;
    }
  }
  auto* r = new EpochRecord();  // never freed: see `records`
  r->in_use.store(true, std::memory_order_relaxed);
  r->light_pin = light_pin;
  r->next = records.load(std::memory_order_acquire);
  do {
    r->index = r->next == nullptr ? 0 : r->next->index + 1;
  } while (!records.compare_exchange_weak(r->next, r, std::memory_order_release,
                                          std::memory_order_acquire));
  return thread_record = r;
}

}  // namespace epoch_internal

using epoch_internal::global_epoch;

RetireList::~RetireList() { Free(&items_); }

void RetireList::Retire(void* object, Deleter deleter) {
  // The fence orders the unlink before the tag is read; see EpochGuard.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  items_.push_back(Item{object, deleter, global_epoch.value.load(std::memory_order_seq_cst)});
}

uint64_t RetireList::ReclaimableEpoch() {
  const uint64_t now = global_epoch.value.load(std::memory_order_seq_cst);
  // A reader pinned at tag T may hold the object until the epoch passes
  // T + 1, which needs every reader to have left T.
  if (items_.empty() || now >= items_.front().epoch + 2) return now;
  if (items_.size() < kAdvanceBatch && ++calls_since_advance_ < kAdvanceEvery) return now;
  calls_since_advance_ = 0;
  TryAdvance();
  return global_epoch.value.load(std::memory_order_seq_cst);
}

void RetireList::Collect(uint64_t epoch, std::vector<Item>* safe) {
  const auto end = std::find_if(items_.begin(), items_.end(),
                                [epoch](const Item& item) { return epoch < item.epoch + 2; });
  safe->insert(safe->end(), items_.begin(), end);
  items_.erase(items_.begin(), end);
}

void RetireList::Free(std::vector<Item>* items) {
  for (const Item& item : *items) item.deleter(item.object);
  items->clear();
}

bool RetireList::TryAdvance() {
  uint64_t current = global_epoch.value.load(std::memory_order_seq_cst);
  // The heavy half of the readers' asymmetric fence (see epoch.h): after
  // it, every pin made before it is visible to the scan below.
  if (epoch_internal::AsymmetricFences()) {
    syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (EpochRecord* r = epoch_internal::records.load(std::memory_order_acquire); r != nullptr;
       r = r->next) {
    const uint64_t pinned = r->epoch.load(std::memory_order_relaxed);
    if (pinned != EpochRecord::kIdle && pinned != current) return false;
  }
  // Pairs with the readers' release of their pins: what they read happened
  // before anything this advance lets a writer free.
  std::atomic_thread_fence(std::memory_order_acquire);
  // TSan does not model that fence (the loads above are relaxed), so it
  // would take every free after an advance for a race with the reads made
  // under an earlier pin. Tell it: each record's last release (~EpochGuard
  // and RecordReleaser store kIdle with release order) is acquired here,
  // only once the scan allows an advance, so that nothing more is ordered.
  // The membarrier needs no annotation: it orders each reader's pin before
  // the reader's loads, which is not a happens-before TSan checks.
  if constexpr (kTsan) {
    for (EpochRecord* r = epoch_internal::records.load(std::memory_order_acquire); r != nullptr;
         r = r->next) {
      TsanAcquire(&r->epoch);
    }
  }
  return global_epoch.value.compare_exchange_strong(current, current + 1,
                                                    std::memory_order_seq_cst);
}

}  // namespace tempo::cache::internal
