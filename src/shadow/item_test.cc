#include "shadow/item.h"

#include <gtest/gtest.h>

#include <string>

namespace tempo::shadow {
namespace {

constexpr UnixNanos kReceipt = 1'700'000'000'000'000'000;
constexpr UnixNanos kAt = 1'795'348'800'000'000'000;  // 2026-11-22T12:00:00Z

constexpr std::string_view kGood =
    R"({"target":"/api/v2/tempo/layouts?tenant=ACME","status":200,"body":"{\"zones\":[]}","at":"2026-11-22T12:00:00Z"})";

// The message of the only rejection of `post`.
std::string OnlyError(std::string_view post, size_t line = 1) {
  ParsedPost parsed = ParsePost(post, kReceipt);
  EXPECT_EQ(parsed.items.size(), 0u) << post;
  EXPECT_EQ(parsed.rejected, 1u) << post;
  if (parsed.errors.size() != 1) {
    ADD_FAILURE() << "no single error for " << post;
    return "";
  }
  EXPECT_EQ(parsed.errors[0].line, line);
  return parsed.errors[0].message;
}

TEST(ItemTest, ParsesASingleObject) {
  ParsedPost parsed = ParsePost(kGood, kReceipt);
  ASSERT_EQ(parsed.items.size(), 1u);
  EXPECT_EQ(parsed.rejected, 0u);
  const Item& item = parsed.items[0];
  EXPECT_EQ(item.target, "/api/v2/tempo/layouts?tenant=ACME");
  EXPECT_EQ(item.status, 200);
  EXPECT_EQ(item.body, R"({"zones":[]})");
  EXPECT_EQ(item.at, kAt);
}

TEST(ItemTest, ParsesAPrettyPrintedObjectSpanningLines) {
  ParsedPost parsed = ParsePost(
      "{\n  \"target\": \"/api/v1/tempo/layouts\",\n  \"status\": 404,\n  \"body\": \"{}\"\n}\n",
      kReceipt);
  ASSERT_EQ(parsed.items.size(), 1u) << (parsed.errors.empty() ? "" : parsed.errors[0].message);
  EXPECT_EQ(parsed.items[0].status, 404);
  EXPECT_EQ(parsed.rejected, 0u);
}

TEST(ItemTest, MissingAtMeansReceiptAndNullToo) {
  ParsedPost parsed = ParsePost(
      "{\"target\":\"/a\",\"status\":200,\"body\":\"\"}\n"
      "{\"target\":\"/b\",\"status\":200,\"body\":\"\",\"at\":null}\n",
      kReceipt);
  ASSERT_EQ(parsed.items.size(), 2u);
  EXPECT_EQ(parsed.items[0].at, kReceipt);
  EXPECT_EQ(parsed.items[1].at, kReceipt);
}

TEST(ItemTest, NdjsonWithABadLineInTheMiddleReportsItsLine) {
  std::string post;
  post.append(kGood).append("\n");
  post.append("\n");  // blank lines are skipped but counted
  post.append(kGood).append("\n");
  post.append("{\"target\":\"/x\",\"status\":\"200\",\"body\":\"\"}\n");  // line 4
  post.append(kGood).append("\n");
  ParsedPost parsed = ParsePost(post, kReceipt);
  EXPECT_EQ(parsed.items.size(), 3u);
  EXPECT_EQ(parsed.rejected, 1u);
  ASSERT_EQ(parsed.errors.size(), 1u);
  EXPECT_EQ(parsed.errors[0].line, 4u);
  EXPECT_NE(parsed.errors[0].message.find("`status`"), std::string::npos);
}

TEST(ItemTest, CrlfAndALastLineWithoutNewline) {
  std::string post;
  post.append(kGood).append("\r\n").append("\r\n").append(kGood);
  ParsedPost parsed = ParsePost(post, kReceipt);
  EXPECT_EQ(parsed.items.size(), 2u);
  EXPECT_EQ(parsed.rejected, 0u);
  EXPECT_EQ(parsed.items[1].body, R"({"zones":[]})");
}

TEST(ItemTest, TruncatedLastLine) {
  std::string post;
  post.append(kGood).append("\n").append(kGood.substr(0, 60));
  ParsedPost parsed = ParsePost(post, kReceipt);
  EXPECT_EQ(parsed.items.size(), 1u);
  ASSERT_EQ(parsed.errors.size(), 1u);
  EXPECT_EQ(parsed.errors[0].line, 2u);
  EXPECT_NE(parsed.errors[0].message.find("truncated"), std::string::npos)
      << parsed.errors[0].message;
}

TEST(ItemTest, TruncatedSingleObject) {
  EXPECT_NE(OnlyError(kGood.substr(0, kGood.size() - 1)).find("truncated"), std::string::npos);
}

TEST(ItemTest, RejectionsNameTheField) {
  EXPECT_EQ(OnlyError("[1,2]"), "not a JSON object");
  EXPECT_EQ(OnlyError("\"str\""), "not a JSON object");
  EXPECT_NE(OnlyError("{nope}").find("not valid JSON"), std::string::npos);
  EXPECT_EQ(OnlyError(R"({"status":200,"body":""})"), "`target` missing");
  EXPECT_EQ(OnlyError(R"({"target":7,"status":200,"body":""})"), "`target` must be a string");
  EXPECT_EQ(OnlyError(R"({"target":"api","status":200,"body":""})"),
            "`target` must start with '/'");
  EXPECT_EQ(OnlyError(R"({"target":"","status":200,"body":""})"), "`target` must start with '/'");
  EXPECT_EQ(OnlyError(R"({"target":"/a","body":""})"), "`status` missing");
  for (const char* status :
       {"99", "600", "200.0", "2e2", "\"200\"", "-200", "true", "null", "18446744073709551615"}) {
    EXPECT_EQ(OnlyError(std::string(R"({"target":"/a","body":"","status":)") + status + "}"),
              "`status` must be an integer 100-599")
        << status;
  }
  EXPECT_EQ(OnlyError(R"({"target":"/a","status":200})"),
            "`body` missing (or `json`, the body as a JSON value)");
  EXPECT_EQ(OnlyError(R"({"target":"/a","status":200,"body":{"zones":[]}})"),
            "`body` must be a string (or use `json` for the body as a JSON value)");
  EXPECT_EQ(OnlyError(R"({"target":"/a","status":200,"body":"{}","json":{}})"),
            "`body` and `json` both given: send one");
  EXPECT_EQ(OnlyError(R"({"target":"/a","status":200,"body":"","at":12})"),
            "`at` must be an RFC 3339 string");
  EXPECT_NE(OnlyError(R"({"target":"/a","status":200,"body":"","at":"2026-11-22 12:00:00"})")
                .find("`at`"),
            std::string::npos);
  EXPECT_NE(OnlyError(R"({"target":"/a","status":200,"body":"","at":"2026-02-30T00:00:00Z"})")
                .find("`at`"),
            std::string::npos);
}

TEST(ItemTest, JsonCarriesTheBodyAsAValue) {
  ParsedPost parsed = ParsePost(
      R"({"target":"/a","status":200,"json":{ "zones" : [ {"zone":"z"} ], "s":"q\"" }})", kReceipt);
  ASSERT_EQ(parsed.items.size(), 1u) << (parsed.errors.empty() ? "" : parsed.errors[0].message);
  EXPECT_EQ(parsed.items[0].body, R"({"zones":[{"zone":"z"}],"s":"q\""})");  // compacted
}

TEST(ItemTest, SameBodyAsTakesAnEarlierAcceptedLinesBody) {
  const std::string post = R"({"target":"/a","status":200,"json":{"k":1}})"
                           "\n"
                           R"({"target":"/b","status":"bad","json":{"k":2}})"
                           "\n"
                           R"({"target":"/c","status":200,"same_body_as":1})"
                           "\n"
                           R"({"target":"/d","status":200,"same_body_as":2})"  // a rejected line
                           "\n"
                           R"({"target":"/e","status":200,"same_body_as":6})"  // a later line
                           "\n"
                           R"({"target":"/f","status":200,"same_body_as":1,"body":"x"})"
                           "\n"
                           R"({"target":"/g","status":200,"same_body_as":-1})"
                           "\n"
                           R"({"target":"/h","status":200,"same_body_as":3})"
                           "\n";
  ParsedPost parsed = ParsePost(post, kReceipt);
  ASSERT_EQ(parsed.items.size(), 3u);
  EXPECT_EQ(parsed.items[1].target, "/c");
  EXPECT_EQ(parsed.items[1].body, R"({"k":1})");
  EXPECT_EQ(parsed.items[2].target, "/h");  // a line that itself referred to another
  EXPECT_EQ(parsed.items[2].body, R"({"k":1})");
  ASSERT_EQ(parsed.rejected, 5u);
  EXPECT_EQ(parsed.errors[1].line, 4u);
  EXPECT_EQ(parsed.errors[1].message,
            "`same_body_as` must be the number of an earlier accepted line of this post");
  EXPECT_EQ(parsed.errors[2].line, 5u);
  EXPECT_EQ(parsed.errors[3].message, "`same_body_as` given with `body` or `json`: send one");
  EXPECT_EQ(parsed.errors[4].line, 7u);
}

TEST(ItemTest, AcceptsStatusBoundsAndIgnoresUnknownMembers) {
  ParsedPost parsed = ParsePost(
      "{\"target\":\"/a\",\"status\":100,\"body\":\"\",\"x\":[1]}\n"
      "{\"target\":\"/a\",\"status\":599,\"body\":\"\"}",
      kReceipt);
  ASSERT_EQ(parsed.items.size(), 2u);
  EXPECT_EQ(parsed.items[0].status, 100);
  EXPECT_EQ(parsed.items[1].status, 599);
}

TEST(ItemTest, EmptyAndBlankPostsHaveNothing) {
  for (std::string_view post : {"", "\n", "\r\n\r\n", "  \n\t\n"}) {
    ParsedPost parsed = ParsePost(post, kReceipt);
    EXPECT_EQ(parsed.items.size(), 0u);
    EXPECT_EQ(parsed.rejected, 0u);
  }
}

TEST(ItemTest, NonUtf8AndNulBytesAreRejectedNotCrashed) {
  using namespace std::literals;
  ParsedPost parsed = ParsePost("{\"target\":\"/\xff\"}\n\0\n"sv, kReceipt);
  EXPECT_EQ(parsed.items.size(), 0u);
  EXPECT_EQ(parsed.rejected, 2u);
}

TEST(ItemTest, HugeLineIsFine) {
  std::string body = "{\\\"blob\\\":\\\"" + std::string(4 << 20, 'x') + "\\\"}";
  std::string post = R"({"target":"/a","status":200,"body":")" + body + "\"}\n";
  post.append(kGood);
  ParsedPost parsed = ParsePost(post, kReceipt);
  ASSERT_EQ(parsed.items.size(), 2u);
  EXPECT_EQ(parsed.items[0].body.size(), (4u << 20) + 11);  // {"blob":"..."}
}

TEST(ItemTest, ErrorsAreCappedButAllCounted) {
  std::string post;
  for (int i = 0; i < 250; ++i) post.append("nope\n");
  ParsedPost parsed = ParsePost(post, kReceipt, 100);
  EXPECT_EQ(parsed.rejected, 250u);
  EXPECT_EQ(parsed.errors.size(), 100u);
  EXPECT_EQ(parsed.errors.back().line, 100u);
}

TEST(ItemTest, BodyLeavesPaddingForTheParser) {
  ParsedPost parsed = ParsePost(kGood, kReceipt);
  ASSERT_EQ(parsed.items.size(), 1u);
  EXPECT_GE(parsed.items[0].body.capacity() - parsed.items[0].body.size(), 64u);
}

}  // namespace
}  // namespace tempo::shadow
