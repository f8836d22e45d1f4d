// Tests of --warm-from's source: what it accepts, and reading a hot list from
// a file or a peer that is down or hung, never past the deadline.
#include "serve/warm_start.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testing/hung_server.h"
#include "testing/temp_dir.h"

namespace tempo::serve {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

TEST(WarmFrom, AnHttpAddressIsAPeerAndAnythingElseAFile) {
  auto peer = ParseWarmFrom("http://10.0.0.5:9901");
  ASSERT_TRUE(peer.ok()) << peer.status().ToString();
  EXPECT_TRUE(peer->is_url);
  EXPECT_EQ(peer->admin.host, "10.0.0.5");
  EXPECT_EQ(peer->admin.port, 9901);
  auto v6 = ParseWarmFrom("http://[::1]:9901/");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->admin.host, "::1");
  auto file = ParseWarmFrom("/var/lib/tempo/hot.json");
  ASSERT_TRUE(file.ok());
  EXPECT_FALSE(file->is_url);
  EXPECT_EQ(file->file, "/var/lib/tempo/hot.json");
  for (const char* bad : {"", "http://", "http://host", "http://host:0", "http://host:99999",
                          "https://host:9901", "ftp://host/x", "http://host:9901/admin"}) {
    auto r = ParseWarmFrom(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
  }
}

TEST(WarmFrom, ReadsASavedHotListAndSaysWhyABadOneIsNot) {
  ::tempo::testing::TempDir dir("tempo-warm");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.path() + "/" + name) << text;
    return ParseWarmFrom(dir.path() + "/" + name).value();
  };
  const auto deadline = Clock::now() + milliseconds(5000);
  auto good = ReadHotList(
      write("hot.json",
            R"({"slices":[{"key":"A/web/home/*","tenant":"A","channel":"web","pageType":"home",)"
            R"("scope":"*","frequency":15,"hits":40},{"tenant":"A","channel":"web",)"
            R"("pageType":"home","scope":"p-1"}]})"),
      10, deadline);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  ASSERT_EQ(good->size(), 2u);
  EXPECT_EQ((*good)[1], (origin::SliceKey{{"A", "web", "home"}, "p-1"}));
  EXPECT_EQ(ReadHotList(ParseWarmFrom(dir.path() + "/hot.json").value(), 1, deadline)->size(), 1u);

  auto truncated = ReadHotList(write("cut.json", R"({"slices":[{"tenant":"A")"), 10, deadline);
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("cut.json: not valid JSON"), std::string::npos)
      << truncated.status().ToString();
  auto missing = ReadHotList(ParseWarmFrom(dir.path() + "/none.json").value(), 10, deadline);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot open"), std::string::npos);
}

TEST(WarmFrom, APeerThatIsDownOrHungFailsByTheDeadline) {
  auto hung = ::tempo::testing::HungServer::Start();
  ASSERT_TRUE(hung.ok()) << hung.status().ToString();
  const auto started = Clock::now();
  auto r = ReadHotList(ParseWarmFrom("http://" + (*hung)->address()).value(), 10,
                       started + milliseconds(300));
  const auto took = Clock::now() - started;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(r.status().message().find("/admin/cache/hot?n=10"), std::string::npos)
      << r.status().ToString();
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(3000));

  // A closed port: refused at once.
  const int port = (*hung)->port();
  hung->reset();
  auto refused = ReadHotList(ParseWarmFrom("http://127.0.0.1:" + std::to_string(port)).value(), 10,
                             Clock::now() + milliseconds(5000));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("connecting"), std::string::npos)
      << refused.status().ToString();
}

}  // namespace
}  // namespace tempo::serve
