// L2Client against real memcached processes (testing/memcached_cluster.h).
#include "l2/l2.h"

#include <gtest/gtest.h>
#include <libmemcached/memcached.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "l2/key.h"
#include "l2/value_codec.h"
#include "testing/hung_server.h"
#include "testing/memcached_cluster.h"

namespace tempo::l2 {
namespace {

using origin::Row;
using origin::SliceKey;
using testing::HungServer;
using testing::MemcachedCluster;
using Clock = std::chrono::steady_clock;

constexpr auto kBoundedWait = std::chrono::seconds(10);

SliceKey Slice(int i, std::string scope = "*") {
  return SliceKey{{"tenant" + std::to_string(i % 7), "web", "page" + std::to_string(i)},
                  std::move(scope)};
}

// What the tests store for a slice: rows that name it, so a value read back
// under the wrong key shows.
std::vector<Row> RowsFor(const SliceKey& slice) {
  std::vector<Row> rows;
  for (int i = 0; i < 3; ++i) {
    rows.push_back(
        Row{slice.scope, events::Kind::kModule, "m" + std::to_string(i), 10 + i,
            "{\"page\":\"" + slice.partition.page_type + "\",\"i\":" + std::to_string(i) + "}"});
  }
  return rows;
}

bool SameRows(const std::vector<Row>& a, const std::vector<Row>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].scope != b[i].scope || a[i].kind != b[i].kind || a[i].id != b[i].id ||
        a[i].version != b[i].version || a[i].body != b[i].body) {
      return false;
    }
  }
  return true;
}

// Lines of `log` that contain `what`.
int CountLines(const std::string& log, const std::string& what) {
  int lines = 0;
  size_t begin = 0;
  while (begin < log.size()) {
    size_t end = log.find('\n', begin);
    if (end == std::string::npos) end = log.size();
    if (log.substr(begin, end - begin).find(what) != std::string::npos) ++lines;
    begin = end + 1;
  }
  return lines;
}

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The index in `servers` of the node the L2 client maps `key` to: the same
// ketama ring, computed by a libmemcached client that never connects.
int KetamaNodeOf(const std::vector<std::string>& servers, const std::string& key) {
  memcached_st* memc = memcached_create(nullptr);
  memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
  memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
  std::vector<ServerAddress> addresses;
  for (const std::string& server : servers) {
    addresses.push_back(*ParseServer(server));
    memcached_server_add(memc, addresses.back().host.c_str(), addresses.back().port);
  }
  memcached_return_t rc = MEMCACHED_SUCCESS;
  const memcached_instance_st* instance =
      memcached_server_by_key(memc, key.data(), key.size(), &rc);
  int node = -1;
  for (size_t i = 0; instance != nullptr && i < addresses.size(); ++i) {
    if (addresses[i].port == memcached_server_port(instance)) node = static_cast<int>(i);
  }
  memcached_free(memc);
  return node;
}

// A plain libmemcached client of one node: to see where the L2 client put a
// key, and to plant values behind its back.
class RawNode {
 public:
  explicit RawNode(int port) : memc_(memcached_create(nullptr)) {
    memcached_behavior_set(memc_, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
    memcached_behavior_set(memc_, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 1000);
    memcached_server_add(memc_, "127.0.0.1", static_cast<in_port_t>(port));
  }
  ~RawNode() { memcached_free(memc_); }
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  bool Has(const std::string& key) {
    memcached_return_t rc = memcached_exist(memc_, key.data(), key.size());
    return rc == MEMCACHED_SUCCESS;
  }
  bool Put(const std::string& key, std::string_view value) {
    return memcached_set(memc_, key.data(), key.size(), value.data(), value.size(), 0, 0) ==
           MEMCACHED_SUCCESS;
  }

 private:
  memcached_st* memc_;
};

class L2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<MemcachedCluster>> cluster = MemcachedCluster::Start(3);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(cluster).value();
  }

  // Generous timeouts: tests share two cores with sanitizers and other suites,
  // and a spurious timeout would eject a healthy node.
  L2Options Options(std::string ns = "test") const {
    L2Options options;
    options.servers = cluster_->servers();
    options.ns = std::move(ns);
    options.timeout = std::chrono::milliseconds(1000);
    return options;
  }

  std::unique_ptr<L2Client> Open(const L2Options& options) const {
    Result<std::unique_ptr<L2Client>> client = L2Client::Open(options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  // The node holding `key`, or -1.
  int NodeOf(const std::string& key) const {
    for (int i = 0; i < cluster_->size(); ++i) {
      if (RawNode(cluster_->port(i)).Has(key)) return i;
    }
    return -1;
  }

  std::unique_ptr<MemcachedCluster> cluster_;
};

TEST_F(L2Test, SetGetDeleteRoundTrip) {
  auto l2 = Open(Options());
  ASSERT_NE(l2, nullptr);
  const SliceKey slice = Slice(1, "page-42");

  Result<std::optional<std::vector<Row>>> miss = l2->Get(slice);
  ASSERT_TRUE(miss.ok()) << miss.status().ToString();
  EXPECT_FALSE(miss->has_value());

  ASSERT_TRUE(l2->Set(slice, RowsFor(slice)).ok());
  Result<std::optional<std::vector<Row>>> hit = l2->Get(slice);
  ASSERT_TRUE(hit.ok()) << hit.status().ToString();
  ASSERT_TRUE(hit->has_value());
  EXPECT_TRUE(SameRows(**hit, RowsFor(slice)));

  ASSERT_TRUE(l2->Set(slice, {}).ok());  // an empty slice is a value too
  hit = l2->Get(slice);
  ASSERT_TRUE(hit.ok() && hit->has_value());
  EXPECT_TRUE((*hit)->empty());

  ASSERT_TRUE(l2->Delete(slice).ok());
  ASSERT_TRUE(l2->Delete(slice).ok());  // deleting nothing is fine
  miss = l2->Get(slice);
  ASSERT_TRUE(miss.ok());
  EXPECT_FALSE(miss->has_value());

  L2Stats stats = l2->Stats();
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.sets, 2u);
  EXPECT_EQ(stats.deletes, 2u);
  EXPECT_EQ(stats.errors, 0u);
  EXPECT_EQ(stats.corrupt, 0u);
}

TEST_F(L2Test, EveryReadThatAskedANodeIsInTheLatencyHistogram) {
  auto l2 = Open(Options());
  ASSERT_NE(l2, nullptr);
  EXPECT_EQ(l2->Stats().read_latency.count, 0u);
  EXPECT_EQ(l2->Stats().read_latency.bounds.front(), kReadLatencyBounds[0]);
  const SliceKey slice = Slice(3, "page-9");
  ASSERT_TRUE(l2->Get(slice).ok());  // a miss
  ASSERT_TRUE(l2->Set(slice, RowsFor(slice)).ok());
  ASSERT_TRUE(l2->Get(slice).ok());   // a hit
  ASSERT_TRUE(l2->Read(slice).ok());  // Read as Get
  ASSERT_TRUE(l2->Add(slice, RowsFor(slice)).ok());
  ASSERT_TRUE(l2->Delete(slice).ok());
  for (int n = 0; n < 3; ++n) {
    ASSERT_TRUE(RawNode(cluster_->port(n)).Put(L2Key("test", 1, slice), "garbage"));
  }
  ASSERT_TRUE(l2->Read(slice).ok());  // a corrupt value: a miss

  // Four reads; writes and deletes are not reads.
  const L2Stats stats = l2->Stats();
  EXPECT_EQ(stats.read_latency.count, 4u);
  EXPECT_EQ(stats.hits + stats.misses, 4u);
  uint64_t in_buckets = 0;
  for (uint64_t n : stats.read_latency.bucket_counts) in_buckets += n;
  EXPECT_EQ(in_buckets, 4u);
  EXPECT_GT(stats.read_latency.sum_seconds, 0.0);
}

TEST_F(L2Test, AddStoresOnlyWhenAbsent) {
  auto l2 = Open(Options());
  ASSERT_NE(l2, nullptr);
  const SliceKey slice = Slice(2, "page-7");
  std::vector<Row> first = RowsFor(slice);
  ASSERT_FALSE(first.empty());

  ASSERT_TRUE(l2->Add(slice, first).ok());  // absent: stored
  Result<std::optional<std::vector<Row>>> hit = l2->Get(slice);
  ASSERT_TRUE(hit.ok() && hit->has_value());
  EXPECT_TRUE(SameRows(**hit, first));

  // What sync wrote (Set) is never overwritten by a reader's Add.
  ASSERT_TRUE(l2->Set(slice, {}).ok());
  ASSERT_TRUE(l2->Add(slice, first).ok());
  hit = l2->Get(slice);
  ASSERT_TRUE(hit.ok() && hit->has_value());
  EXPECT_TRUE((*hit)->empty());

  ASSERT_TRUE(l2->Delete(slice).ok());
  ASSERT_TRUE(l2->Add(slice, first).ok());  // absent again: stored
  hit = l2->Get(slice);
  ASSERT_TRUE(hit.ok() && hit->has_value());
  EXPECT_TRUE(SameRows(**hit, first));

  const L2Stats stats = l2->Stats();
  EXPECT_EQ(stats.sets, 3u);
  EXPECT_EQ(stats.adds_existing, 1u);
  EXPECT_EQ(stats.errors, 0u);
}

TEST_F(L2Test, KeysSpreadOverAllNodes) {
  auto l2 = Open(Options());
  ASSERT_NE(l2, nullptr);
  constexpr int kSlices = 300;
  int per_node[3] = {0, 0, 0};
  for (int i = 0; i < kSlices; ++i) {
    ASSERT_TRUE(l2->Set(Slice(i), RowsFor(Slice(i))).ok());
    const std::string key = L2Key("test", 1, Slice(i));
    int holders = 0;
    for (int n = 0; n < 3; ++n) {
      if (RawNode(cluster_->port(n)).Has(key)) {
        ++per_node[n];
        ++holders;
      }
    }
    EXPECT_EQ(holders, 1) << key;
    // On the node libketama (and every ketama client) would pick.
    EXPECT_TRUE(RawNode(cluster_->port(KetamaNodeOf(cluster_->servers(), key))).Has(key)) << key;
  }
  for (int n = 0; n < 3; ++n) {
    EXPECT_GT(per_node[n], kSlices / 10) << "node " << n << " holds " << per_node[n];
  }
}

TEST_F(L2Test, NamespacesAndSchemasAreIsolated) {
  auto gen1 = Open(Options("gen1"));
  auto gen2 = Open(Options("gen2"));
  L2Options schema2_options = Options("gen1");
  schema2_options.schema = 2;
  auto schema2 = Open(schema2_options);
  ASSERT_TRUE(gen1 && gen2 && schema2);
  const SliceKey slice = Slice(3);

  ASSERT_TRUE(gen1->Set(slice, RowsFor(slice)).ok());
  for (L2Client* other : {gen2.get(), schema2.get()}) {
    Result<std::optional<std::vector<Row>>> got = other->Get(slice);
    ASSERT_TRUE(got.ok());
    EXPECT_FALSE(got->has_value());
  }
  std::vector<Row> other_rows = RowsFor(Slice(4, "*"));
  ASSERT_TRUE(gen2->Set(slice, other_rows).ok());
  Result<std::optional<std::vector<Row>>> mine = gen1->Get(slice);
  ASSERT_TRUE(mine.ok() && mine->has_value());
  EXPECT_TRUE(SameRows(**mine, RowsFor(slice)));
  Result<std::optional<std::vector<Row>>> theirs = gen2->Get(slice);
  ASSERT_TRUE(theirs.ok() && theirs->has_value());
  EXPECT_TRUE(SameRows(**theirs, other_rows));
}

TEST_F(L2Test, ForeignAndCorruptValuesAreCountedMisses) {
  auto l2 = Open(Options());
  ASSERT_NE(l2, nullptr);
  const SliceKey slice = Slice(5);
  const std::string key = L2Key("test", 1, slice);
  std::string corrupt = EncodeSliceValue("test", 1, slice, RowsFor(slice));
  corrupt[corrupt.size() / 2] ^= 0x20;
  const std::string planted[] = {
      "not a tempo value",                                       // another application
      EncodeSliceValue("test", 2, slice, RowsFor(slice)),        // another schema
      EncodeSliceValue("test", 1, Slice(6), RowsFor(Slice(6))),  // another slice
      corrupt,                                                   // a flipped byte
  };
  uint64_t expected_corrupt = 0;
  for (const std::string& value : planted) {
    // Planted on every node, so wherever the client looks it finds it.
    for (int n = 0; n < 3; ++n) ASSERT_TRUE(RawNode(cluster_->port(n)).Put(key, value));
    Result<std::optional<std::vector<Row>>> got = l2->Get(slice);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_FALSE(got->has_value());
    EXPECT_EQ(l2->Stats().corrupt, ++expected_corrupt);
  }
  L2Stats stats = l2->Stats();
  EXPECT_EQ(stats.misses, 4u);
  EXPECT_EQ(stats.hits, 0u);
  EXPECT_EQ(stats.errors, 0u);

  ASSERT_TRUE(l2->Set(slice, RowsFor(slice)).ok());  // a good value replaces it
  Result<std::optional<std::vector<Row>>> got = l2->Get(slice);
  ASSERT_TRUE(got.ok() && got->has_value());
}

TEST_F(L2Test, SetRejectsRowsOfAnotherScopeAndOversizeValues) {
  L2Options options = Options();
  options.max_value_bytes = 4096;
  auto l2 = Open(options);
  ASSERT_NE(l2, nullptr);
  const SliceKey slice = Slice(7, "page-1");
  Status wrong_scope = l2->Set(slice, RowsFor(Slice(7, "*")));
  EXPECT_EQ(wrong_scope.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(wrong_scope.message().find("scope"), std::string::npos);

  std::vector<Row> big = {Row{"page-1", events::Kind::kModule, "big", 1, std::string(5000, 'x')}};
  Status oversize = l2->Set(slice, big);
  EXPECT_EQ(oversize.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(l2->Stats().oversize, 1u);
  EXPECT_EQ(NodeOf(L2Key("test", 1, slice)), -1);
}

TEST(L2OpenTest, RejectsBadOptions) {
  auto with = [](auto edit) {
    L2Options options;
    options.servers = {"127.0.0.1:1"};
    edit(options);
    return L2Client::Open(options).status();
  };
  EXPECT_TRUE(with([](L2Options&) {}).ok());  // nodes are not contacted by Open
  const std::pair<Status, const char*> cases[] = {
      {with([](L2Options& o) { o.servers.clear(); }), "no memcached servers"},
      {with([](L2Options& o) { o.servers = {"nohost"}; }), "host:port"},
      {with([](L2Options& o) {
         o.servers = {"a:1", "a:1"};
       }),
       "twice"},
      {with([](L2Options& o) { o.ns.clear(); }), "namespace"},
      {with([](L2Options& o) { o.schema = -1; }), "schema"},
      {with([](L2Options& o) { o.timeout = std::chrono::milliseconds(0); }), "timeout"},
      {with([](L2Options& o) { o.timeout = std::chrono::milliseconds(1); }), "at least 2 ms"},
      {with([](L2Options& o) { o.retry_after = std::chrono::milliseconds(0); }), "retry_after"},
      {with([](L2Options& o) { o.failure_limit = 0; }), "failure_limit"},
      {with([](L2Options& o) { o.ttl = std::chrono::seconds(0); }), "ttl"},
      {with([](L2Options& o) { o.ttl = std::chrono::hours(24 * 31); }), "ttl"},
      {with([](L2Options& o) { o.pool_size = 0; }), "pool_size"},
  };
  for (const auto& [status, reason] : cases) {
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << reason;
    EXPECT_NE(status.message().find(reason), std::string::npos) << status.message();
  }
}

// Stores slices 0..n-1 and returns, per node, the slices it holds.
std::vector<std::vector<int>> FillAndLocate(L2Client* l2, const L2Options& options, int n,
                                            const std::function<int(const std::string&)>& node_of) {
  std::vector<std::vector<int>> by_node(options.servers.size());
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(l2->Set(Slice(i), RowsFor(Slice(i))).ok());
    int node = node_of(L2Key(options.ns, options.schema, Slice(i)));
    EXPECT_GE(node, 0);
    if (node >= 0) by_node[node].push_back(i);
  }
  return by_node;
}

// Gets slice i until the call answers (hit or miss) rather than failing:
// the client has then ejected the dead node. False if that never happens.
bool WaitUntilAnswered(L2Client* l2, int i) {
  const auto deadline = Clock::now() + kBoundedWait;
  while (Clock::now() < deadline) {
    if (l2->Get(Slice(i)).ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST_F(L2Test, KilledNodeIsRoutedAround) {
  L2Options options = Options();
  options.failure_limit = 1;
  options.retry_after = std::chrono::seconds(60);  // stays ejected for the whole test
  auto l2 = Open(options);
  ASSERT_NE(l2, nullptr);
  constexpr int kSlices = 60;
  auto by_node = FillAndLocate(l2.get(), options, kSlices,
                               [this](const std::string& key) { return NodeOf(key); });
  ASSERT_FALSE(by_node[1].empty());

  cluster_->Kill(1);
  std::vector<bool> on_dead(kSlices, false);
  for (int i : by_node[1]) on_dead[i] = true;
  const auto start = Clock::now();
  int unavailable = 0;
  for (int i = 0; i < kSlices; ++i) {
    Result<std::optional<std::vector<Row>>> got = l2->Get(Slice(i));
    if (on_dead[i]) {
      // Before ejection the call fails, after it the key lives elsewhere (empty).
      if (got.ok()) {
        EXPECT_FALSE(got->has_value());
      } else {
        EXPECT_EQ(got.status().code(), Status::Code::kUnavailable);
        ++unavailable;
      }
    } else {
      // Consistent hashing: the live nodes keep their keys.
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_TRUE(got->has_value());
      EXPECT_TRUE(SameRows(**got, RowsFor(Slice(i))));
    }
  }
  std::printf("%d Gets with one node killed took %.1f ms (%d Unavailable)\n", kSlices,
              std::chrono::duration<double, std::milli>(Clock::now() - start).count(), unavailable);
  EXPECT_GT(unavailable, 0);
  EXPECT_EQ(l2->Stats().errors, static_cast<uint64_t>(unavailable));

  ASSERT_TRUE(WaitUntilAnswered(l2.get(), by_node[1][0]));
  for (int i = 0; i < kSlices; ++i) {
    ASSERT_TRUE(l2->Set(Slice(i), RowsFor(Slice(i))).ok()) << i;
    Result<std::optional<std::vector<Row>>> got = l2->Get(Slice(i));
    ASSERT_TRUE(got.ok() && got->has_value()) << i;
    EXPECT_TRUE(SameRows(**got, RowsFor(Slice(i))));
  }
}

TEST_F(L2Test, RestartedNodeIsUsedAgainAfterBackOff) {
  L2Options options = Options();
  options.failure_limit = 1;
  options.retry_after = std::chrono::milliseconds(1000);
  auto l2 = Open(options);
  ASSERT_NE(l2, nullptr);
  auto by_node =
      FillAndLocate(l2.get(), options, 30, [this](const std::string& key) { return NodeOf(key); });
  ASSERT_FALSE(by_node[1].empty());
  const int probe = by_node[1][0];
  const std::string probe_key = L2Key(options.ns, options.schema, Slice(probe));

  cluster_->Kill(1);
  ASSERT_TRUE(WaitUntilAnswered(l2.get(), probe));
  ASSERT_TRUE(l2->Set(Slice(probe), RowsFor(Slice(probe))).ok());  // lands on a live node
  ASSERT_TRUE(cluster_->Restart(1).ok());

  // Once the back-off has passed, the probe's key maps to node 1 again.
  RawNode node1(cluster_->port(1));
  bool back = false;
  for (auto deadline = Clock::now() + kBoundedWait; !back && Clock::now() < deadline;) {
    if (l2->Set(Slice(probe), RowsFor(Slice(probe))).ok()) back = node1.Has(probe_key);
    if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(back);
  Result<std::optional<std::vector<Row>>> got = l2->Get(Slice(probe));
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_TRUE(SameRows(**got, RowsFor(Slice(probe))));
}

TEST_F(L2Test, AllNodesDownFailsFastWithUnavailable) {
  L2Options options = Options();
  options.failure_limit = 1;
  options.retry_after = std::chrono::seconds(60);
  auto l2 = Open(options);
  ASSERT_NE(l2, nullptr);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(l2->Set(Slice(i), RowsFor(Slice(i))).ok());
  for (int n = 0; n < 3; ++n) cluster_->Kill(n);

  const auto start = Clock::now();
  constexpr int kGets = 50;
  for (int i = 0; i < kGets; ++i) {
    Result<std::optional<std::vector<Row>>> got = l2->Get(Slice(i % 10));
    ASSERT_FALSE(got.ok()) << i;
    EXPECT_EQ(got.status().code(), Status::Code::kUnavailable);
  }
  std::printf("%d Gets with every node down took %.1f ms\n", kGets,
              std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  EXPECT_EQ(l2->Stats().errors, static_cast<uint64_t>(kGets));
  EXPECT_EQ(l2->Set(Slice(0), RowsFor(Slice(0))).code(), Status::Code::kUnavailable);
  EXPECT_EQ(l2->Delete(Slice(0)).code(), Status::Code::kUnavailable);
}

// A hung node (stopped process: connections open, no answers) costs one
// timeout; then it is suspended and calls for its keys fail at once, until it
// answers again after the back-off.
TEST_F(L2Test, HungNodeIsSuspendedThenUsedAgain) {
  L2Options options = Options();
  options.timeout = std::chrono::milliseconds(50);
  options.failure_limit = 1;
  options.retry_after = std::chrono::milliseconds(1000);
  auto l2 = Open(options);
  ASSERT_NE(l2, nullptr);
  auto by_node =
      FillAndLocate(l2.get(), options, 30, [this](const std::string& key) { return NodeOf(key); });
  ASSERT_FALSE(by_node[2].empty());
  const SliceKey hung = Slice(by_node[2][0]);

  ::testing::internal::CaptureStderr();
  cluster_->Pause(2);
  const uint64_t reads_before = l2->Stats().read_latency.count;
  auto start = Clock::now();
  Result<std::optional<std::vector<Row>>> got = l2->Get(hung);
  std::printf("Get on a hung node returned after %.1f ms: %s\n",
              std::chrono::duration<double, std::milli>(Clock::now() - start).count(),
              got.status().ToString().c_str());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Status::Code::kUnavailable);
  // The timed-out read asked the node: its wait is in the latency histogram.
  EXPECT_EQ(l2->Stats().read_latency.count, reads_before + 1);
  got = l2->Get(hung);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("suspended"), std::string::npos) << got.status().message();
  // Refused without asking: no latency to observe.
  EXPECT_EQ(l2->Stats().read_latency.count, reads_before + 1);
  // Keys of the other nodes are unaffected.
  for (int i : by_node[0]) {
    Result<std::optional<std::vector<Row>>> other = l2->Get(Slice(i));
    ASSERT_TRUE(other.ok() && other->has_value()) << other.status().ToString();
  }

  cluster_->Resume(2);
  bool back = false;
  for (auto deadline = Clock::now() + kBoundedWait; !back && Clock::now() < deadline;) {
    got = l2->Get(hung);
    back = got.ok() && got->has_value();
    if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(back);
  EXPECT_TRUE(SameRows(**got, RowsFor(hung)));
  // One line when it was suspended, one when it answered again; however many
  // calls failed in between.
  const std::string node = options.servers[2];
  EXPECT_EQ(CountLines(log, "node " + node + " suspended"), 1) << log;
  EXPECT_EQ(CountLines(log, "node " + node + " restored"), 1) << log;
  EXPECT_EQ(l2->Stats().suspensions, 1u);
}

// A socket that accepts and never answers (issue 12): the first call for one
// of its keys waits at most MaxCallWait; from then on every call for its keys
// fails at once, without connecting, until retry_after; then exactly one call
// probes it, again bounded, while the others keep failing fast.
TEST_F(L2Test, HungSocketCostsOneBoundedWaitThenFailsFast) {
  Result<std::unique_ptr<HungServer>> hung_server = HungServer::Start();
  ASSERT_TRUE(hung_server.ok()) << hung_server.status().ToString();
  HungServer& hung = **hung_server;
  L2Options options = Options();
  options.servers = {cluster_->servers()[0], cluster_->servers()[1], hung.address()};
  options.timeout = std::chrono::milliseconds(100);
  options.retry_after = std::chrono::milliseconds(1000);
  auto l2 = Open(options);
  ASSERT_NE(l2, nullptr);
  ASSERT_EQ(MaxCallWait(options), options.timeout);
  // Generous: the fail-fast part is asserted by status and counts, not time.
  const double bound_ms = 5.0 * static_cast<double>(MaxCallWait(options).count());

  int on_hung = -1, on_live = -1;
  for (int i = 0; i < 200 && (on_hung < 0 || on_live < 0); ++i) {
    const int node = KetamaNodeOf(options.servers, L2Key(options.ns, options.schema, Slice(i)));
    if (node == 2 && on_hung < 0) on_hung = i;
    if (node == 0 && on_live < 0) on_live = i;
  }
  ASSERT_GE(on_hung, 0);
  ASSERT_GE(on_live, 0);
  const SliceKey hung_slice = Slice(on_hung);
  const SliceKey live_slice = Slice(on_live);
  ASSERT_TRUE(l2->Set(live_slice, RowsFor(live_slice)).ok());

  ::testing::internal::CaptureStderr();
  auto start = Clock::now();
  Result<std::optional<std::vector<Row>>> got = l2->Get(hung_slice);
  const double first_ms = MsSince(start);
  std::printf("first Get on a hung socket: %.1f ms, %s\n", first_ms,
              got.status().ToString().c_str());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(got.status().message().find("suspended"), std::string::npos);  // it waited
  EXPECT_LT(first_ms, bound_ms);
  EXPECT_EQ(l2->Stats().suspensions, 1u);
  const int accepted = hung.accepted();
  EXPECT_GE(accepted, 1);

  // Suspended: no call waits, none even connects.
  constexpr int kCalls = 50;
  start = Clock::now();
  for (int i = 0; i < kCalls; ++i) {
    got = l2->Get(hung_slice);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), Status::Code::kUnavailable);
    EXPECT_NE(got.status().message().find("suspended"), std::string::npos)
        << got.status().message();
  }
  for (const Status& status :
       {l2->Set(hung_slice, RowsFor(hung_slice)), l2->Add(hung_slice, RowsFor(hung_slice)),
        l2->Repair(hung_slice, RowsFor(hung_slice), 1), l2->Delete(hung_slice)}) {
    EXPECT_EQ(status.code(), Status::Code::kUnavailable);
    EXPECT_NE(status.message().find("suspended"), std::string::npos) << status.message();
  }
  std::printf("%d Gets on the suspended node took %.2f ms in all\n", kCalls, MsSince(start));
  EXPECT_EQ(hung.accepted(), accepted);
  EXPECT_EQ(l2->Stats().errors, static_cast<uint64_t>(1 + kCalls + 4));
  // The other nodes' keys are served as before.
  got = l2->Get(live_slice);
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();

  // After retry_after, one probe: it waits (bounded) while the others fail fast.
  std::this_thread::sleep_for(options.retry_after + std::chrono::milliseconds(50));
  constexpr int kThreads = 8;
  std::atomic<bool> go{false};
  std::atomic<int> probes{0}, refused{0}, other{0};
  std::atomic<int64_t> probe_us{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      const auto call_start = Clock::now();
      Result<std::optional<std::vector<Row>>> result = l2->Get(hung_slice);
      if (result.ok() || result.status().code() != Status::Code::kUnavailable) {
        ++other;
      } else if (result.status().message().find("suspended") != std::string::npos) {
        ++refused;
      } else {
        ++probes;
        probe_us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - call_start)
                       .count();
      }
    });
  }
  go = true;
  for (std::thread& thread : threads) thread.join();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(probes.load(), 1);
  EXPECT_EQ(refused.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
  EXPECT_LT(static_cast<double>(probe_us.load()) / 1000.0, bound_ms);
  got = l2->Get(hung_slice);  // the failed probe suspended it again
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("suspended"), std::string::npos);

  // Still one suspension: the node never came back in between.
  EXPECT_EQ(l2->Stats().suspensions, 1u);
  EXPECT_EQ(CountLines(log, "node " + hung.address() + " suspended"), 1) << log;
  EXPECT_EQ(CountLines(log, "restored"), 0) << log;
}

// A node whose connects time out (a host that vanished): the first call
// costs at most MaxCallWait, then the node is suspended like a hung one.
TEST_F(L2Test, UnreachableNodeCostsOneBoundedConnectThenFailsFast) {
  Result<std::unique_ptr<HungServer>> unreachable =
      HungServer::Start(HungServer::Mode::kNeverAccept);
  ASSERT_TRUE(unreachable.ok()) << unreachable.status().ToString();
  L2Options options = Options();
  options.servers = {cluster_->servers()[0], (*unreachable)->address()};
  options.timeout = std::chrono::milliseconds(100);
  options.retry_after = std::chrono::seconds(60);
  auto l2 = Open(options);
  ASSERT_NE(l2, nullptr);
  int on_unreachable = -1;
  for (int i = 0; i < 200 && on_unreachable < 0; ++i) {
    if (KetamaNodeOf(options.servers, L2Key(options.ns, options.schema, Slice(i))) == 1) {
      on_unreachable = i;
    }
  }
  ASSERT_GE(on_unreachable, 0);
  const SliceKey slice = Slice(on_unreachable);

  ::testing::internal::CaptureStderr();
  const auto start = Clock::now();
  Result<std::optional<std::vector<Row>>> got = l2->Get(slice);
  const double first_ms = MsSince(start);
  std::printf("first Get on an unreachable node: %.1f ms, %s\n", first_ms,
              got.status().ToString().c_str());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Status::Code::kUnavailable);
  EXPECT_LT(first_ms, 5.0 * static_cast<double>(MaxCallWait(options).count()));
  for (int i = 0; i < 20; ++i) {
    got = l2->Get(slice);
    ASSERT_FALSE(got.ok());
    EXPECT_NE(got.status().message().find("suspended"), std::string::npos)
        << got.status().message();
  }
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(l2->Stats().suspensions, 1u);
  EXPECT_EQ(CountLines(log, "node " + options.servers[1] + " suspended"), 1) << log;
}

// Plants bytes that are not a value of this slice on every node, so that
// wherever the client looks it finds them.
void PlantEverywhere(MemcachedCluster* cluster, const std::string& key, std::string_view value) {
  for (int n = 0; n < cluster->size(); ++n) {
    ASSERT_TRUE(RawNode(cluster->port(n)).Put(key, value));
  }
}

TEST_F(L2Test, CorruptValueIsRepairedByCompareAndSwap) {
  auto l2 = Open(Options());
  ASSERT_NE(l2, nullptr);
  const SliceKey slice = Slice(8, "page-3");
  PlantEverywhere(cluster_.get(), L2Key("test", 1, slice), "garbage, not a tempo value");

  Result<L2Read> read = l2->Read(slice);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE(read->rows.has_value());
  ASSERT_NE(read->corrupt_cas, 0u);
  EXPECT_EQ(l2->Stats().corrupt, 1u);

  // The reader read the origin meanwhile; it replaces what it saw.
  ASSERT_TRUE(l2->Repair(slice, RowsFor(slice), read->corrupt_cas).ok());
  read = l2->Read(slice);
  ASSERT_TRUE(read.ok() && read->rows.has_value());
  EXPECT_TRUE(SameRows(*read->rows, RowsFor(slice)));
  EXPECT_EQ(read->corrupt_cas, 0u);  // a hit hands back no token

  // An absent key hands back no token either.
  read = l2->Read(Slice(9));
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->rows.has_value());
  EXPECT_EQ(read->corrupt_cas, 0u);

  EXPECT_EQ(l2->Repair(slice, RowsFor(slice), 0).code(), Status::Code::kInvalidArgument);
  const L2Stats stats = l2->Stats();
  EXPECT_EQ(stats.repairs, 1u);
  EXPECT_EQ(stats.repairs_conflicted, 0u);
  EXPECT_EQ(stats.corrupt, 1u);
  EXPECT_EQ(stats.errors, 0u);
}

TEST_F(L2Test, RepairNeverOverwritesANewerValue) {
  auto l2 = Open(Options());
  ASSERT_NE(l2, nullptr);
  const SliceKey slice = Slice(10, "page-4");
  const std::string key = L2Key("test", 1, slice);
  PlantEverywhere(cluster_.get(), key, "garbage");
  Result<L2Read> read = l2->Read(slice);
  ASSERT_TRUE(read.ok() && !read->rows.has_value());
  ASSERT_NE(read->corrupt_cas, 0u);

  // Between the reader's Read and its Repair, sync stores newer rows.
  std::vector<Row> newer = {Row{slice.scope, events::Kind::kModule, "newer", 99, "{}"}};
  ASSERT_TRUE(l2->Set(slice, newer).ok());
  ASSERT_TRUE(l2->Repair(slice, RowsFor(slice), read->corrupt_cas).ok());
  Result<std::optional<std::vector<Row>>> got = l2->Get(slice);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_TRUE(SameRows(**got, newer));

  // Nor does it bring back a value that was deleted meanwhile.
  PlantEverywhere(cluster_.get(), key, "garbage again");
  read = l2->Read(slice);
  ASSERT_TRUE(read.ok() && read->corrupt_cas != 0);
  ASSERT_TRUE(l2->Delete(slice).ok());
  ASSERT_TRUE(l2->Repair(slice, RowsFor(slice), read->corrupt_cas).ok());
  got = l2->Get(slice);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());

  const L2Stats stats = l2->Stats();
  EXPECT_EQ(stats.repairs, 0u);
  EXPECT_EQ(stats.repairs_conflicted, 2u);
  EXPECT_EQ(stats.errors, 0u);
}

TEST_F(L2Test, ConcurrentGetSetDelete) {
  L2Options options = Options();
  options.pool_size = 8;
  auto l2 = Open(options);
  ASSERT_NE(l2, nullptr);
  constexpr int kThreads = 8;
  constexpr int kOpsPerThread = 400;
  constexpr int kSlices = 40;
  std::atomic<int> wrong{0}, failed{0}, hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int op = 0; op < kOpsPerThread; ++op) {
        const SliceKey slice = Slice(static_cast<int>(rng() % kSlices));
        switch (rng() % 4) {
          case 0:
            if (!l2->Set(slice, RowsFor(slice)).ok()) ++failed;
            break;
          case 1:
            if (!l2->Delete(slice).ok()) ++failed;
            break;
          default: {
            Result<std::optional<std::vector<Row>>> got = l2->Get(slice);
            if (!got.ok()) {
              ++failed;
            } else if (got->has_value()) {
              ++hits;
              if (!SameRows(**got, RowsFor(slice))) ++wrong;
            }
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(hits.load(), 0);
  L2Stats stats = l2->Stats();
  EXPECT_EQ(stats.hits + stats.misses + stats.sets + stats.deletes,
            static_cast<uint64_t>(kThreads * kOpsPerThread));
  EXPECT_EQ(stats.errors, 0u);
}

}  // namespace
}  // namespace tempo::l2
