// SPEC §11.26-27 stated as tests: the rules the evaluator must follow, one test each.
#include <gtest/gtest.h>

#include <string>

#include "cond/cond.h"

namespace tempo::cond {
namespace {

bool Eval(std::string_view condition, std::string_view attributes) {
  auto c = Condition::Compile(condition);
  EXPECT_TRUE(c.ok()) << condition;
  auto a = ParseJson(attributes);
  EXPECT_TRUE(a.ok()) << attributes;
  return c.ok() && a.ok() && c->Evaluate(*a);
}

TEST(CondRules, Rule26_JavaScriptComparisonCoercions) {
  EXPECT_TRUE(Eval(R"({"age":{"$gt":30}})", R"({"age":"31"})"));   // "31" > 30
  EXPECT_FALSE(Eval(R"({"age":{"$gt":30}})", R"({"age":"3a"})"));  // NaN compares false
  EXPECT_TRUE(Eval(R"({"n":{"$lt":1}})", R"({"n":null})"));        // null as 0
  EXPECT_TRUE(Eval(R"({"a":{"$gt":"1,1"}})", R"({"a":[1,2]})"));   // arrays as joined strings
}

TEST(CondRules, Rule26_JsonStringifyEqualityKeyOrderMatters) {
  EXPECT_TRUE(Eval(R"({"o":{"a":1,"b":2}})", R"({"o":{"a":1,"b":2}})"));
  EXPECT_FALSE(Eval(R"({"o":{"a":1,"b":2}})", R"({"o":{"b":2,"a":1}})"));
  EXPECT_TRUE(Eval(R"({"l":[1,"x"]})", R"({"l":[1,"x"]})"));
}

TEST(CondRules, Rule26_CaseInsensitiveAndSavedGroupOperators) {
  EXPECT_TRUE(Eval(R"({"s":{"$ini":["GOLD"]}})", R"({"s":"gold"})"));
  EXPECT_TRUE(Eval(R"({"s":{"$nini":["GOLD"]}})", R"({"s":"silver"})"));
  EXPECT_TRUE(Eval(R"({"t":{"$alli":["A","b"]}})", R"({"t":["a","B"]})"));
  EXPECT_TRUE(Eval(R"({"s":{"$regexi":"^GO"}})", R"({"s":"gold"})"));
  EXPECT_FALSE(Eval(R"({"id":{"$inGroup":"g"}})", R"({"id":"1"})"));
  EXPECT_TRUE(Eval(R"({"id":{"$notInGroup":"g"}})", R"({"id":"1"})"));
}

TEST(CondRules, Rule26_ElemMatchSkipsFalsyAndPathsIndexArrays) {
  EXPECT_FALSE(Eval(R"({"l":{"$elemMatch":{"$eq":0}}})", R"({"l":[0,""]})"));
  EXPECT_TRUE(Eval(R"({"l.1":"b","l.length":2})", R"({"l":["a","b"]})"));
}

TEST(CondRules, Rule26_Utf16CodeUnitOrder) {
  // U+FF5E (one UTF-16 unit 0xFF5E) sorts after U+1F600 (surrogates 0xD83D...)
  // in JavaScript, although its UTF-8 bytes sort before.
  EXPECT_TRUE(Eval(R"({"s":{"$gt":"😀"}})", R"({"s":"～"})"));
}

TEST(CondRules, Rule27_UncompilableRegexIsFalse) {
  EXPECT_FALSE(Eval(R"({"s":{"$regex":"(?<=a)b"}})", R"({"s":"ab"})"));  // lookbehind
  EXPECT_FALSE(Eval(R"({"s":{"$regex":"(a"}})", R"({"s":"(a"})"));       // syntax error
  EXPECT_TRUE(Eval(R"({"s":{"$not":{"$regex":"(a"}}})", R"({"s":"a"})"));
}

TEST(CondRules, Rule27_MatchingIsLinearOnPathologicalInput) {
  // (a+)+$ backtracks exponentially in a backtracking engine; RE2 is linear.
  const std::string attrs = R"({"s":")" + std::string(100000, 'a') + R"(!"})";
  // An exponential engine would never return here (ctest's timeout would fire).
  EXPECT_FALSE(Eval(R"({"s":{"$regex":"^(a+)+$"}})", attrs));
  EXPECT_TRUE(Eval(R"({"s":{"$regex":"^(a+)+!$"}})", attrs));
}

}  // namespace
}  // namespace tempo::cond
