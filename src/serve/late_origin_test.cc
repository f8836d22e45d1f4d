// Tests for OpenLate: a store unreachable at start is opened by a retrying
// thread; other failures are returned.
#include "serve/late_origin.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "origin/rocks_origin.h"
#include "testing/temp_dir.h"

namespace tempo::serve {
namespace {

using std::chrono::milliseconds;

TEST(LateOrigin, AnUnreachableStoreIsOpenedLaterAndAnswersUntilThenUnavailable) {
  ::tempo::testing::TempDir dir("tempo-late-origin");
  std::atomic<int> attempts{0};
  std::atomic<bool> reachable{false};
  OriginOpener open = [&]() -> Result<std::unique_ptr<origin::Origin>> {
    ++attempts;
    if (!reachable) return Status::Unavailable("origin: connect: connection refused");
    return origin::OpenRocksOrigin(dir.path());
  };
  const LateOpening* opening = nullptr;
  auto opened = OpenLate(open, milliseconds(10), &opening);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_NE(opening, nullptr);
  origin::Origin& store = **opened;
  EXPECT_FALSE(opening->opened());
  EXPECT_NE(opening->Reason().find("connection refused"), std::string::npos) << opening->Reason();
  const auto unknown = store.TenantKnown("ACME");
  EXPECT_EQ(unknown.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(unknown.status().message().find("not reachable yet"), std::string::npos);
  // It keeps trying, and opens once the store answers.
  for (int i = 0; i < 500 && attempts < 3; ++i) std::this_thread::sleep_for(milliseconds(2));
  EXPECT_GE(attempts.load(), 3);
  reachable = true;
  for (int i = 0; i < 1000 && !opening->opened(); ++i) std::this_thread::sleep_for(milliseconds(2));
  ASSERT_TRUE(opening->opened());
  const auto known = store.TenantKnown("ACME");
  ASSERT_TRUE(known.ok()) << known.status().ToString();
  EXPECT_FALSE(*known);
  const int settled = attempts;
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(attempts.load(), settled) << "no attempt after it opened";
}

TEST(LateOrigin, AStoreOpenedAtOnceIsReturnedAsIs) {
  ::tempo::testing::TempDir dir("tempo-late-origin");
  const LateOpening* opening = reinterpret_cast<const LateOpening*>(1);
  auto opened =
      OpenLate([&] { return origin::OpenRocksOrigin(dir.path()); }, milliseconds(10), &opening);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opening, nullptr);
}

TEST(LateOrigin, OtherFailuresAreReturned) {
  int attempts = 0;
  const LateOpening* opening = nullptr;
  auto opened = OpenLate(
      [&]() -> Result<std::unique_ptr<origin::Origin>> {
        ++attempts;
        return Status::InvalidArgument("origin: bad PostgreSQL URI");
      },
      milliseconds(10), &opening);
  EXPECT_EQ(opened.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(opening, nullptr);
  EXPECT_EQ(attempts, 1);
}

TEST(LateOrigin, AServerThatRefusesUsIsAnErrorNow) {
  auto opened = OpenLate(
      []() -> Result<std::unique_ptr<origin::Origin>> {
        return Status::Unavailable("origin: connect: SSL error: certificate verify failed");
      },
      milliseconds(10), nullptr);
  EXPECT_EQ(opened.status().code(), Status::Code::kUnavailable);
}

TEST(LateOrigin, DestroyedWhileStillUnreachableStopsTrying) {
  std::atomic<int> attempts{0};
  {
    auto opened = OpenLate(
        [&]() -> Result<std::unique_ptr<origin::Origin>> {
          ++attempts;
          return Status::Unavailable("down");
        },
        milliseconds(5), nullptr);
    ASSERT_TRUE(opened.ok());
    std::this_thread::sleep_for(milliseconds(20));
  }
  const int after = attempts;
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_EQ(attempts.load(), after);
}

}  // namespace
}  // namespace tempo::serve
