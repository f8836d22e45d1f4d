// Tests for LayoutService routing (§11.5-6, §11.28) and ETag handling (§11.29).
#include "api/service.h"

#include <gtest/gtest.h>

namespace tempo::api {
namespace {

std::string Header(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

http::Response Call(const LayoutService& s, std::string_view method, std::string_view target) {
  http::Response r;
  s.Handle(http::Request{method, target, ""}, &r);
  return r;
}

// Routing errors are decided before the origin is touched, so none is needed.
TEST(LayoutService, Rule28_UnknownPathsAre404) {
  LayoutService s(nullptr, {});
  for (const char* t : {"/", "/api/v3/tempo/layouts", "/api/v2/tempo/layouts/",
                        "/API/v2/tempo/layouts", "/api/v2/tempo/Layouts?tenant=x"}) {
    http::Response r = Call(s, "GET", t);
    EXPECT_EQ(r.status, 404) << t;
    EXPECT_NE(r.body.find("\"not_found\""), std::string::npos);
    EXPECT_EQ(Header(r, "Content-Type"), "application/json");
    EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  }
}

TEST(LayoutService, Rule28_NonGetIs405WithAllow) {
  LayoutService s(nullptr, {});
  for (const char* m : {"HEAD", "POST", "PUT", "DELETE", "get"}) {
    http::Response r = Call(s, m, "/api/v1/tempo/layouts?tenant=a");
    EXPECT_EQ(r.status, 405) << m;
    EXPECT_EQ(Header(r, "Allow"), "GET");
    EXPECT_NE(r.body.find("\"method_not_allowed\""), std::string::npos);
  }
  EXPECT_EQ(Call(s, "POST", "/healthz").status, 405);
}

TEST(LayoutService, Healthz) {
  LayoutService s(nullptr, {});
  http::Response r = Call(s, "GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
}

TEST(LayoutService, Rule5_UriTooLongAfterPathCheck) {
  LayoutService s(nullptr, {});
  std::string target = "/api/v2/tempo/layouts?x=";
  target.resize(8193, 'a');
  http::Response r = Call(s, "GET", target);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"uri_too_long\""), std::string::npos);
  // The same length on an unknown path is a 404: the path check comes first.
  std::string other = "/nope?x=";
  other.resize(9000, 'a');
  EXPECT_EQ(Call(s, "GET", other).status, 404);
}

TEST(ETag, Rule29_SixteenHexDigitsInQuotes) {
  const std::string etag = ComputeETag("{\"modules\":[]}");
  ASSERT_EQ(etag.size(), 18u);
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(etag.back(), '"');
  for (size_t i = 1; i < 17; ++i) EXPECT_TRUE(isxdigit(static_cast<unsigned char>(etag[i])));
  EXPECT_EQ(etag, ComputeETag("{\"modules\":[]}"));
  EXPECT_NE(etag, ComputeETag("{\"modules\":[1]}"));
}

TEST(ETag, Rule29_IfNoneMatchListWeakAndStar) {
  const std::string etag = "\"0123456789abcdef\"";
  EXPECT_TRUE(IfNoneMatchMatches(etag, etag));
  EXPECT_TRUE(IfNoneMatchMatches("W/" + etag, etag));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\", " + etag + " ,\"y\"", etag));
  EXPECT_TRUE(IfNoneMatchMatches("*", etag));
  EXPECT_FALSE(IfNoneMatchMatches("\"0123456789abcdee\"", etag));
  EXPECT_FALSE(IfNoneMatchMatches("", etag));
}

}  // namespace
}  // namespace tempo::api
