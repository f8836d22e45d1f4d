// Tests of the per-thread, lossy read buffer: exact counts, a drain signal
// per lap, and at most one lap of nodes per stripe handed to the drainer.
#include "cache/read_buffer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace tempo::cache::internal {
namespace {

// Nodes to record (the buffer only stores and returns their addresses).
class Nodes {
 public:
  explicit Nodes(int count) {
    for (int i = 0; i < count; ++i) nodes_.emplace_back(Node::New("k" + std::to_string(i)));
  }
  Node* operator[](size_t i) const { return nodes_[i].get(); }

 private:
  std::vector<NodePtr> nodes_;
};

TEST(ReadBufferTest, SignalsADrainOncePerLapAndDrainsWhatWasRecorded) {
  const Nodes nodes(3 * ReadBuffer::kSlots);
  ReadBuffer buffer(4);
  std::vector<Node*> drained;
  auto drain = [&] { buffer.Drain([&](Node* n) { drained.push_back(n); }); };
  int signals = 0;
  for (size_t i = 0; i < 3 * ReadBuffer::kSlots; ++i) {
    if (buffer.Record(/*stripe=*/1, nodes[i])) {
      ++signals;
      drain();
    }
  }
  EXPECT_EQ(signals, 3);
  ASSERT_EQ(drained.size(), 3 * ReadBuffer::kSlots);
  for (size_t i = 0; i < drained.size(); ++i) EXPECT_EQ(drained[i], nodes[i]);
  drain();  // nothing new
  EXPECT_EQ(drained.size(), 3 * ReadBuffer::kSlots);
  EXPECT_EQ(buffer.Recorded(), 3 * ReadBuffer::kSlots);
}

TEST(ReadBufferTest, AnUndrainedStripeKeepsOnlyItsLastLap) {
  constexpr size_t kFirst = ReadBuffer::kSlots + 24;  // one lap and a half, undrained
  const Nodes nodes(kFirst + 2);
  ReadBuffer buffer(2);
  for (size_t i = 0; i < kFirst; ++i) buffer.Record(0, nodes[i]);
  buffer.Record(1, nodes[kFirst]);
  buffer.Record(1, nodes[kFirst + 1]);
  std::vector<Node*> drained;
  buffer.Drain([&](Node* n) { drained.push_back(n); });
  std::vector<Node*> expected;
  for (size_t i = kFirst - ReadBuffer::kSlots; i < kFirst + 2; ++i) expected.push_back(nodes[i]);
  EXPECT_EQ(drained, expected);
  EXPECT_EQ(buffer.Recorded(), kFirst + 2);  // lossy for the policy, exact for the count
}

// One thread per stripe records while another drains: the counts are exact
// and the drainer only ever sees recorded nodes.
TEST(ReadBufferTest, OwnersRecordWhileADrainerDrains) {
  constexpr int kThreads = 4;
  constexpr int kRecords = 50'000;
  const Nodes nodes(kThreads);
  ReadBuffer buffer(kThreads);
  std::atomic<bool> stop{false};
  uint64_t drained = 0, foreign = 0;
  std::thread drainer([&] {
    while (!stop) {
      buffer.Drain([&](Node* n) {
        ++drained;
        bool known = false;
        for (int t = 0; t < kThreads; ++t) known |= n == nodes[t];
        foreign += !known;
      });
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&buffer, &nodes, t] {
      for (int i = 0; i < kRecords; ++i) buffer.Record(static_cast<size_t>(t), nodes[t]);
    });
  }
  for (auto& t : threads) t.join();
  stop = true;
  drainer.join();
  EXPECT_EQ(buffer.Recorded(), uint64_t{kThreads} * kRecords);
  EXPECT_LE(drained, uint64_t{kThreads} * kRecords);
  EXPECT_EQ(foreign, 0u);
}

}  // namespace
}  // namespace tempo::cache::internal
