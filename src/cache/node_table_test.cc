// Tests of the open-addressing key -> node table, including colliding hashes.
#include "cache/node_table.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace tempo::cache::internal {
namespace {

NodePtr MakeNode(const std::string& key, uint64_t hash) {
  NodePtr n(Node::New(key));
  n->hash = hash;
  return n;
}

TEST(NodeTableTest, FindsInsertedNodesAndForgetsErasedOnes) {
  RetireList retired;
  NodeTable table(&retired);
  auto a = MakeNode("a", 1), b = MakeNode("b", 2);
  table.Insert(a.get());
  table.Insert(b.get());
  EXPECT_EQ(table.Find("a", 1), a.get());
  EXPECT_EQ(table.Find("b", 2), b.get());
  EXPECT_EQ(table.Find("a", 2), nullptr);  // hash mismatch
  EXPECT_EQ(table.Find("c", 1), nullptr);  // key mismatch
  table.Erase(a.get());
  EXPECT_EQ(table.Find("a", 1), nullptr);
  EXPECT_EQ(table.Find("b", 2), b.get());
  EXPECT_EQ(table.size(), 1u);
}

// Few distinct home slots force long probe runs that wrap around the array,
// exercising backward-shift deletion; growth rehashes them.
TEST(NodeTableTest, RandomInsertsAndErasesWithCollisionsStayConsistent) {
  std::mt19937_64 rng(42);
  RetireList retired;
  NodeTable table(&retired);
  std::vector<NodePtr> nodes;
  std::vector<bool> present;
  for (int i = 0; i < 3000; ++i) {
    // Hashes share their low bits in groups; some land at the end of the array.
    const uint64_t hash = (static_cast<uint64_t>(i % 7) << 32) | (i % 5 == 0 ? 0xffffffffu : i % 3);
    nodes.push_back(MakeNode("k" + std::to_string(i), hash));
    present.push_back(false);
  }
  for (int step = 0; step < 20000; ++step) {
    const size_t i = rng() % nodes.size();
    if (present[i]) {
      table.Erase(nodes[i].get());
    } else {
      table.Insert(nodes[i].get());
    }
    present[i] = !present[i];
    if (step % 1000 == 0) {
      size_t count = 0;
      for (size_t j = 0; j < nodes.size(); ++j) {
        Node* found = table.Find(nodes[j]->key(), nodes[j]->hash);
        EXPECT_EQ(found, present[j] ? nodes[j].get() : nullptr) << "node " << j;
        count += present[j];
      }
      EXPECT_EQ(table.size(), count);
      size_t visited = 0;
      table.ForEach([&](Node*) { ++visited; });
      EXPECT_EQ(visited, count);
    }
  }
}

}  // namespace
}  // namespace tempo::cache::internal
