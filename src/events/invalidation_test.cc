#include "events/invalidation.h"

#include <gtest/gtest.h>

#include <string>

namespace tempo::events {
namespace {

SliceKey Slice(std::string tenant, std::string channel, std::string page_type, std::string scope) {
  return {{std::move(tenant), std::move(channel), std::move(page_type)}, std::move(scope)};
}

std::string Error(std::string_view json) {
  Result<Invalidation> r = DecodeInvalidation(json);
  EXPECT_FALSE(r.ok()) << json;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  return r.status().message();
}

TEST(InvalidationTest, EncodesTheWireFormat) {
  EXPECT_EQ(EncodeInvalidation(Slice("CA", "web", "home", "*"), 42),
            R"({"tenant":"CA","channel":"web","pageType":"home","pageId":"*","version":42})");
  EXPECT_EQ(InvalidationKey(Slice("CA", "web", "home", "p1")), "CA/web/home");
}

TEST(InvalidationTest, EscapesStringsAndRoundTrips) {
  const SliceKey slice = Slice("T\"q", "we\\b", "ho\nme\x01", "p\xc3\xa9/\t");
  const std::string json = EncodeInvalidation(slice, 9223372036854775807);
  EXPECT_EQ(json,
            "{\"tenant\":\"T\\\"q\",\"channel\":\"we\\\\b\",\"pageType\":\"ho\\nme\\u0001\","
            "\"pageId\":\"p\xc3\xa9/\\t\",\"version\":9223372036854775807}");
  Result<Invalidation> back = DecodeInvalidation(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->slice, slice);
  EXPECT_EQ(back->version, 9223372036854775807);
}

TEST(InvalidationTest, DecodesFieldsInAnyOrderAndIgnoresUnknownOnes) {
  Result<Invalidation> r =
      DecodeInvalidation(R"( {"version":3,"pageId":"*","extra":[1,{"a":null}],"pageType":"pdp",)"
                         R"("channel":"","tenant":"MX"} )");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->slice, Slice("MX", "", "pdp", "*"));
  EXPECT_EQ(r->version, 3);
}

TEST(InvalidationTest, RejectsMalformedMessagesWithTheField) {
  const std::string ok_tail = R"("channel":"web","pageType":"home","pageId":"*","version":1)";
  const std::string not_json = "invalidation: value: not valid JSON: ";
  for (const std::string& bad : {std::string(""), std::string("{"),
                                 R"({"tenant":"T",)" + ok_tail + "} x",       // trailing bytes
                                 "{\"tenant\":\"\xff\"," + ok_tail + "}"}) {  // not UTF-8
    EXPECT_EQ(Error(bad).substr(0, not_json.size()), not_json) << bad;
  }
  EXPECT_EQ(Error("[1]"), "invalidation: value: must be a JSON object");
  EXPECT_EQ(Error("{" + ok_tail + "}"), "invalidation: tenant: missing");
  EXPECT_EQ(Error(R"({"tenant":"","channel":"web","pageType":"home","pageId":"*","version":1})"),
            "invalidation: tenant: must be a non-empty string");
  EXPECT_EQ(Error(R"({"tenant":1,"channel":"web","pageType":"home","pageId":"*","version":1})"),
            "invalidation: tenant: must be a string");
  EXPECT_EQ(Error(R"({"tenant":"T","tenant":"U",)" + ok_tail + "}"),
            "invalidation: tenant: appears twice");
  EXPECT_EQ(Error(R"({"tenant":"T","channel":null,"pageType":"home","pageId":"*","version":1})"),
            "invalidation: channel: must be a string");
  EXPECT_EQ(Error(R"({"tenant":"T","channel":"web","pageId":"*","version":1})"),
            "invalidation: pageType: missing");
  EXPECT_EQ(Error(R"({"tenant":"T","channel":"web","pageType":"home","pageId":"","version":1})"),
            "invalidation: pageId: must be a non-empty string");
  EXPECT_EQ(Error(R"({"tenant":"T","channel":"web","pageType":"home","pageId":"*"})"),
            "invalidation: version: missing");
  for (const char* version : {"0", "-1", "1.0", "1e3", "\"1\"", "9223372036854775808", "null"}) {
    EXPECT_EQ(
        Error(std::string(R"({"tenant":"T","channel":"web","pageType":"home","pageId":"*",)") +
              "\"version\":" + version + "}"),
        "invalidation: version: must be an integer in 1..2^63-1")
        << version;
  }
}

TEST(CacheDropTest, EncodesOnlyTheFieldsGivenAndRoundTrips) {
  const CacheDrop tenant{"ACME", "", "", ""};
  EXPECT_EQ(EncodeCacheDrop(tenant), R"({"drop":{"tenant":"ACME"}})");
  EXPECT_EQ(CacheDropKey(tenant), "ACME");
  const CacheDrop narrow{"ACME", "web", "home", "*"};
  EXPECT_EQ(EncodeCacheDrop(narrow),
            R"({"drop":{"tenant":"ACME","channel":"web","pageType":"home","pageId":"*"}})");
  EXPECT_EQ(CacheDropKey(narrow), "ACME/web/home/*");
  for (const CacheDrop& drop : {tenant, narrow, CacheDrop{"T", "", "pdp", ""}}) {
    Result<CacheDrop> back = DecodeCacheDrop(EncodeCacheDrop(drop));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->tenant, drop.tenant);
    EXPECT_EQ(back->channel, drop.channel);
    EXPECT_EQ(back->page_type, drop.page_type);
    EXPECT_EQ(back->scope, drop.scope);
  }
}

// A serve that predates drops skips them as malformed; a slice invalidation
// is never read as a drop.
TEST(CacheDropTest, NeitherDecoderTakesTheOthersMessage) {
  EXPECT_FALSE(DecodeInvalidation(EncodeCacheDrop({"T", "web", "home", "*"})).ok());
  const std::string slice = EncodeInvalidation(Slice("T", "web", "home", "*"), 1);
  EXPECT_EQ(DecodeCacheDrop(slice).status().message(), "drop: value: must be {\"drop\":{...}}");
}

TEST(CacheDropTest, RejectsMalformedDropsWithTheField) {
  auto error = [](std::string_view json) {
    Result<CacheDrop> r = DecodeCacheDrop(json);
    EXPECT_FALSE(r.ok()) << json;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(error(R"({"drop":{}})"), "drop: tenant: missing");
  EXPECT_EQ(error(R"({"drop":{"tenant":""}})"), "drop: tenant: must be a non-empty string");
  EXPECT_EQ(error(R"({"drop":{"tenant":"T","channel":""}})"),
            "drop: channel: must be a non-empty string");
  EXPECT_EQ(error(R"({"drop":{"tenant":"T","pageId":3}})"), "drop: pageId: must be a string");
  EXPECT_EQ(error(R"({"drop":{"tenant":"T"},"x":1})"), "drop: value: must be {\"drop\":{...}}");
  EXPECT_EQ(error(R"({"drop":[]})"), "drop: value: must be {\"drop\":{...}}");
  EXPECT_EQ(error("{").rfind("drop: value: not valid JSON: ", 0), 0u);
}

}  // namespace
}  // namespace tempo::events
