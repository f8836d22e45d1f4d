// Tests of response serialization.
#include "http/response_head.h"

#include <gtest/gtest.h>

namespace tempo::http {
namespace {

constexpr std::string_view kDate = "Sun, 06 Nov 1994 08:49:37 GMT";

TEST(FormatHttpDate, IsImfFixdate) {
  EXPECT_EQ(FormatHttpDate(784111777), kDate);
  EXPECT_EQ(FormatHttpDate(784111777).size(), kHttpDateBytes);
}

TEST(StatusForbidsBody, InterimNoContentAndNotModified) {
  EXPECT_TRUE(StatusForbidsBody(101));
  EXPECT_TRUE(StatusForbidsBody(204));
  EXPECT_TRUE(StatusForbidsBody(304));
  EXPECT_FALSE(StatusForbidsBody(200));
  EXPECT_FALSE(StatusForbidsBody(404));
}

TEST(AppendResponseHead, KeepAliveHttp11) {
  std::string out = "previous";
  AppendResponseHead(200, {{"Content-Type", "application/json"}, {"ETag", "\"abc\""}}, 42, kDate,
                     Persistence::kKeepAlive, &out);
  EXPECT_EQ(out,
            "previousHTTP/1.1 200 OK\r\nServer: tempo\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Content-Type: application/json\r\nETag: \"abc\"\r\nContent-Length: 42\r\n\r\n");
}

TEST(AppendResponseHead, ConnectionHeaders) {
  std::string close;
  AppendResponseHead(404, {}, 0, kDate, Persistence::kClose, &close);
  EXPECT_NE(close.find("HTTP/1.1 404 Not Found\r\n"), std::string::npos);
  EXPECT_NE(close.find("\r\nConnection: close\r\n\r\n"), std::string::npos);
  std::string keep;
  AppendResponseHead(200, {}, 0, kDate, Persistence::kKeepAliveHttp10, &keep);
  EXPECT_NE(keep.find("\r\nConnection: keep-alive\r\n\r\n"), std::string::npos);
}

TEST(AppendResponseHead, NotModifiedHasNoContentLength) {
  std::string out;
  AppendResponseHead(304, {{"ETag", "\"abc\""}}, 42, kDate, Persistence::kKeepAlive, &out);
  EXPECT_NE(out.find("HTTP/1.1 304 Not Modified\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);
  EXPECT_NE(out.find("ETag: \"abc\"\r\n"), std::string::npos);
}

TEST(AppendResponseHead, DropsServerOwnedAndUnsafeHeaders) {
  std::string out;
  AppendResponseHead(200,
                     {{"content-length", "999"},
                      {"Connection", "upgrade"},
                      {"SERVER", "other"},
                      {"Transfer-Encoding", "chunked"},
                      {"X-Split", "a\r\nSet-Cookie: x=1"},
                      {"X-Bad\n", "v"},
                      {"", "v"},
                      {"X-Good", "yes"}},
                     3, kDate, Persistence::kKeepAlive, &out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nServer: tempo\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "X-Good: yes\r\nContent-Length: 3\r\n\r\n");
}

TEST(AppendResponseHead, UnknownStatusGetsAReason) {
  std::string out;
  AppendResponseHead(299, {}, 0, kDate, Persistence::kKeepAlive, &out);
  EXPECT_EQ(out.rfind("HTTP/1.1 299 Unknown\r\n", 0), 0u);
}

TEST(AppendErrorResponse, JsonBodyWithHeaders) {
  std::string out;
  AppendErrorResponse(431, "header_too_large", "say \"no\"", kDate, Persistence::kClose, &out);
  const std::string body = R"({"error":{"code":"header_too_large","message":"say \"no\""}})";
  EXPECT_EQ(out,
            "HTTP/1.1 431 Request Header Fields Too Large\r\nServer: tempo\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: application/json\r\n"
            "Cache-Control: no-store\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

}  // namespace
}  // namespace tempo::http
