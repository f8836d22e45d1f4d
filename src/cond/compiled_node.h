// The compiled form of a GrowthBook condition (internal to cond/).
//
// The tree mirrors the SDK's functions: a ConditionExpr is evalCondition()
// of one condition value, a ValueTest is evalConditionValue(), an
// OperatorTest is evalOperatorCondition(). Everything that depends only on
// the condition is done at compile time: operator names resolved, dot paths
// split and hashed, regexes compiled, version operands padded, comparison
// operands converted to primitives, JavaScript key order applied.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cond/js_value.h"
#include "cond/value.h"

namespace tempo::cond {

class EcmaScriptRegex;

// The outcome of evaluating part of a condition. On some malformed
// conditions (e.g. {"$and": null}) the SDK throws a TypeError; kThrow carries
// that to the top, where the condition counts as false.
enum class Truth : uint8_t { kFalse, kTrue, kThrow };

struct ValueTest;
struct ConditionExpr;

// One segment of a dot path, with what getPath() needs precomputed.
struct PathSegment {
  std::string key;
  uint32_t hash = 0;       // Value::HashKey(key)
  bool is_index = false;   // key is a canonical array index
  uint32_t index = 0;      // when is_index
  bool is_length = false;  // key == "length" (arrays have it)
};

// evalOperatorCondition(op, actual, expected) with `expected` prepared.
struct OperatorTest {
  enum class Op : uint8_t {
    kVersionEq,
    kVersionNe,
    kVersionGt,
    kVersionGte,
    kVersionLt,
    kVersionLte,
    kEq,
    kNe,
    kLt,
    kLte,
    kGt,
    kGte,
    kExists,
    kIn,
    kNin,
    kIni,
    kNini,
    kInGroup,
    kNotInGroup,
    kNot,
    kSize,
    kElemMatch,
    kAll,
    kAlli,
    kRegex,
    kType,
    kUnknown,
  };

  Op op = Op::kUnknown;
  // $eq/$ne: the operand. $in family: an array of the candidates (strings
  // lowercased for $ini/$nini).
  Value operand;
  // $in/$nin/$ini/$nini/$all/$alli: false when the operand is not an array,
  // which makes the operator false.
  bool operand_is_array = false;
  // The $in family's string candidates, sorted, when there are many: a
  // string attribute is then looked up in O(log n). Views into `operand`.
  std::vector<std::string_view> sorted_strings;
  // Version operators: paddedVersionString(operand).
  std::string padded_version;
  // $lt/$lte/$gt/$gte: ToPrimitive(operand), with Number() of a string.
  bool primitive_is_string = false;
  std::string primitive_text;
  double primitive_number = 0;
  // $exists: whether the operand is truthy.
  bool exists = false;
  // $not, $size, and $elemMatch with an operator object.
  std::unique_ptr<ValueTest> value_test;
  // $elemMatch with anything else: evalCondition(element, operand).
  std::unique_ptr<ConditionExpr> element_condition;
  // $elemMatch with a null operand: Object.keys(null) throws once the
  // attribute is an array.
  bool throws_on_array = false;
  // $all/$alli: one test per operand element.
  std::vector<ValueTest> all;
  // $regex/$regexi; null when the operand is no string or does not compile.
  std::shared_ptr<const EcmaScriptRegex> regex;
  // $type: the getType() result asked for; nullopt matches nothing.
  std::optional<JsType> type;
};

// evalConditionValue(condition, value, insensitive).
struct ValueTest {
  enum class Kind : uint8_t {
    kStringEquals,  // String(value) === text
    kNumberEquals,  // value * 1 === number
    kBoolEquals,    // value !== null && !!value === boolean
    kIsNull,        // value === null
    kJsonEquals,    // JSON.stringify(value) === JSON.stringify(json)
    kOperators,     // every operator holds
  };

  Kind kind = Kind::kIsNull;
  bool insensitive = false;  // kStringEquals compares lowercased ($alli)
  std::string text;          // lowercased when insensitive
  double number = 0;
  bool boolean = false;
  Value json;
  std::vector<OperatorTest> operators;
};

// The operand of $or/$and/$nor seen as the SDK's loops see it.
struct ConditionList {
  bool throws = false;               // null: reading .length throws
  bool no_length = false;            // !conditions.length (then $or holds)
  std::vector<ConditionExpr> items;  // conditions[i] while i < length
};

// One [key, value] entry of a condition object.
struct Clause {
  enum class Kind : uint8_t { kPath, kOr, kNor, kAnd, kNot };

  Kind kind = Kind::kPath;
  std::vector<PathSegment> path;           // kPath
  ValueTest test;                          // kPath
  ConditionList list;                      // kOr, kNor, kAnd
  std::unique_ptr<ConditionExpr> negated;  // kNot
};

// evalCondition(obj, condition).
struct ConditionExpr {
  bool throws = false;          // Object.entries(null) throws
  std::vector<Clause> clauses;  // in JavaScript enumeration order
};

// The root of a compiled condition.
class CompiledNode {
 public:
  // Compiles `condition` (REQUIRES: an object, else InvalidArgument).
  // `saved_groups` maps group ids to arrays of values for $inGroup and
  // $notInGroup; nullptr means no saved groups exist (SPEC §11.26).
  static Result<std::shared_ptr<const CompiledNode>> Compile(const Value& condition,
                                                             const Value* saved_groups);

  // True when `attributes` satisfies the condition (a throw counts as false).
  bool Evaluate(const Value& attributes) const;

  // The raw outcome, kThrow included (for tests).
  Truth EvaluateTruth(const Value& attributes) const;

  // Heap bytes of the compiled tree, walked container by container.
  size_t HeapBytes() const;

 private:
  ConditionExpr root_;
};

}  // namespace tempo::cond
