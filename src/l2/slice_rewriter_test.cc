// Tests for SliceRewriter against real memcached nodes and a RocksDB origin.
#include "l2/slice_rewriter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "events/events.h"
#include "origin/rocks_origin.h"
#include "testing/memcached_cluster.h"
#include "testing/temp_dir.h"

namespace tempo::l2 {
namespace {

class SliceRewriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto origin = origin::OpenRocksOrigin(dir_.path());
    ASSERT_TRUE(origin.ok()) << origin.status().ToString();
    origin_ = std::move(origin).value();
    auto cluster = testing::MemcachedCluster::Start(2);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(cluster).value();
    L2Options options;
    options.servers = cluster_->servers();
    options.timeout = std::chrono::milliseconds(1000);  // sanitizers, shared cores
    auto l2 = L2Client::Open(options);
    ASSERT_TRUE(l2.ok()) << l2.status().ToString();
    l2_ = std::move(l2).value();
  }
  void TearDown() override {
    l2_.reset();
    cluster_.reset();
    origin_.reset();
  }
  // Applies a module upsert; returns the slices it touched.
  std::vector<origin::SliceKey> Publish(std::string_view id, int64_t version) {
    const std::string line =
        std::string(R"({"schema":1,"kind":"module","op":"upsert","record":{"id":")") +
        std::string(id) + R"(","tenant":"T","channels":["web"],"pageType":"home","zone":"z",)" +
        R"("version":)" + std::to_string(version) + "}}";
    auto event = events::DecodeEvent(line);
    EXPECT_TRUE(event.ok()) << event.status().ToString();
    std::vector<origin::SliceKey> touched;
    EXPECT_TRUE(origin_->Apply(*event, &touched).ok());
    return touched;
  }
  size_t RowsInL2(const origin::SliceKey& slice) {
    auto rows = l2_->Get(slice);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() && rows->has_value() ? (*rows)->size() : 0;
  }

  ::tempo::testing::TempDir dir_{"tempo-slice-rewriter-test"};
  std::unique_ptr<origin::Origin> origin_;
  std::unique_ptr<testing::MemcachedCluster> cluster_;
  std::unique_ptr<L2Client> l2_;
};

TEST_F(SliceRewriterTest, RewritesTouchedSlicesWithTheOriginsRows) {
  SliceRewriter rewriter(origin_.get(), l2_.get());
  const auto touched = Publish("a", 1);
  ASSERT_EQ(touched.size(), 1u);
  // A serve filled L2 before the next change.
  ASSERT_TRUE(l2_->Add(touched[0], *origin_->ReadScope(touched[0].partition, "*")).ok());
  EXPECT_EQ(RowsInL2(touched[0]), 1u);

  rewriter.Rewrite(Publish("b", 2));
  EXPECT_EQ(RowsInL2(touched[0]), 2u);  // rewritten, not just dropped
  const RewriteStats stats = rewriter.Stats();
  EXPECT_EQ(stats.rewritten, 1u);
  EXPECT_EQ(stats.deleted, 0u);
  EXPECT_EQ(stats.failed, 0u);
}

TEST_F(SliceRewriterTest, CountsAndLogsWhatItCannotReach) {
  std::vector<std::string> lines;
  SliceRewriter rewriter(origin_.get(), l2_.get(),
                         [&lines](const std::string& line) { lines.push_back(line); });
  const auto touched = Publish("a", 1);
  cluster_->Kill(0);
  cluster_->Kill(1);
  rewriter.Rewrite(touched);
  const RewriteStats stats = rewriter.Stats();
  EXPECT_EQ(stats.rewritten, 0u);
  EXPECT_EQ(stats.failed, 1u);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("T/web/home/*"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace tempo::l2
