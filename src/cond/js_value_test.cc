// JavaScript's abstract operations on Values.
#include "cond/js_value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "cond/cond.h"

namespace tempo::cond {
namespace {

Value Json(std::string_view text) {
  auto v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : Value();
}

std::string String(const Value& v) {
  std::string out;
  AppendJsString(v, &out);
  return out;
}

TEST(CondTruthinessTest, FalsyValues) {
  for (const char* falsy : {"null", "false", "0", "-0", "\"\""})
    EXPECT_FALSE(IsTruthy(Json(falsy)));
  for (const char* truthy : {"true", "1", "\"0\"", "[]", "{}", "\" \""}) {
    EXPECT_TRUE(IsTruthy(Json(truthy))) << truthy;
  }
  EXPECT_FALSE(IsTruthy(Value::Number(std::nan(""))));
}

TEST(CondToStringTest, ArraysJoinAndObjectsAreOpaque) {
  EXPECT_EQ(String(Json("[1,[2,[3]],null,true,\"x\"]")), "1,2,3,,true,x");
  EXPECT_EQ(String(Json("[]")), "");
  EXPECT_EQ(String(Json("[null]")), "");
  EXPECT_EQ(String(Json("[{}]")), "[object Object]");
  EXPECT_EQ(String(Json("null")), "null");
  EXPECT_EQ(String(Json("1e21")), "1e+21");
  JsStringBuffer buffer;
  EXPECT_EQ(JsStringOf(Json("[1,2]"), &buffer), "1,2");
  EXPECT_EQ(JsStringOf(Json("2.5"), &buffer), "2.5");
}

TEST(CondToNumberTest, Coercions) {
  EXPECT_EQ(JsToNumber(Json("null")), 0);
  EXPECT_EQ(JsToNumber(Json("true")), 1);
  EXPECT_EQ(JsToNumber(Json("\" 7 \"")), 7);
  EXPECT_EQ(JsToNumber(Json("[]")), 0);
  EXPECT_EQ(JsToNumber(Json("[\"5\"]")), 5);
  EXPECT_TRUE(std::isnan(JsToNumber(Json("[1,2]"))));
  EXPECT_TRUE(std::isnan(JsToNumber(Json("{}"))));
}

TEST(CondJsEqualityTest, StrictAndSameValueZero) {
  EXPECT_TRUE(StrictEquals(Json("1"), Json("1.0")));
  EXPECT_TRUE(StrictEquals(Value::Number(0), Value::Number(-0.0)));
  EXPECT_FALSE(StrictEquals(Json("1"), Json("\"1\"")));
  EXPECT_FALSE(StrictEquals(Json("[]"), Json("[]")));
  const Value nan = Value::Number(std::nan(""));
  EXPECT_FALSE(StrictEquals(nan, nan));
  EXPECT_TRUE(SameValueZero(nan, nan));
}

TEST(CondJsEqualityTest, JsonStringifyEquality) {
  EXPECT_TRUE(JsonEquals(Json("{\"a\":[1,{\"b\":null}]}"), Json("{\"a\":[1,{\"b\":null}]}")));
  EXPECT_FALSE(JsonEquals(Json("{\"a\":1,\"b\":2}"), Json("{\"b\":2,\"a\":1}")));
  EXPECT_TRUE(JsonEquals(Json("{\"b\":2,\"1\":1}"), Json("{\"1\":1,\"b\":2}")));
  EXPECT_TRUE(JsonEquals(Json("{\"10\":1,\"9\":2}"), Json("{\"9\":2,\"10\":1}")));
  // "01" is no array index: both print as {"9":2,"01":1}.
  EXPECT_TRUE(JsonEquals(Json("{\"01\":1,\"9\":2}"), Json("{\"9\":2,\"01\":1}")));
  EXPECT_FALSE(JsonEquals(Json("{\"01\":1,\"02\":2}"), Json("{\"02\":2,\"01\":1}")));
  EXPECT_TRUE(JsonEquals(Value::Number(-0.0), Value::Number(0)));
  EXPECT_TRUE(JsonEquals(Value::Number(std::numeric_limits<double>::infinity()), Value()));
  EXPECT_FALSE(JsonEquals(Json("1"), Json("\"1\"")));
  EXPECT_FALSE(JsonEquals(Json("[1]"), Json("[1,1]")));
}

TEST(CondRelationalTest, IsLessThan) {
  std::string s1;
  std::string s2;
  auto prim = [](const Value& v, std::string* storage) { return ToPrimitive(v, storage, true); };
  const Value n30 = Json("30");
  const Value s31 = Json("\"31\"");
  const Value s4 = Json("\"4\"");
  const Value abc = Json("\"abc\"");
  EXPECT_EQ(IsLessThan(prim(n30, &s1), prim(s31, &s2)), LessThan::kTrue);
  EXPECT_EQ(IsLessThan(prim(s31, &s1), prim(s4, &s2)), LessThan::kTrue);  // both strings
  EXPECT_EQ(IsLessThan(prim(n30, &s1), prim(abc, &s2)), LessThan::kUndefined);
  EXPECT_EQ(IsLessThan(prim(Json("null"), &s1), prim(Json("1"), &s2)), LessThan::kTrue);
  EXPECT_EQ(IsLessThan(prim(Json("[2]"), &s1), prim(Json("10"), &s2)), LessThan::kTrue);
}

TEST(CondTypeOfTest, GetType) {
  EXPECT_EQ(TypeOf(Json("null")), JsType::kNull);
  EXPECT_EQ(TypeOf(Json("[]")), JsType::kArray);
  EXPECT_EQ(TypeOf(Json("{}")), JsType::kObject);
  EXPECT_EQ(TypeOf(Json("\"\"")), JsType::kString);
}

TEST(CondKeyOrderTest, ArrayIndicesFirst) {
  uint32_t index = 0;
  EXPECT_TRUE(IsArrayIndex("0", &index));
  EXPECT_TRUE(IsArrayIndex("4294967294", &index));
  EXPECT_EQ(index, 4294967294u);
  EXPECT_FALSE(IsArrayIndex("4294967295"));
  EXPECT_FALSE(IsArrayIndex("01"));
  EXPECT_FALSE(IsArrayIndex("-1"));
  EXPECT_FALSE(IsArrayIndex(""));
  EXPECT_FALSE(IsArrayIndex("1e3"));
  const Value o = Json("{\"b\":0,\"10\":1,\"a\":2,\"2\":3,\"01\":4}");
  EXPECT_EQ(JsKeyOrder(o), (std::vector<size_t>{3, 1, 0, 2, 4}));
}

}  // namespace
}  // namespace tempo::cond
