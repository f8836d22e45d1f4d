// Tests of the W-TinyLFU policy on its own: admission, eviction order,
// segment moves and byte accounting.
#include "cache/wtinylfu.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cache/sharded_cache.h"

namespace tempo::cache::internal {
namespace {

constexpr size_t kCharge = 100;
constexpr size_t kTenEntries = 10 * kCharge;

// Owns the nodes the policy links, as a shard does.
class Harness {
 public:
  explicit Harness(size_t capacity) : policy_(Options(capacity)) {}

  static PolicyOptions Options(size_t capacity) {
    PolicyOptions o;
    o.capacity_bytes = capacity;
    o.adaptive_window = false;  // these tests pin the 1 % window; window_tuner_test moves it
    return o;
  }

  // Adds `key` after counting `earlier_accesses` misses of it; returns the
  // keys evicted, in eviction order.
  std::vector<std::string> Add(const std::string& key, size_t charge = kCharge,
                               int earlier_accesses = 0) {
    for (int i = 0; i < earlier_accesses; ++i) policy_.RecordAccess(KeyHash(key));
    NodePtr n(Node::New(key));
    n->hash = KeyHash(key);
    n->charge = charge;
    std::vector<Node*> evicted;
    if (!policy_.Add(n.get(), &evicted)) return {"<too large>"};
    resident_[key] = std::move(n);
    return Reap(evicted);
  }

  std::vector<std::string> Resize(const std::string& key, size_t charge) {
    std::vector<Node*> evicted;
    EXPECT_TRUE(policy_.UpdateCharge(resident_.at(key).get(), charge, &evicted));
    return Reap(evicted);
  }

  void Hit(const std::string& key, int times = 1) {
    for (int i = 0; i < times; ++i) policy_.OnHit(resident_.at(key).get());
  }

  void Remove(const std::string& key) {
    policy_.Remove(resident_.at(key).get());
    resident_.erase(key);
  }

  // A request through the policy as a shard makes it: a hit if resident,
  // else an Add.
  void Request(const std::string& key) {
    if (Resident(key)) {
      Hit(key);
    } else {
      Add(key);
    }
  }

  bool Resident(const std::string& key) const { return resident_.count(key) != 0; }
  const Node& NodeOf(const std::string& key) const { return *resident_.at(key); }
  Region RegionOf(const std::string& key) const { return resident_.at(key)->region; }
  size_t ResidentBytes() const {
    size_t sum = 0;
    for (const auto& [key, n] : resident_) sum += n->charge;
    return sum;
  }
  size_t ResidentCount() const { return resident_.size(); }
  WTinyLfu& policy() { return policy_; }

 private:
  std::vector<std::string> Reap(const std::vector<Node*>& evicted) {
    std::vector<std::string> keys;
    for (Node* n : evicted) {
      keys.push_back(std::string(n->key()));
      EXPECT_EQ(n->region, Region::kNone);
      resident_.erase(std::string(n->key()));  // frees it
    }
    return keys;
  }

  WTinyLfu policy_;
  std::map<std::string, NodePtr> resident_;
};

using Keys = std::vector<std::string>;

TEST(WTinyLfuTest, FillsToCapacityWithoutEvicting) {
  Harness h(kTenEntries);
  for (char c = 'a'; c <= 'j'; ++c) EXPECT_EQ(h.Add(std::string(1, c)), Keys{});
  EXPECT_EQ(h.policy().bytes(), kTenEntries);
  EXPECT_EQ(h.policy().entries(), 10u);
  // The window (1% = 10 bytes) keeps only the newest; the rest are on probation.
  EXPECT_EQ(h.RegionOf("j"), Region::kWindow);
  EXPECT_EQ(h.RegionOf("a"), Region::kProbation);
}

TEST(WTinyLfuTest, EvictsProbationInLruOrderAndRejectsCandidatesNoMoreFrequent) {
  Harness h(kTenEntries);
  for (char c = 'a'; c <= 'j'; ++c) h.Add(std::string(1, c));
  h.Hit("b");  // probation -> protected
  h.Hit("c");
  EXPECT_EQ(h.RegionOf("b"), Region::kProtected);

  // x (seen 3 times) pushes j out of the window; j (seen once) is no more
  // frequent than probation's LRU entry a, so j is the one evicted.
  EXPECT_EQ(h.Add("x", kCharge, 2), Keys{"j"});
  EXPECT_EQ(h.policy().admissions_rejected(), 1u);
  // y pushes x out of the window; x beats a (probation's least recent).
  EXPECT_EQ(h.Add("y", kCharge, 2), Keys{"a"});
  // z pushes y out; the next probation victim is d: b and c are protected.
  EXPECT_EQ(h.Add("z", kCharge, 2), Keys{"d"});
  EXPECT_TRUE(h.Resident("b"));
  EXPECT_TRUE(h.Resident("c"));
  EXPECT_TRUE(h.Resident("x"));
  EXPECT_EQ(h.policy().bytes(), kTenEntries);
}

TEST(WTinyLfuTest, OneHitWondersDoNotEvictFrequentEntries) {
  Harness h(kTenEntries);
  const Keys hot = {"h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "h9"};
  for (const std::string& k : hot) h.Add(k);
  for (const std::string& k : hot) h.Hit(k, 4);
  // 1000 keys requested once, while the hot keys keep being requested.
  for (int i = 0; i < 1000; ++i) {
    h.Add("once" + std::to_string(i));
    if (i % 20 == 0) {
      for (const std::string& k : hot) {
        if (h.Resident(k)) h.Hit(k);
      }
    }
  }
  // Only the window's slot turns over: it holds the newest one-off key. (h9,
  // in the window when the one-offs began, had to compete for main and lost
  // a tie with h0.)
  int resident = 0;
  for (const std::string& k : hot) resident += h.Resident(k);
  EXPECT_GE(resident, 9);
  EXPECT_TRUE(h.Resident("once999"));
  EXPECT_GE(h.policy().admissions_rejected(), 998u);
}

TEST(WTinyLfuTest, ProtectedOverflowIsDemotedToProbation) {
  Harness h(kTenEntries);
  for (char c = 'a'; c <= 'j'; ++c) h.Add(std::string(1, c));
  // Protected holds 80% of main (990 bytes): 7 entries of 100.
  for (char c = 'a'; c <= 'i'; ++c) h.Hit(std::string(1, c));
  int in_protected = 0;
  for (char c = 'a'; c <= 'i'; ++c)
    in_protected += h.RegionOf(std::string(1, c)) == Region::kProtected;
  EXPECT_EQ(in_protected, 7);
  // The least recently hit ones went back to probation.
  EXPECT_EQ(h.RegionOf("a"), Region::kProbation);
  EXPECT_EQ(h.RegionOf("b"), Region::kProbation);
  EXPECT_EQ(h.RegionOf("i"), Region::kProtected);
}

TEST(WTinyLfuTest, NewEntryIsResidentRightAfterAddEvenWhenLargerThanTheWindow) {
  Harness h(kTenEntries);
  for (int i = 0; i < 10; ++i) h.Add("hot" + std::to_string(i));
  for (int i = 0; i < 10; ++i) h.Hit("hot" + std::to_string(i), 5);
  h.Add("big", 500);
  EXPECT_TRUE(h.Resident("big"));
  EXPECT_LE(h.policy().bytes(), kTenEntries);
  EXPECT_EQ(h.Add("huge", kTenEntries + 1), Keys{"<too large>"});
  h.Add("whole", kTenEntries);
  EXPECT_TRUE(h.Resident("whole"));
  EXPECT_EQ(h.policy().entries(), 1u);
  EXPECT_EQ(h.policy().bytes(), kTenEntries);
}

TEST(WTinyLfuTest, BytesNeverExceedCapacityAndEqualTheResidentCharges) {
  constexpr size_t kCapacity = 5000;
  Harness h(kCapacity);
  std::mt19937 rng(7);
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.push_back("k" + std::to_string(i));
  for (int step = 0; step < 20000; ++step) {
    const std::string& key = keys[rng() % keys.size()];
    const size_t charge = 1 + rng() % 400;
    switch (rng() % 4) {
      case 0:
      case 1:
        if (h.Resident(key)) {
          h.Hit(key);
        } else {
          h.Add(key, charge);
          EXPECT_TRUE(h.Resident(key));
        }
        break;
      case 2:
        if (h.Resident(key)) {
          h.Resize(key, charge);
          EXPECT_TRUE(h.Resident(key));
        }
        break;
      case 3:
        if (h.Resident(key) && rng() % 4 == 0) h.Remove(key);
        break;
    }
    ASSERT_LE(h.policy().bytes(), kCapacity);
    ASSERT_EQ(h.policy().bytes(), h.ResidentBytes());
    ASSERT_EQ(h.policy().entries(), h.ResidentCount());
  }
  EXPECT_GT(h.ResidentBytes(), kCapacity / 2);
}

TEST(WTinyLfuTest, HitsOnASaturatedKeySkipTheSketchUntilItAges) {
  Harness h(kTenEntries);
  h.Add("hot");
  for (int i = 0; i < 9; ++i) h.Add("k" + std::to_string(i));  // hot is on probation
  h.Hit("hot", FrequencySketch::kMaxCount);
  EXPECT_EQ(h.policy().EstimateFrequency(KeyHash("hot")), FrequencySketch::kMaxCount);
  EXPECT_EQ(h.NodeOf("hot").saturated_generation, h.policy().sketch().generation());
  const size_t additions = h.policy().sketch().additions();
  h.Hit("hot", 10);
  EXPECT_EQ(h.policy().EstimateFrequency(KeyHash("hot")), FrequencySketch::kMaxCount);
  EXPECT_EQ(h.policy().sketch().additions(), additions + 10);  // they count towards aging
  EXPECT_EQ(h.RegionOf("hot"), Region::kProtected);            // the LRU bookkeeping still runs
}

// The popular set moves. The sketch ages only after 150 requests per entry,
// so on its own the policy keeps the old favourites (saturated counts, in
// protected) long after they went cold; the shift detector sees the hit
// rate fall, the sketch forgets and the old favourites are the first
// victims, so the new popular keys get in within a few samples.
TEST(WTinyLfuTest, AShiftOfThePopularKeysIsLearnedQuickly) {
  constexpr int kEntries = 1000;
  constexpr int kHot = 700;
  Harness h(kEntries * kCharge);
  std::mt19937 rng(5);
  // Requests: 60% to `set`'s kHot keys, 40% to keys requested once.
  int once = 0;
  auto phase = [&](const std::string& set, int requests) {
    int hits = 0;
    for (int i = 0; i < requests; ++i) {
      const std::string key =
          rng() % 10 < 6 ? set + std::to_string(rng() % kHot) : "once" + std::to_string(once++);
      hits += h.Resident(key);
      h.Request(key);
    }
    return static_cast<double>(hits) / requests;
  };
  const int kSample = static_cast<int>(ShiftDetector::kMinSample);
  phase("a", 20 * kSample);
  EXPECT_GT(phase("a", kSample), 0.55);
  EXPECT_EQ(h.policy().shifts(), 0u);

  phase("b", 2 * kSample);
  EXPECT_EQ(h.policy().shifts(), 1u);
  phase("b", 4 * kSample);
  EXPECT_GT(phase("b", kSample), 0.55);
  int resident = 0;
  for (int i = 0; i < kHot; ++i) resident += h.Resident("b" + std::to_string(i));
  EXPECT_GT(resident, kHot * 95 / 100);
}

// A scan drops the hit rate as much as a shift does, but its misses are on
// keys not missed recently, which the shift detector leaves out: the
// popular keys stay.
TEST(WTinyLfuTest, AScanIsNotAShift) {
  constexpr int kEntries = 1000;
  constexpr int kHot = 700;
  Harness h(kEntries * kCharge);
  std::mt19937 rng(6);
  const int kSample = static_cast<int>(ShiftDetector::kMinSample);
  for (int i = 0; i < 20 * kSample; ++i) h.Request("hot" + std::to_string(rng() % kHot));
  for (int i = 0; i < 5 * kSample; ++i) h.Request("scan" + std::to_string(i));
  EXPECT_EQ(h.policy().shifts(), 0u);
  int resident = 0;
  for (int i = 0; i < kHot; ++i) resident += h.Resident("hot" + std::to_string(i));
  EXPECT_EQ(resident, kHot);
}

}  // namespace
}  // namespace tempo::cache::internal
