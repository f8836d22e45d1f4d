// Value construction and lookup.
#include "cond/value.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tempo::cond {
namespace {

TEST(CondValueTest, Factories) {
  EXPECT_TRUE(Value().is_null());
  EXPECT_TRUE(Value::Bool(true).bool_value());
  EXPECT_EQ(Value::Number(2.5).number_value(), 2.5);
  EXPECT_EQ(Value::String("x").string_value(), "x");
  EXPECT_EQ(Value::Array({Value(), Value::Number(1)}).array_items().size(), 2u);
  EXPECT_EQ(Value::Object({{"a", Value()}}).type(), Value::Type::kObject);
}

TEST(CondValueTest, FindInSmallAndLargeObjects) {
  for (int n : {3, 70}) {
    std::vector<Value::Member> members;
    for (int i = 0; i < n; ++i) members.emplace_back("key" + std::to_string(i), Value::Number(i));
    const Value o = Value::Object(std::move(members));
    for (int i = 0; i < n; ++i) {
      const Value* v = o.Find("key" + std::to_string(i));
      ASSERT_NE(v, nullptr);
      EXPECT_EQ(v->number_value(), i);
    }
    EXPECT_EQ(o.Find("missing"), nullptr);
    EXPECT_EQ(o.Find(""), nullptr);
  }
  EXPECT_EQ(Value::Array({}).Find("a"), nullptr);
}

TEST(CondValueTest, RepeatedKeysMerge) {
  for (int n : {2, 40}) {
    std::vector<Value::Member> members;
    members.emplace_back("dup", Value::Number(1));
    for (int i = 0; i < n; ++i) members.emplace_back("k" + std::to_string(i), Value());
    members.emplace_back("dup", Value::Number(2));
    const Value o = Value::Object(std::move(members));
    EXPECT_EQ(o.object_members().size(), static_cast<size_t>(n) + 1);
    EXPECT_EQ(o.object_members()[0].first, "dup");
    EXPECT_EQ(o.Find("dup")->number_value(), 2);
    EXPECT_NE(o.Find("k" + std::to_string(n - 1)), nullptr);
  }
}

TEST(CondValueTest, IndexKeysAreNoticed) {
  EXPECT_TRUE(Value::Object({{"b", Value()}, {"7", Value()}}).has_index_keys());
  EXPECT_FALSE(Value::Object({{"b", Value()}, {"07", Value()}}).has_index_keys());
}

TEST(CondValueTest, CopiesAreDeep) {
  Value a = Value::Array({Value::String("x")});
  Value b = a;
  a = Value::Number(1);
  EXPECT_EQ(b.array_items()[0].string_value(), "x");
}

}  // namespace
}  // namespace tempo::cond
