// Condition semantics, one operator family at a time, through the public API.
#include <gtest/gtest.h>

#include <string>

#include "cond/compiled_node.h"
#include "cond/cond.h"

namespace tempo::cond {
namespace {

Value Json(std::string_view text) {
  auto v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : Value();
}

// Evaluates condition `c` against attributes `a`, both JSON.
bool Eval(std::string_view c, std::string_view a) {
  auto compiled = Condition::Compile(c);
  EXPECT_TRUE(compiled.ok()) << c;
  return compiled.ok() && compiled->Evaluate(Json(a));
}

Truth EvalTruth(std::string_view c, std::string_view a) {
  auto node = CompiledNode::Compile(Json(c), nullptr);
  EXPECT_TRUE(node.ok()) << c;
  return node.ok() ? (*node)->EvaluateTruth(Json(a)) : Truth::kFalse;
}

TEST(CondCompileTest, TopLevelMustBeAnObject) {
  EXPECT_FALSE(Condition::Compile("[]").ok());
  EXPECT_FALSE(Condition::Compile("\"x\"").ok());
  EXPECT_FALSE(Condition::Compile("null").ok());
  EXPECT_FALSE(Condition::Compile("{").ok());
  EXPECT_TRUE(Condition::Compile("{}").ok());
  EXPECT_FALSE(Condition::Compile(Value::Array({})).ok());
}

TEST(CondCompileTest, DeepNestingIsRejectedNotOverflowed) {
  Value v = Value::Object({{"a", Value::Number(1)}});
  for (int i = 0; i < 5000; ++i) v = Value::Object({{"$not", std::move(v)}});
  EXPECT_FALSE(Condition::Compile(v).ok());
}

TEST(CondEqualityTest, StringConditionComparesStringForm) {
  EXPECT_TRUE(Eval(R"({"a":"US"})", R"({"a":"US"})"));
  EXPECT_FALSE(Eval(R"({"a":"US"})", R"({"a":"us"})"));
  EXPECT_TRUE(Eval(R"({"a":"30"})", R"({"a":30})"));
  EXPECT_TRUE(Eval(R"({"a":"1e+21"})", R"({"a":1e21})"));
  EXPECT_TRUE(Eval(R"({"a":"null"})", R"({})"));  // missing is null; null + "" is "null"
  EXPECT_TRUE(Eval(R"({"a":"a,b"})", R"({"a":["a","b"]})"));
  EXPECT_TRUE(Eval(R"({"a":"[object Object]"})", R"({"a":{"x":1}})"));
  EXPECT_TRUE(Eval(R"({"a":"true"})", R"({"a":true})"));
}

TEST(CondEqualityTest, NumberConditionCoercesWithNumber) {
  EXPECT_TRUE(Eval(R"({"a":30})", R"({"a":"30"})"));
  EXPECT_TRUE(Eval(R"({"a":42})", R"({"a":" 42 "})"));
  EXPECT_TRUE(Eval(R"({"a":26})", R"({"a":"0x1A"})"));
  EXPECT_TRUE(Eval(R"({"a":0})", R"({})"));        // null * 1 === 0
  EXPECT_TRUE(Eval(R"({"a":0})", R"({"a":""})"));  // Number("") === 0
  EXPECT_TRUE(Eval(R"({"a":5})", R"({"a":[5]})"));
  EXPECT_FALSE(Eval(R"({"a":1})", R"({"a":[1,2]})"));
  EXPECT_TRUE(Eval(R"({"a":1})", R"({"a":true})"));
  EXPECT_FALSE(Eval(R"({"a":10})", R"({"a":"1_0"})"));
}

TEST(CondEqualityTest, BooleanAndNullConditions) {
  EXPECT_TRUE(Eval(R"({"a":true})", R"({"a":"x"})"));
  EXPECT_TRUE(Eval(R"({"a":false})", R"({"a":0})"));
  EXPECT_FALSE(Eval(R"({"a":false})", R"({})"));  // null never equals a boolean
  EXPECT_TRUE(Eval(R"({"a":null})", R"({})"));
  EXPECT_FALSE(Eval(R"({"a":null})", R"({"a":0})"));
}

TEST(CondEqualityTest, ArraysAndObjectsCompareAsJsonText) {
  EXPECT_TRUE(Eval(R"({"a":[1,"x",null]})", R"({"a":[1,"x",null]})"));
  EXPECT_FALSE(Eval(R"({"a":[1,2]})", R"({"a":[2,1]})"));
  EXPECT_TRUE(Eval(R"({"a":{"x":1,"y":2}})", R"({"a":{"x":1,"y":2}})"));
  EXPECT_FALSE(Eval(R"({"a":{"x":1,"y":2}})", R"({"a":{"y":2,"x":1}})"));  // key order matters
  // ...except that JavaScript lists integer keys first, in numeric order.
  EXPECT_TRUE(Eval(R"({"a":{"b":1,"2":2,"1":3}})", R"({"a":{"1":3,"b":1,"2":2}})"));
  EXPECT_TRUE(Eval(R"({"a":[1e400]})", R"({"a":[null]})"));  // Infinity stringifies as null
  EXPECT_TRUE(Eval(R"({"a":{}})", R"({"a":{}})"));
  EXPECT_TRUE(Eval(R"({"a":[]})", R"({"a":[]})"));
}

TEST(CondEqualityTest, EqAndNeAreStrict) {
  EXPECT_TRUE(Eval(R"({"a":{"$eq":"30"}})", R"({"a":"30"})"));
  EXPECT_FALSE(Eval(R"({"a":{"$eq":"30"}})", R"({"a":30})"));
  EXPECT_FALSE(Eval(R"({"a":{"$eq":[1]}})", R"({"a":[1]})"));  // distinct objects
  EXPECT_TRUE(Eval(R"({"a":{"$ne":[1]}})", R"({"a":[1]})"));
  EXPECT_TRUE(Eval(R"({"a":{"$eq":null}})", R"({})"));
  EXPECT_FALSE(Eval(R"({"a":{"$eq":false}})", R"({})"));
}

TEST(CondMembershipTest, InAndNin) {
  EXPECT_TRUE(Eval(R"({"a":{"$in":["x",2]}})", R"({"a":2})"));
  EXPECT_FALSE(Eval(R"({"a":{"$in":["2"]}})", R"({"a":2})"));             // strict
  EXPECT_TRUE(Eval(R"({"a":{"$in":["b","z"]}})", R"({"a":["a","b"]})"));  // intersection
  EXPECT_FALSE(Eval(R"({"a":{"$in":[]}})", R"({"a":[]})"));
  EXPECT_FALSE(Eval(R"({"a":{"$in":"abc"}})", R"({"a":"abc"})"));  // not an array
  EXPECT_FALSE(Eval(R"({"a":{"$nin":"abc"}})", R"({"a":"x"})"));   // not an array either
  EXPECT_TRUE(Eval(R"({"a":{"$nin":["x"]}})", R"({"a":["y"]})"));
  EXPECT_TRUE(Eval(R"({"a":{"$in":[null]}})", R"({})"));
  EXPECT_FALSE(Eval(R"({"a":{"$in":[[1]]}})", R"({"a":[[1]]})"));
}

TEST(CondMembershipTest, LongListsAreIndexedWithTheSameAnswers) {
  std::string list;
  for (int i = 0; i < 100; ++i) list += "\"id" + std::to_string(i) + "\",";
  list += "7,null";
  const std::string in = R"({"a":{"$in":[)" + list + "]}}";
  const std::string nin = R"({"a":{"$nin":[)" + list + "]}}";
  const std::string ini = R"({"a":{"$ini":[)" + list + "]}}";
  EXPECT_TRUE(Eval(in, R"({"a":"id0"})"));
  EXPECT_TRUE(Eval(in, R"({"a":"id99"})"));
  EXPECT_TRUE(Eval(in, R"({"a":["x","id42"]})"));
  EXPECT_TRUE(Eval(in, R"({"a":7})"));
  EXPECT_TRUE(Eval(in, R"({})"));
  EXPECT_FALSE(Eval(in, R"({"a":"id100"})"));
  EXPECT_FALSE(Eval(in, R"({"a":"7"})"));
  EXPECT_FALSE(Eval(nin, R"({"a":"id5"})"));
  EXPECT_TRUE(Eval(nin, R"({"a":"ID5"})"));
  EXPECT_TRUE(Eval(ini, R"({"a":"ID5"})"));
}

TEST(CondMembershipTest, CaseInsensitiveVariants) {
  EXPECT_TRUE(Eval(R"({"a":{"$ini":["GOLD"]}})", R"({"a":"gold"})"));
  EXPECT_TRUE(Eval(R"({"a":{"$ini":["É"]}})", R"({"a":["x","é"]})"));
  EXPECT_FALSE(Eval(R"({"a":{"$ini":["1"]}})", R"({"a":1})"));  // only strings fold
  EXPECT_TRUE(Eval(R"({"a":{"$nini":["us"]}})", R"({"a":"CA"})"));
  EXPECT_FALSE(Eval(R"({"a":{"$nini":["us"]}})", R"({"a":"US"})"));
  EXPECT_TRUE(Eval(R"({"a":{"$ini":["ος"]}})", R"({"a":"ΟΣ"})"));  // final sigma
}

TEST(CondMembershipTest, AllAndAlli) {
  EXPECT_TRUE(Eval(R"({"a":{"$all":["x","y"]}})", R"({"a":["y","z","x"]})"));
  EXPECT_FALSE(Eval(R"({"a":{"$all":["x","y"]}})", R"({"a":["x"]})"));
  EXPECT_TRUE(Eval(R"({"a":{"$all":[]}})", R"({"a":[]})"));
  EXPECT_FALSE(Eval(R"({"a":{"$all":[]}})", R"({"a":"x"})"));
  EXPECT_TRUE(Eval(R"({"a":{"$all":[{"$gt":5}]}})", R"({"a":[1,7]})"));  // elements are conditions
  EXPECT_TRUE(Eval(R"({"a":{"$alli":["GOLD","x"]}})", R"({"a":["gold","X"]})"));
  EXPECT_TRUE(Eval(R"({"a":{"$alli":["a,b"]}})", R"({"a":[["A","B"]]})"));  // String(value)
  EXPECT_FALSE(Eval(R"({"a":{"$alli":"x"}})", R"({"a":["x"]})"));
}

TEST(CondMembershipTest, SavedGroupsDoNotExist) {
  EXPECT_FALSE(Eval(R"({"a":{"$inGroup":"g"}})", R"({"a":1})"));
  EXPECT_TRUE(Eval(R"({"a":{"$notInGroup":"g"}})", R"({"a":1})"));
}

TEST(CondMembershipTest, SavedGroupsWhenGiven) {
  const Value groups = Json(R"({"g":[1,"2"]})");
  auto node = CompiledNode::Compile(Json(R"({"a":{"$inGroup":"g"}})"), &groups);
  ASSERT_TRUE(node.ok());
  EXPECT_TRUE((*node)->Evaluate(Json(R"({"a":1})")));
  EXPECT_FALSE((*node)->Evaluate(Json(R"({"a":2})")));
}

TEST(CondComparisonTest, NumbersAndStrings) {
  EXPECT_TRUE(Eval(R"({"a":{"$gt":30}})", R"({"a":"31"})"));
  EXPECT_TRUE(Eval(R"({"a":{"$lt":"10"}})", R"({"a":9})"));
  EXPECT_FALSE(Eval(R"({"a":{"$lt":"10"}})", R"({"a":"9"})"));  // string order
  EXPECT_TRUE(Eval(R"({"a":{"$gte":0,"$lte":0}})", R"({})"));   // null as 0
  EXPECT_TRUE(Eval(R"({"a":{"$lt":1}})", R"({"a":false})"));
  EXPECT_FALSE(Eval(R"({"a":{"$lt":1,"$gte":1}})", R"({"a":"abc"})"));  // NaN: all false
  EXPECT_FALSE(Eval(R"({"a":{"$lte":1}})", R"({"a":"abc"})"));
  EXPECT_TRUE(Eval(R"({"a":{"$gt":"a"}})", R"({"a":["b","c"]})"));  // "b,c" > "a"
  EXPECT_TRUE(Eval(R"({"a":{"$eq":"[object Object]"}})", R"({"a":"[object Object]"})"));
  EXPECT_TRUE(Eval(R"({"a":{"$gte":"[object Object]"}})", R"({"a":{}})"));
  EXPECT_TRUE(Eval(R"({"a":{"$gt":"\ufff0"}})", R"({"a":"\ud83d\ude00"})") == false);
  EXPECT_TRUE(Eval(R"({"a":{"$lt":"\ufff0"}})", R"({"a":"😀"})"));  // UTF-16 order
}

TEST(CondExistsTypeSizeTest, Exists) {
  EXPECT_TRUE(Eval(R"({"a.b":{"$exists":true}})", R"({"a":{"b":0}})"));
  EXPECT_FALSE(Eval(R"({"a.b":{"$exists":true}})", R"({"a":{"b":null}})"));
  EXPECT_TRUE(Eval(R"({"a":{"$exists":0}})", R"({})"));  // operand truthiness
  EXPECT_TRUE(Eval(R"({"a":{"$exists":"x"}})", R"({"a":1})"));
}

TEST(CondExistsTypeSizeTest, Type) {
  EXPECT_TRUE(Eval(R"({"a":{"$type":"array"}})", R"({"a":[]})"));
  EXPECT_TRUE(Eval(R"({"a":{"$type":"object"}})", R"({"a":{}})"));
  EXPECT_TRUE(Eval(R"({"a":{"$type":"null"}})", R"({})"));
  EXPECT_TRUE(Eval(R"({"a":{"$type":"number"}})", R"({"a":-0.5})"));
  EXPECT_TRUE(Eval(R"({"a":{"$type":"boolean"}})", R"({"a":false})"));
  EXPECT_FALSE(Eval(R"({"a":{"$type":"undefined"}})", R"({})"));
  EXPECT_FALSE(Eval(R"({"a":{"$type":5}})", R"({"a":5})"));
}

TEST(CondExistsTypeSizeTest, Size) {
  EXPECT_TRUE(Eval(R"({"a":{"$size":2}})", R"({"a":[0,0]})"));
  EXPECT_TRUE(Eval(R"({"a":{"$size":"2"}})", R"({"a":[0,0]})"));  // "2" === String(2)
  EXPECT_TRUE(Eval(R"({"a":{"$size":{"$gte":1}}})", R"({"a":[0]})"));
  EXPECT_FALSE(Eval(R"({"a":{"$size":3}})", R"({"a":"abc"})"));
}

TEST(CondElemMatchTest, OperatorsAndNestedConditions) {
  EXPECT_TRUE(Eval(R"({"a":{"$elemMatch":{"$gt":10}}})", R"({"a":[1,11]})"));
  EXPECT_TRUE(
      Eval(R"({"a":{"$elemMatch":{"n":{"$regex":"^p"}}}})", R"({"a":[{"n":"x"},{"n":"pp"}]})"));
  EXPECT_FALSE(Eval(R"({"a":{"$elemMatch":{"$gt":10}}})", R"({"a":20})"));
}

TEST(CondElemMatchTest, FalsyElementsAreSkipped) {
  EXPECT_FALSE(Eval(R"({"a":{"$elemMatch":{"$eq":0}}})", R"({"a":[0]})"));
  EXPECT_FALSE(Eval(R"({"a":{"$elemMatch":{"$eq":""}}})", R"({"a":["",null,false]})"));
  EXPECT_TRUE(Eval(R"({"a":{"$elemMatch":{"$eq":1}}})", R"({"a":[0,1]})"));
}

TEST(CondElemMatchTest, NonObjectOperands) {
  EXPECT_TRUE(Eval(R"({"a":{"$elemMatch":5}})", R"({"a":[1]})"));  // no entries: vacuous
  EXPECT_TRUE(Eval(R"({"a":{"$elemMatch":{}}})", R"({"a":[1]})"));
  EXPECT_FALSE(Eval(R"({"a":{"$elemMatch":{}}})", R"({"a":[]})"));
  // A string operand is an object of its characters.
  EXPECT_TRUE(Eval(R"({"a":{"$elemMatch":"xy"}})", R"({"a":[["x","y"]]})"));
  // Object.keys(null) throws once the attribute is an array.
  EXPECT_EQ(EvalTruth(R"({"a":{"$elemMatch":null}})", R"({"a":[1]})"), Truth::kThrow);
  EXPECT_EQ(EvalTruth(R"({"a":{"$elemMatch":null}})", R"({"a":1})"), Truth::kFalse);
}

TEST(CondLogicalTest, AndOrNorNot) {
  EXPECT_TRUE(Eval(R"({"$or":[{"a":1},{"b":1}]})", R"({"b":1})"));
  EXPECT_FALSE(Eval(R"({"$or":[{"a":1},{"b":1}]})", R"({})"));
  EXPECT_TRUE(Eval(R"({"$or":[]})", R"({})"));
  EXPECT_TRUE(Eval(R"({"$and":[]})", R"({})"));
  EXPECT_FALSE(Eval(R"({"$nor":[]})", R"({})"));
  EXPECT_TRUE(Eval(R"({"$nor":[{"a":1}]})", R"({"a":2})"));
  EXPECT_TRUE(Eval(R"({"$not":{"a":1}})", R"({"a":2})"));
  EXPECT_TRUE(Eval(R"({"a":{"$not":{"$gt":5}}})", R"({"a":2})"));
  EXPECT_TRUE(Eval(R"({"a":{"$not":5}})", R"({"a":2})"));
  EXPECT_FALSE(Eval(R"({"a":{"$or":[]}})", R"({"a":2})"));  // not an operator at value level
}

TEST(CondLogicalTest, OddOperandsFollowTheSdkLoops) {
  EXPECT_TRUE(Eval(R"({"$or":5})", R"({})"));  // (5).length is undefined
  EXPECT_TRUE(Eval(R"({"$and":true})", R"({})"));
  EXPECT_FALSE(Eval(R"({"$or":"ab"})", R"({})"));  // "a" is {"0":"a"}: getPath("0") is null
  EXPECT_TRUE(Eval(R"({"$or":"a"})", R"({"0":"a"})"));
  EXPECT_TRUE(Eval(R"({"$and":[[{"x":1}]]})", R"({"0":{"x":1}})"));
  EXPECT_TRUE(Eval(R"({"$or":{"length":1,"0":{"a":1}}})", R"({"a":1})"));
  EXPECT_EQ(EvalTruth(R"({"$and":null})", R"({})"), Truth::kThrow);
  EXPECT_EQ(EvalTruth(R"({"$not":null})", R"({})"), Truth::kThrow);
  EXPECT_EQ(EvalTruth(R"({"$or":{"length":2,"0":{"a":2}}})", R"({})"), Truth::kThrow);
  // A throw is a throw even under negation, and the condition is false.
  EXPECT_EQ(EvalTruth(R"({"$nor":[{"$and":null}]})", R"({})"), Truth::kThrow);
  EXPECT_FALSE(Eval(R"({"$nor":[{"$and":null}]})", R"({})"));
}

TEST(CondLogicalTest, EntriesRunInJavaScriptKeyOrder) {
  // Integer keys come first: the false "1" clause runs before the throwing one.
  EXPECT_EQ(EvalTruth(R"({"$and":null,"1":"x"})", R"({})"), Truth::kFalse);
  EXPECT_EQ(EvalTruth(R"({"1":null,"$and":null})", R"({"1":2})"), Truth::kFalse);
  EXPECT_EQ(EvalTruth(R"({"$and":null,"b":"x"})", R"({})"), Truth::kThrow);
}

TEST(CondPathTest, DotsIndicesAndLength) {
  EXPECT_TRUE(Eval(R"({"a.b.c":1})", R"({"a":{"b":{"c":1}}})"));
  EXPECT_TRUE(Eval(R"({"a.1":"y"})", R"({"a":["x","y"]})"));
  EXPECT_TRUE(Eval(R"({"a.01":null})", R"({"a":["x","y"]})"));  // not an index
  EXPECT_TRUE(Eval(R"({"a.length":2})", R"({"a":["x","y"]})"));
  EXPECT_TRUE(Eval(R"({"a.length":null})", R"({"a":"xy"})"));  // strings are not objects
  EXPECT_TRUE(Eval(R"({"a.length":5})", R"({"a":{"length":5}})"));
  EXPECT_TRUE(Eval(R"({"a.0.b":1})", R"({"a":[{"b":1}]})"));
  EXPECT_TRUE(Eval(R"({"":1,"a.":2})", R"({"":1,"a":{"":2}})"));
  EXPECT_TRUE(Eval(R"({"0":"x"})", R"(["x"])"));  // attributes need not be an object
}

TEST(CondVersionTest, Operators) {
  EXPECT_TRUE(Eval(R"({"v":{"$vgt":"1.2.9","$vlt":"1.10.0"}})", R"({"v":"1.2.10"})"));
  EXPECT_TRUE(Eval(R"({"v":{"$veq":"1.2.3"}})", R"({"v":"v1.2.3+build"})"));
  EXPECT_TRUE(Eval(R"({"v":{"$vlt":"1.0.0"}})", R"({"v":"1.0.0-rc.1"})"));
  EXPECT_TRUE(Eval(R"({"v":{"$vgte":2}})", R"({"v":"2"})"));
  EXPECT_TRUE(Eval(R"({"v":{"$veq":"0"}})", R"({})"));  // anything else pads as "0"
  EXPECT_TRUE(Eval(R"({"v":{"$vne":"1.2.3"}})", R"({"v":"1.2.3-a"})"));
  EXPECT_TRUE(Eval(R"({"v":{"$vlte":"1.2.3"}})", R"({"v":"1.2.3"})"));
}

TEST(CondRegexOperatorTest, MatchesStringForm) {
  EXPECT_TRUE(Eval(R"({"a":{"$regex":"-12-25$"}})", R"({"a":"1980-12-25"})"));
  EXPECT_TRUE(Eval(R"({"a":{"$regex":"^nu"}})", R"({})"));  // String(null)
  EXPECT_TRUE(Eval(R"({"a":{"$regex":"^1e\\+21$"}})", R"({"a":1e21})"));
  EXPECT_TRUE(Eval(R"({"a":{"$regexi":"^GOLD$"}})", R"({"a":"gold"})"));
  EXPECT_FALSE(Eval(R"({"a":{"$regex":"^GOLD$"}})", R"({"a":"gold"})"));
  EXPECT_FALSE(Eval(R"({"a":{"$regex":"("}})", R"({"a":"("})"));        // invalid pattern
  EXPECT_FALSE(Eval(R"({"a":{"$regex":5}})", R"({"a":5})"));            // not a string
  EXPECT_FALSE(Eval(R"j({"a":{"$regex":"(?=a)"}})j", R"({"a":"a"})"));  // lookahead: RE2 cannot
}

TEST(CondUnknownOperatorTest, IsFalse) {
  EXPECT_FALSE(Eval(R"({"a":{"$bogus":1}})", R"({"a":1})"));
  // Not all keys start with "$": plain JSON equality.
  EXPECT_TRUE(Eval(R"({"a":{"$eq":1,"b":2}})", R"({"a":{"$eq":1,"b":2}})"));
}

TEST(CondConditionTest, CopiesShareTheTreeAndEvaluateAlike) {
  auto compiled = Condition::Compile(R"({"a":{"$in":[1,2]}})");
  ASSERT_TRUE(compiled.ok());
  const Condition copy = *compiled;
  const Value attrs = Json(R"({"a":2})");
  EXPECT_TRUE(copy.Evaluate(attrs));
  EXPECT_TRUE(compiled->Evaluate(attrs));
}

TEST(CondConditionTest, DefaultConstructedMatchesNothing) {
  const Condition c;
  EXPECT_FALSE(c.Evaluate(Value()));
}

TEST(CondConditionTest, NestingUpToTheLimitEvaluates) {
  std::string json = R"({"a":1})";
  for (int i = 0; i < 900; ++i) json = R"({"$not":)" + json + "}";
  EXPECT_TRUE(Eval(json, R"({"a":1})"));  // an even number of negations
  EXPECT_FALSE(Eval(json, R"({"a":2})"));
}

TEST(CondEvalLineTest, ErrorsAndAnswers) {
  EXPECT_EQ(EvalLine(R"([{"a":1},{"a":1}])"), "true");
  EXPECT_EQ(EvalLine(R"([{"a":1},{"a":2}])"), "false");
  EXPECT_EQ(EvalLine(R"([{"a":1},5])"), "false");
  EXPECT_EQ(EvalLine(R"([{"$and":null},{}])"), "false");
  EXPECT_EQ(EvalLine(R"([{"a":1}])"), "error");
  EXPECT_EQ(EvalLine(R"([{"a":1},{},{}])"), "error");
  EXPECT_EQ(EvalLine(R"([[],{}])"), "error");
  EXPECT_EQ(EvalLine(R"({"a":1})"), "error");
  EXPECT_EQ(EvalLine("not json"), "error");
  EXPECT_EQ(EvalLine(""), "error");
  EXPECT_EQ(EvalLine(R"([{"a":123456789012345678901234567890},{"a":1.2345678901234568e29}])"),
            "true");
}

}  // namespace
}  // namespace tempo::cond
