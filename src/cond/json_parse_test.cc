// ParseJson(): JSON.parse semantics on simdjson, with the strict fallback.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "cond/cond.h"

namespace tempo::cond {
namespace {

TEST(CondParseJsonTest, Scalars) {
  EXPECT_TRUE(ParseJson("null")->is_null());
  EXPECT_TRUE(ParseJson(" true ")->bool_value());
  EXPECT_EQ(ParseJson("-12.5e1")->number_value(), -125);
  EXPECT_EQ(ParseJson("18446744073709551615")->number_value(), 18446744073709551615.0);
  EXPECT_EQ(ParseJson("\"a\\u00e9\\n\"")->string_value(), "a\u00e9\n");
}

TEST(CondParseJsonTest, NumbersBeyondSimdjsonStillParseAsDoubles) {
  EXPECT_EQ(ParseJson("123456789012345678901234567890")->number_value(), 1.2345678901234568e29);
  EXPECT_EQ(ParseJson("-18446744073709551616")->number_value(), -18446744073709551616.0);
  EXPECT_EQ(ParseJson("[1e400]")->array_items()[0].number_value(),
            std::numeric_limits<double>::infinity());
  EXPECT_EQ(ParseJson("-1e400")->number_value(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(ParseJson("1e-400")->number_value(), 0);
}

TEST(CondParseJsonTest, LoneSurrogateEscapesSurvive) {
  auto v = ParseJson("\"\\ud83d\"");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->string_value(), "\xED\xA0\xBD");  // WTF-8
  EXPECT_EQ(ParseJson("[\"\\ud83d\\ude00\", 1e999]")->array_items()[0].string_value(), "😀");
}

TEST(CondParseJsonTest, RepeatedKeysKeepFirstPositionLastValue) {
  auto v = ParseJson(R"({"a":1,"b":2,"a":3})");
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->object_members().size(), 2u);
  EXPECT_EQ(v->object_members()[0].first, "a");
  EXPECT_EQ(v->object_members()[0].second.number_value(), 3);
  // Same through the fallback parser.
  auto w = ParseJson(R"({"a":1,"b":1e400,"a":3})");
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->object_members().size(), 2u);
  EXPECT_EQ(w->Find("a")->number_value(), 3);
}

TEST(CondParseJsonTest, MalformedInputIsRejected) {
  for (std::string_view bad :
       {"",      " ",        "[1,]", "{\"a\":1,}", "01",       "1.", ".5",       "+1",  "'a'",
        "[1 2]", "{a:1}",    "nul",  "\"\t\"",     "\"\\x\"",  "[",  "{\"a\"}",  "1 2", "\"\\ud83d",
        "NaN",   "Infinity", "-",    "\"\xFF\"",   "[1e400,]", "1e", "\"\\u12\""}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
}

TEST(CondParseJsonTest, NestingIsBounded) {
  EXPECT_TRUE(ParseJson(std::string(500, '[') + std::string(500, ']')).ok());
  EXPECT_FALSE(ParseJson(std::string(5000, '[') + std::string(5000, ']')).ok());
  // The fallback parser has the same bound (1e400 forces it).
  EXPECT_FALSE(ParseJson(std::string(5000, '[') + "1e400" + std::string(5000, ']')).ok());
}

}  // namespace
}  // namespace tempo::cond
