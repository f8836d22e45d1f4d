// Tests of ParseHttpUrl, ReadRequestLog and RenderGet.
#include "loadgen/request_source.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testing/temp_dir.h"

namespace tempo::loadgen {
namespace {

TEST(RequestSourceTest, ParsesHttpUrls) {
  Result<HttpUrl> u = ParseHttpUrl("http://127.0.0.1:8080/api/v2/tempo/layouts?tenant=A&x=1");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/api/v2/tempo/layouts?tenant=A&x=1");
  u = ParseHttpUrl("http://localhost");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/");
  u = ParseHttpUrl("http://[::1]:9000?q");
  ASSERT_FALSE(u.ok());  // a query needs a path
  u = ParseHttpUrl("http://[::1]:9000/x");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9000);
  u = ParseHttpUrl("http://[::1]/");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->port, 80);
}

TEST(RequestSourceTest, RejectsWhatItCannotSend) {
  const std::pair<const char*, const char*> cases[] = {
      {"https://h:1/", "https is not supported"},
      {"ftp://h/", "expected http://"},
      {"h:80/", "expected http://"},
      {"http://u@h:80/", "user information"},
      {"http://h:0/", "port"},
      {"http://h:99999/", "port"},
      {"http://:80/", "empty host"},
      {"http://h:80/a b", "space"},
      {"http://h:80/a#frag", "fragment"},
  };
  for (const auto& [url, why] : cases) {
    Result<HttpUrl> u = ParseHttpUrl(url);
    ASSERT_FALSE(u.ok()) << url;
    EXPECT_NE(u.status().message().find(why), std::string::npos) << u.status().message();
    EXPECT_NE(u.status().message().find(url), std::string::npos) << u.status().message();
  }
}

TEST(RequestSourceTest, ReadsARequestLogSkippingEmptyLines) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/requests.txt";
  std::ofstream(path) << "/api/v2/tempo/layouts?tenant=A\n\n/api/v1/x?y=1\r\n/z\n";
  Result<std::vector<std::string>> log = ReadRequestLog(path);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(*log,
            (std::vector<std::string>{"/api/v2/tempo/layouts?tenant=A", "/api/v1/x?y=1", "/z"}));
}

TEST(RequestSourceTest, RejectsABadRequestLog) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/requests.txt";
  std::ofstream(path) << "/ok\nnot-a-path\n";
  Result<std::vector<std::string>> log = ReadRequestLog(path);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("line 2"), std::string::npos) << log.status().message();
  std::ofstream(path, std::ios::trunc) << "\n\n";
  log = ReadRequestLog(path);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("no request"), std::string::npos);
  log = ReadRequestLog(dir.path() + "/missing.txt");
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Status::Code::kIOError);
}

TEST(RequestSourceTest, RendersAGetWithTheHostHeader) {
  EXPECT_EQ(RenderGet("/a?b=1", "127.0.0.1", 8080),
            "GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
  EXPECT_EQ(RenderGet("/", "example.com", 80), "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(RenderGet("/", "::1", 9000), "GET / HTTP/1.1\r\nHost: [::1]:9000\r\n\r\n");
}

}  // namespace
}  // namespace tempo::loadgen
