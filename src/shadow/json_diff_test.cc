#include "shadow/json_diff.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tempo::shadow {
namespace {

// The first difference of `expected` and `actual` (path "=" when equal).
JsonDifference Diff(std::string_view expected, std::string_view actual,
                    const std::vector<std::string>& ignore = {}) {
  Result<JsonComparer> comparer = JsonComparer::Create(ignore);
  EXPECT_TRUE(comparer.ok()) << comparer.status().ToString();
  if (!comparer.ok()) return {};
  simdjson::dom::parser pe, pa;
  simdjson::dom::element e, a;
  EXPECT_FALSE(pe.parse(expected.data(), expected.size()).get(e)) << expected;
  EXPECT_FALSE(pa.parse(actual.data(), actual.size()).get(a)) << actual;
  JsonDifference d;
  if (comparer->Equal(e, a, &d)) d.path = "=";
  return d;
}

std::string PathOf(std::string_view expected, std::string_view actual,
                   const std::vector<std::string>& ignore = {}) {
  return Diff(expected, actual, ignore).path;
}

TEST(JsonDiffTest, EqualValuesWhateverTheMemberOrder) {
  EXPECT_EQ(PathOf(R"({"a":1,"b":[true,null,"x"],"c":{"d":2,"e":3}})",
                   R"({"c":{"e":3,"d":2},"b":[true,null,"x"],"a":1})"),
            "=");
  EXPECT_EQ(PathOf("[]", "[]"), "=");
  EXPECT_EQ(PathOf("{}", " { } "), "=");
  EXPECT_EQ(PathOf(R"("\u0041")", R"("A")"), "=");  // strings compared unescaped
}

TEST(JsonDiffTest, NumbersByValue) {
  EXPECT_EQ(PathOf("[1,1,1,0,-0,100]", "[1.0,1e0,10e-1,0.0,0,1E2]"), "=");
  EXPECT_EQ(PathOf("[18446744073709551615]", "[18446744073709551615]"), "=");
  EXPECT_EQ(PathOf("[9223372036854775807]", "[9223372036854775806]"), "/0");  // exact
  EXPECT_EQ(PathOf("[1]", "[1.5]"), "/0");
  EXPECT_EQ(PathOf("[1]", R"(["1"])"), "/0");
  EXPECT_EQ(PathOf("[true]", "[1]"), "/0");
  EXPECT_EQ(PathOf("[null]", "[false]"), "/0");
}

TEST(JsonDiffTest, ReportsPathAndBothValues) {
  JsonDifference d = Diff(R"({"zones":[{"modules":[{"id":"a","priority":1},{"id":"b"}]}]})",
                          R"({"zones":[{"modules":[{"priority":2,"id":"a"},{"id":"b"}]}]})");
  EXPECT_EQ(d.path, "/zones/0/modules/0/priority");
  EXPECT_EQ(d.expected, "1");
  EXPECT_EQ(d.actual, "2");

  d = Diff(R"({"a":{"x":[1,2]}})", R"({"a":{"x":{"0":1}}})");
  EXPECT_EQ(d.path, "/a/x");
  EXPECT_EQ(d.expected, "[1,2]");
  EXPECT_EQ(d.actual, R"({"0":1})");
}

TEST(JsonDiffTest, FirstDifferenceInExpectedOrder) {
  // Both b and a differ: b comes first in the expected document.
  EXPECT_EQ(PathOf(R"({"b":1,"a":1})", R"({"a":2,"b":2})"), "/b");
  // A member missing from actual is found before an extra one.
  JsonDifference d = Diff(R"({"a":1,"b":2})", R"({"extra":0,"a":1})");
  EXPECT_EQ(d.path, "/b");
  EXPECT_EQ(d.expected, "2");
  EXPECT_FALSE(d.actual.has_value());
  // Members only actual has come after all of expected's, in actual's order.
  d = Diff(R"({"a":1})", R"({"z":0,"a":1,"y":[1]})");
  EXPECT_EQ(d.path, "/z");
  EXPECT_FALSE(d.expected.has_value());
  EXPECT_EQ(d.actual, "0");
}

TEST(JsonDiffTest, NestedArraysAndLengths) {
  EXPECT_EQ(PathOf("[[1,2],[3,[4,5]]]", "[[1,2],[3,[4,6]]]"), "/1/1/1");
  JsonDifference d = Diff("[[1,2],[3]]", "[[1,2],[3,4,5]]");
  EXPECT_EQ(d.path, "/1/1");
  EXPECT_FALSE(d.expected.has_value());
  EXPECT_EQ(d.actual, "4");
  d = Diff("[1,2,{\"a\":1}]", "[1,2]");
  EXPECT_EQ(d.path, "/2");
  EXPECT_EQ(d.expected, R"({"a":1})");
  EXPECT_FALSE(d.actual.has_value());
}

TEST(JsonDiffTest, PathTokensAreEscaped) {
  EXPECT_EQ(PathOf(R"({"a/b":{"m~n":1}})", R"({"a/b":{"m~n":2}})"), "/a~1b/m~0n");
  EXPECT_EQ(PathOf(R"({"":1})", R"({"":2})"), "/");
}

TEST(JsonDiffTest, DuplicateMembersAreMatchedOneToOne) {
  EXPECT_EQ(PathOf(R"({"a":1,"a":1})", R"({"a":1,"b":1})"), "/a");
  EXPECT_EQ(PathOf(R"({"a":1,"a":2})", R"({"a":1,"a":2})"), "=");
}

TEST(JsonDiffTest, LargeShuffledObjects) {
  std::string expected = "{", actual = "{";
  constexpr int kMembers = 2000;
  for (int i = 0; i < kMembers; ++i) {
    if (i > 0) expected += ",";
    expected += "\"k" + std::to_string(i) + "\":" + std::to_string(i);
  }
  for (int i = kMembers - 1; i >= 0; --i) {
    actual += "\"k" + std::to_string(i) + "\":" + std::to_string(i == 1500 ? -1 : i);
    actual += i > 0 ? "," : "";
  }
  expected += "}";
  actual += "}";
  EXPECT_EQ(PathOf(expected, actual), "/k1500");
  EXPECT_EQ(PathOf(expected, expected), "=");
}

TEST(JsonDiffTest, IgnoreWithWildcards) {
  const std::string expected =
      R"({"meta":{"ts":1,"id":"x"},"zones":[{"t":1,"n":"a"},{"t":2,"n":"b"}]})";
  const std::string actual =
      R"({"meta":{"ts":2,"id":"x"},"zones":[{"t":9,"n":"a"},{"t":8,"n":"b"}]})";
  EXPECT_EQ(PathOf(expected, actual), "/meta/ts");
  EXPECT_EQ(PathOf(expected, actual, {"/meta/ts"}), "/zones/0/t");
  EXPECT_EQ(PathOf(expected, actual, {"/meta/ts", "/zones/*/t"}), "=");
  EXPECT_EQ(PathOf(expected, actual, {"/meta/ts", "/zones/0/t"}), "/zones/1/t");
  EXPECT_EQ(PathOf(expected, actual, {"/*/ts", "/zones"}), "=");
  EXPECT_EQ(PathOf(expected, actual, {"/meta", "/zones/*/*"}), "=");
  EXPECT_EQ(PathOf(expected, actual, {""}), "=");
  // Ignored members may be present on one side only; ignored indices may be missing.
  EXPECT_EQ(PathOf(R"({"a":1,"gen":1})", R"({"a":1,"other":2})", {"/gen", "/other"}), "=");
  EXPECT_EQ(PathOf("[1,2,3]", "[1,2]", {"/2"}), "=");
  EXPECT_EQ(PathOf("[1,2,3]", "[1,2]", {"/1"}), "/2");
  // Escaped tokens in pointers.
  EXPECT_EQ(PathOf(R"({"a/b":1,"c":1})", R"({"a/b":2,"c":1})", {"/a~1b"}), "=");
  EXPECT_EQ(PathOf(R"({"m~n":1})", R"({"m~n":2})", {"/m~0n"}), "=");
  // A numeric token names a member too; "01" is no array index.
  EXPECT_EQ(PathOf(R"({"0":1})", R"({"0":2})", {"/0"}), "=");
  EXPECT_EQ(PathOf("[1,2]", "[1,3]", {"/01"}), "/1");
}

TEST(JsonDiffTest, CreateValidatesPointers) {
  for (const char* bad : {"meta", "/a~", "/a~2", "*/x"}) {
    Result<JsonComparer> r = JsonComparer::Create({"/ok", bad});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().message();
  }
  EXPECT_TRUE(JsonComparer::Create({"", "/", "/a/*/b", "/~0~1"}).ok());
}

TEST(JsonDiffTest, LongValuesAreCutAndStayValidJson) {
  std::string big = "[";
  for (int i = 0; i < 1000; ++i)
    big += (i > 0 ? ",\"\xc3\xa9\\\"" : "\"\xc3\xa9\\\"") + std::string("\"");
  big += "]";
  JsonDifference d = Diff("{\"a\":" + big + "}", R"({"a":1})");
  EXPECT_EQ(d.path, "/a");
  ASSERT_TRUE(d.expected.has_value());
  simdjson::dom::parser parser;
  simdjson::dom::element cut;
  ASSERT_FALSE(parser.parse(*d.expected).get(cut)) << *d.expected;
  std::string_view text;
  ASSERT_FALSE(cut.get_string().get(text));
  EXPECT_LE(text.size(), kMaxDiffValueBytes + 8);
  EXPECT_EQ(text.substr(text.size() - 8), "...(cut)");
  EXPECT_EQ(text.substr(0, 6), "[\"\xc3\xa9\\\"");

  EXPECT_EQ(CutJsonText("[1,2]"), "[1,2]");
  const std::string exact(kMaxDiffValueBytes, '1');
  EXPECT_EQ(CutJsonText(exact), exact);
}

TEST(JsonDiffTest, ComparerIsReusable) {
  Result<JsonComparer> comparer = JsonComparer::Create({"/x"});
  ASSERT_TRUE(comparer.ok());
  simdjson::dom::parser pe, pa;
  simdjson::dom::element e, a;
  JsonDifference d;
  ASSERT_FALSE(pe.parse(std::string(R"({"x":1,"y":[1,{"z":2}]})")).get(e));
  ASSERT_FALSE(pa.parse(std::string(R"({"x":2,"y":[1,{"z":3}]})")).get(a));
  EXPECT_FALSE(comparer->Equal(e, a, &d));
  EXPECT_EQ(d.path, "/y/1/z");
  ASSERT_FALSE(pa.parse(std::string(R"({"y":[1,{"z":2}]})")).get(a));
  EXPECT_TRUE(comparer->Equal(e, a, &d));
}

}  // namespace
}  // namespace tempo::shadow
