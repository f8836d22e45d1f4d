// Tests of epoch-based reclamation: a retired object outlives every guard
// that could have read it, and is freed once none can.
#include "cache/epoch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace tempo::cache::internal {
namespace {

// An object that records its own destruction.
struct Tracked {
  std::atomic<int>* freed;
  int payload;
};
void DeleteTracked(void* p) {
  auto* t = static_cast<Tracked*>(p);
  ++*t->freed;
  delete t;
}

// One collection as a shard makes it: the epoch first, then Collect.
void CollectOnce(RetireList* list, std::vector<RetireList::Item>* safe) {
  list->Collect(list->ReclaimableEpoch(), safe);
}

// Collects until the list is empty (two advances suffice; each call advances
// the epoch at most once, and only every kAdvanceEvery-th call tries).
void CollectAll(RetireList* list) {
  for (uint32_t i = 0; i < 4 * RetireList::kAdvanceEvery && list->size() > 0; ++i) {
    std::vector<RetireList::Item> safe;
    CollectOnce(list, &safe);
    RetireList::Free(&safe);
  }
}

TEST(EpochTest, RetiredObjectIsFreedOnlyAfterTheGuardsThatMayHoldItEnd) {
  std::atomic<int> freed{0};
  RetireList list;
  std::atomic<bool> pinned{false}, release{false};
  // A reader on another thread pins before the object is retired.
  std::thread reader([&] {
    const EpochGuard guard;
    pinned = true;
    while (!release) std::this_thread::yield();
  });
  while (!pinned) std::this_thread::yield();
  list.Retire(new Tracked{&freed, 1}, &DeleteTracked);
  for (uint32_t i = 0; i < 4 * RetireList::kAdvanceEvery; ++i) {
    std::vector<RetireList::Item> safe;
    CollectOnce(&list, &safe);
    EXPECT_TRUE(safe.empty());
    RetireList::Free(&safe);
  }
  EXPECT_EQ(freed, 0);
  EXPECT_EQ(list.size(), 1u);
  release = true;
  reader.join();
  CollectAll(&list);
  EXPECT_EQ(freed, 1);
  EXPECT_EQ(list.size(), 0u);
}

TEST(EpochTest, GuardsNestAndIdleThreadsDoNotBlockTheEpoch) {
  {
    const EpochGuard outer;
    const EpochGuard inner;
    EXPECT_EQ(outer.thread_index(), inner.thread_index());
  }
  // No guard is alive on this thread; threads that have exited gave their
  // records back. Nothing else in this test binary pins concurrently.
  EXPECT_TRUE(RetireList::TryAdvance());
  EXPECT_TRUE(RetireList::TryAdvance());
}

// An advance makes every running thread of the process execute a barrier,
// so a list tries one only every kAdvanceEvery calls, or when a batch waits.
TEST(EpochTest, AdvancesAreRateLimitedUnlessABatchWaits) {
  std::atomic<int> freed{0};
  RetireList list;
  list.Retire(new Tracked{&freed, 1}, &DeleteTracked);
  const uint64_t start = list.ReclaimableEpoch();
  for (uint32_t i = 1; i + 1 < RetireList::kAdvanceEvery; ++i) {
    EXPECT_EQ(list.ReclaimableEpoch(), start);
  }
  EXPECT_EQ(list.ReclaimableEpoch(), start + 1);  // the kAdvanceEvery-th call

  for (size_t i = 0; i < RetireList::kAdvanceBatch; ++i) {
    list.Retire(new Tracked{&freed, 2}, &DeleteTracked);
  }
  // A batch waits: every call advances until the batch is freed.
  EXPECT_EQ(list.ReclaimableEpoch(), start + 2);
  std::vector<RetireList::Item> safe;
  list.Collect(start + 2, &safe);
  EXPECT_EQ(safe.size(), 1u);  // the first item; the batch's tags are start + 1
  RetireList::Free(&safe);
  EXPECT_EQ(list.ReclaimableEpoch(), start + 3);
  list.Collect(start + 3, &safe);
  RetireList::Free(&safe);
  EXPECT_EQ(freed, static_cast<int>(RetireList::kAdvanceBatch) + 1);
  EXPECT_EQ(list.size(), 0u);
}

TEST(EpochTest, ListDestructorFreesWhatIsLeft) {
  std::atomic<int> freed{0};
  {
    RetireList list;
    list.Retire(new Tracked{&freed, 1}, &DeleteTracked);
    list.Retire(new Tracked{&freed, 2}, &DeleteTracked);
  }
  EXPECT_EQ(freed, 2);
}

// Readers dereference whatever a writer publishes while the writer keeps
// replacing and retiring it; under ASan a premature free is a crash.
TEST(EpochTest, ReadersNeverSeeFreedMemoryWhileAWriterReplacesIt) {
  constexpr int kReaders = 4;
  constexpr int kReplacements = 20'000;
  std::atomic<int> freed{0};
  std::atomic<Tracked*> current{new Tracked{&freed, 0}};
  std::atomic<bool> stop{false};
  std::atomic<long> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        const EpochGuard guard;
        const Tracked* t = current.load(std::memory_order_acquire);
        if (t->payload < 0 || t->freed != &freed) ++bad;
      }
    });
  }
  RetireList list;
  for (int i = 1; i <= kReplacements; ++i) {
    Tracked* old = current.exchange(new Tracked{&freed, i}, std::memory_order_acq_rel);
    list.Retire(old, &DeleteTracked);
    std::vector<RetireList::Item> safe;
    CollectOnce(&list, &safe);
    for (const RetireList::Item& item : safe) static_cast<Tracked*>(item.object)->payload = -1;
    RetireList::Free(&safe);
  }
  stop = true;
  for (auto& t : readers) t.join();
  CollectAll(&list);
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(freed, kReplacements);
  delete current.load();
}

}  // namespace
}  // namespace tempo::cache::internal
