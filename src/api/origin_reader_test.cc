// Tests of OriginReader's sharing between tenants: a tenant's share of the
// queue, and the round robin between tenants.
#include "api/origin_reader.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "origin/rocks_origin.h"
#include "testing/origin_wrapper.h"
#include "testing/temp_dir.h"

namespace tempo::api {
namespace {

// A real origin whose reads wait at a gate until the test opens it, and
// which records the tenants of its reads in the order they started.
class GatedOrigin final : public testing::OriginWrapper {
 public:
  explicit GatedOrigin(origin::Origin* real) : OriginWrapper(real) {}
  Result<std::vector<origin::Row>> ReadScope(const origin::PartitionKey& p,
                                             std::string_view scope) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      started_.push_back(p.tenant);
      cv_.notify_all();
      cv_.wait_for(lock, std::chrono::seconds(30), [this] { return open_; });
    }
    return OriginWrapper::ReadScope(p, scope);
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Waits (bounded) until `n` reads have started.
  bool WaitStarted(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return started_.size() >= n; });
  }
  std::vector<std::string> Started() {
    std::lock_guard<std::mutex> lock(mu_);
    return started_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  std::vector<std::string> started_;
};

class OriginReaderSharingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto origin = origin::OpenRocksOrigin(dir_.path());
    ASSERT_TRUE(origin.ok()) << origin.status().ToString();
    real_ = std::move(origin).value();
    gated_ = std::make_unique<GatedOrigin>(real_.get());
  }
  void TearDown() override {
    gated_->Open();
    for (std::thread& t : readers_) t.join();
    reader_.reset();
    gated_.reset();
    real_.reset();
  }
  void Start(size_t max_pending, double share) {
    OriginReaderOptions options;
    options.threads = 1;
    options.max_pending = max_pending;
    options.tenant_share = share;
    options.probe_interval = std::chrono::milliseconds(0);
    reader_ = std::make_unique<OriginReader>(gated_.get(), options);
  }
  static Deadline Later() { return std::chrono::steady_clock::now() + std::chrono::seconds(30); }
  // Starts a read of `tenant` on a thread of its own and waits (bounded)
  // until the reader holds it.
  void ReadInBackground(const std::string& tenant) {
    const size_t before = reader_->Stats().pending;
    readers_.emplace_back([this, tenant] {
      auto read = reader_->ReadScope({tenant, "web", "home"}, "*", Later());
      EXPECT_TRUE(read.ok()) << tenant << ": " << read.status().ToString();
    });
    for (int i = 0; i < 30'000 && reader_->Stats().pending == before; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(reader_->Stats().pending, before + 1);
  }

  ::tempo::testing::TempDir dir_{"tempo-origin-reader-test"};
  std::unique_ptr<origin::Origin> real_;
  std::unique_ptr<GatedOrigin> gated_;
  std::unique_ptr<OriginReader> reader_;
  std::vector<std::thread> readers_;
};

TEST_F(OriginReaderSharingTest, ATenantHoldsAtMostItsShareOfTheQueue) {
  Start(/*max_pending=*/8, /*share=*/0.5);  // 4 reads a tenant
  for (int i = 0; i < 4; ++i) ReadInBackground("A");
  ASSERT_TRUE(gated_->WaitStarted(1));
  // A fifth read of A fails at once, as a full queue's would.
  auto refused = reader_->ReadScope({"A", "web", "home"}, "*", Later());
  EXPECT_EQ(refused.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(refused.status().message().find("too many reads pending for tenant A"),
            std::string::npos)
      << refused.status().ToString();
  // Another tenant's reads still go in.
  ReadInBackground("B");
  const OriginReaderStats stats = reader_->Stats();
  EXPECT_EQ(stats.shed, 1u);
  EXPECT_EQ(stats.tenant_shed, 1u);
  EXPECT_EQ(stats.pending, 5u);
  gated_->Open();
  for (std::thread& t : readers_) t.join();
  readers_.clear();
  EXPECT_EQ(reader_->Stats().pending, 0u);
  EXPECT_EQ(reader_->Stats().reads, 5u);
  // Its reads done, A may queue again.
  EXPECT_TRUE(reader_->ReadScope({"A", "web", "home"}, "*", Later()).ok());
}

TEST_F(OriginReaderSharingTest, EveryReadRunIsInTheLatencyHistogram) {
  Start(/*max_pending=*/3, /*share=*/1.0);
  EXPECT_EQ(reader_->Stats().read_latency.count, 0u);
  ReadInBackground("A");  // running: the one thread waits at the gate
  ASSERT_TRUE(gated_->WaitStarted(1));
  // Queued behind it, its caller gives up: the thread then skips it, so no read is timed.
  auto abandoned = reader_->ReadScope(
      {"B", "web", "home"}, "*", std::chrono::steady_clock::now() + std::chrono::milliseconds(1));
  EXPECT_EQ(abandoned.status().code(), Status::Code::kUnavailable);
  ReadInBackground("C");
  // A, B (abandoned, still queued) and C hold max_pending: D is shed, not read.
  auto shed = reader_->ReadScope({"D", "web", "home"}, "*", Later());
  EXPECT_EQ(shed.status().code(), Status::Code::kUnavailable);
  gated_->Open();
  for (std::thread& t : readers_) t.join();
  readers_.clear();
  for (int i = 0; i < 30'000 && reader_->Stats().pending > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(reader_->Stats().pending, 0u);
  EXPECT_TRUE(reader_->TenantKnown("A", Later()).ok());

  const OriginReaderStats stats = reader_->Stats();
  EXPECT_EQ(stats.read_latency.count, 3u);  // A, C and TenantKnown
  EXPECT_EQ(stats.read_latency.bounds.back(), std::chrono::seconds(1));
  uint64_t in_buckets = 0;
  for (uint64_t n : stats.read_latency.bucket_counts) in_buckets += n;
  EXPECT_EQ(in_buckets, 3u);
  EXPECT_GT(stats.read_latency.sum_seconds, 0.0);
  EXPECT_EQ(stats.timeouts, 1u);
  EXPECT_EQ(stats.shed, 1u);
}

TEST_F(OriginReaderSharingTest, AShareOfOneLetsATenantFillTheQueue) {
  Start(/*max_pending=*/3, /*share=*/1.0);
  for (int i = 0; i < 3; ++i) ReadInBackground("A");
  auto refused = reader_->ReadScope({"B", "web", "home"}, "*", Later());
  EXPECT_NE(refused.status().message().find("too many reads pending (3)"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(reader_->Stats().tenant_shed, 0u);
}

TEST_F(OriginReaderSharingTest, ThreadsServeTenantsInTurn) {
  Start(/*max_pending=*/16, /*share=*/0.5);
  ReadInBackground("A");  // running: the one thread waits at the gate
  ASSERT_TRUE(gated_->WaitStarted(1));
  for (int i = 0; i < 3; ++i) ReadInBackground("A");  // queued behind it
  ReadInBackground("B");
  ReadInBackground("C");
  gated_->Open();
  for (std::thread& t : readers_) t.join();
  readers_.clear();
  // B and C do not wait for all of A's reads: A, then one each in turn.
  EXPECT_EQ(gated_->Started(), (std::vector<std::string>{"A", "A", "B", "C", "A", "A"}));
}

}  // namespace
}  // namespace tempo::api
