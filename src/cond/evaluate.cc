// Evaluating a CompiledNode tree against attributes, as the SDK's
// mongrule.ts does. The common cases (string and number equality, paths into
// objects, comparisons, versions, regexes on strings) allocate nothing.
#include <algorithm>
#include <optional>

#include "cond/compiled_node.h"
#include "cond/js_string.h"
#include "cond/regex.h"
#include "cond/text_buffer.h"
#include "cond/version.h"

namespace tempo::cond {
namespace {

using Op = OperatorTest::Op;

const Value& Null() {
  static const Value kNull;
  return kNull;
}

Truth FromBool(bool b) { return b ? Truth::kTrue : Truth::kFalse; }

Truth EvalCondition(const ConditionExpr& e, const Value& obj);
Truth EvalValueTest(const ValueTest& t, const Value& value);

// getPath(): missing steps give null; arrays answer indices and "length"
// (the length is materialized in `scratch`). Only own members count: the
// SDK's `in` would also find inherited ones ("constructor", "toString"),
// which attributes built from JSON never name on purpose.
const Value& GetPath(const Value& obj, const std::vector<PathSegment>& path, Value* scratch) {
  const Value* current = &obj;
  for (const PathSegment& s : path) {
    if (current->is_object()) {
      current = current->Find(s.key, s.hash);
      if (current == nullptr) return Null();
    } else if (current->is_array()) {
      const auto& items = current->array_items();
      if (s.is_index && s.index < items.size()) {
        current = &items[s.index];
      } else if (s.is_length) {
        *scratch = Value::Number(static_cast<double>(items.size()));
        current = scratch;
      } else {
        return Null();
      }
    } else {
      return Null();
    }
  }
  return *current;
}

bool HasString(const OperatorTest& t, std::string_view s) {
  if (!t.sorted_strings.empty()) {
    return std::binary_search(t.sorted_strings.begin(), t.sorted_strings.end(), s);
  }
  for (const Value& c : t.operand.array_items()) {
    if (c.is_string() && c.string_value() == s) return true;
  }
  return false;
}

// isIn(): membership in t.operand, or intersection when `actual` is an
// array. With `insensitive`, strings compare lowercased (the candidates
// already are).
bool IsIn(const Value& actual, const OperatorTest& t, bool insensitive) {
  auto matches = [&](const Value& v) {
    if (v.is_string()) {
      if (!insensitive) return HasString(t, v.string_value());
      TextBuffer lowered;
      AppendLowercase(v.string_value(), &lowered);
      return HasString(t, lowered.view());
    }
    // Non-strings do not fold: === (which differs from SameValueZero only
    // for NaN, and NaN never comes from JSON).
    for (const Value& c : t.operand.array_items()) {
      if (SameValueZero(v, c)) return true;
    }
    return false;
  };
  if (actual.is_array()) {
    for (const Value& v : actual.array_items()) {
      if (matches(v)) return true;
    }
    return false;
  }
  return matches(actual);
}

// paddedVersionString(actual), computed once for all the version operators
// of one operator object ({"$vgte": .., "$vlt": ..} pads the attribute once).
class PaddedActual {
 public:
  explicit PaddedActual(const Value& actual) : actual_(actual) {}
  std::string_view Get() {
    if (!padded_) AppendPaddedVersion(actual_, &padded_.emplace());
    return padded_->view();
  }

 private:
  const Value& actual_;
  std::optional<TextBuffer> padded_;  // built on first use only
};

Truth EvalVersion(const OperatorTest& t, PaddedActual* padded) {
  const int c = CompareUtf16(padded->Get(), t.padded_version);
  switch (t.op) {
    case Op::kVersionEq:
      return FromBool(c == 0);
    case Op::kVersionNe:
      return FromBool(c != 0);
    case Op::kVersionGt:
      return FromBool(c > 0);
    case Op::kVersionGte:
      return FromBool(c >= 0);
    case Op::kVersionLt:
      return FromBool(c < 0);
    default:
      return FromBool(c <= 0);
  }
}

Truth EvalRelational(const OperatorTest& t, const Value& actual) {
  Primitive expected;
  expected.is_string = t.primitive_is_string;
  expected.text = t.primitive_text;
  expected.number = t.primitive_number;
  std::string storage;
  const Primitive a = ToPrimitive(actual, &storage, /*want_number=*/!expected.is_string);
  switch (t.op) {
    case Op::kLt:
      return FromBool(IsLessThan(a, expected) == LessThan::kTrue);
    case Op::kLte:
      return FromBool(IsLessThan(expected, a) == LessThan::kFalse);
    case Op::kGt:
      return FromBool(IsLessThan(expected, a) == LessThan::kTrue);
    default:
      return FromBool(IsLessThan(a, expected) == LessThan::kFalse);
  }
}

Truth EvalElemMatch(const OperatorTest& t, const Value& actual) {
  if (!actual.is_array()) return Truth::kFalse;
  if (t.throws_on_array) return Truth::kThrow;
  for (const Value& item : actual.array_items()) {
    if (!IsTruthy(item)) continue;  // `if (actual[i] && check(actual[i]))`
    const Truth r = t.value_test != nullptr ? EvalValueTest(*t.value_test, item)
                                            : EvalCondition(*t.element_condition, item);
    if (r != Truth::kFalse) return r;
  }
  return Truth::kFalse;
}

Truth EvalAll(const OperatorTest& t, const Value& actual) {
  if (!t.operand_is_array || !actual.is_array()) return Truth::kFalse;
  for (const ValueTest& test : t.all) {
    bool passed = false;
    for (const Value& item : actual.array_items()) {
      const Truth r = EvalValueTest(test, item);
      if (r == Truth::kThrow) return r;
      if (r == Truth::kTrue) {
        passed = true;
        break;
      }
    }
    if (!passed) return Truth::kFalse;
  }
  return Truth::kTrue;
}

Truth EvalOperator(const OperatorTest& t, const Value& actual, PaddedActual* padded) {
  switch (t.op) {
    case Op::kVersionEq:
    case Op::kVersionNe:
    case Op::kVersionGt:
    case Op::kVersionGte:
    case Op::kVersionLt:
    case Op::kVersionLte:
      return EvalVersion(t, padded);
    case Op::kEq:
      return FromBool(StrictEquals(actual, t.operand));
    case Op::kNe:
      return FromBool(!StrictEquals(actual, t.operand));
    case Op::kLt:
    case Op::kLte:
    case Op::kGt:
    case Op::kGte:
      return EvalRelational(t, actual);
    case Op::kExists:
      return FromBool(t.exists != actual.is_null());
    case Op::kIn:
    case Op::kInGroup:
      return FromBool(t.operand_is_array && IsIn(actual, t, false));
    case Op::kNin:
    case Op::kNotInGroup:
      return FromBool(t.operand_is_array && !IsIn(actual, t, false));
    case Op::kIni:
      return FromBool(t.operand_is_array && IsIn(actual, t, true));
    case Op::kNini:
      return FromBool(t.operand_is_array && !IsIn(actual, t, true));
    case Op::kNot: {
      const Truth r = EvalValueTest(*t.value_test, actual);
      if (r == Truth::kThrow) return r;
      return FromBool(r == Truth::kFalse);
    }
    case Op::kSize: {
      if (!actual.is_array()) return Truth::kFalse;
      const Value length = Value::Number(static_cast<double>(actual.array_items().size()));
      return EvalValueTest(*t.value_test, length);
    }
    case Op::kElemMatch:
      return EvalElemMatch(t, actual);
    case Op::kAll:
    case Op::kAlli:
      return EvalAll(t, actual);
    case Op::kRegex: {
      if (t.regex == nullptr) return Truth::kFalse;
      // test() matches against String(actual).
      JsStringBuffer buffer;
      return FromBool(t.regex->Test(JsStringOf(actual, &buffer)));
    }
    case Op::kType:
      return FromBool(t.type.has_value() && TypeOf(actual) == *t.type);
    case Op::kUnknown:
      return Truth::kFalse;
  }
  return Truth::kFalse;
}

Truth EvalValueTest(const ValueTest& t, const Value& value) {
  switch (t.kind) {
    case ValueTest::Kind::kStringEquals: {
      JsStringBuffer buffer;
      const std::string_view s = JsStringOf(value, &buffer);
      return FromBool(t.insensitive ? LowercaseEquals(s, t.text) : s == t.text);
    }
    case ValueTest::Kind::kNumberEquals:
      return FromBool(JsToNumber(value) == t.number);
    case ValueTest::Kind::kBoolEquals:
      return FromBool(!value.is_null() && IsTruthy(value) == t.boolean);
    case ValueTest::Kind::kIsNull:
      return FromBool(value.is_null());
    case ValueTest::Kind::kJsonEquals:
      return FromBool(JsonEquals(value, t.json));
    case ValueTest::Kind::kOperators: {
      PaddedActual padded(value);
      for (const OperatorTest& op : t.operators) {
        const Truth r = EvalOperator(op, value, &padded);
        if (r != Truth::kTrue) return r;
      }
      return Truth::kTrue;
    }
  }
  return Truth::kFalse;
}

// evalOr() / evalAnd().
Truth EvalList(const ConditionList& list, const Value& obj, bool any) {
  if (list.throws) return Truth::kThrow;
  if (any && list.no_length) return Truth::kTrue;
  for (const ConditionExpr& item : list.items) {
    const Truth r = EvalCondition(item, obj);
    if (r == Truth::kThrow) return r;
    if (any && r == Truth::kTrue) return Truth::kTrue;
    if (!any && r == Truth::kFalse) return Truth::kFalse;
  }
  return FromBool(!any);
}

Truth EvalCondition(const ConditionExpr& e, const Value& obj) {
  if (e.throws) return Truth::kThrow;
  for (const Clause& c : e.clauses) {
    Truth r = Truth::kTrue;
    switch (c.kind) {
      case Clause::Kind::kPath: {
        Value scratch;
        r = EvalValueTest(c.test, GetPath(obj, c.path, &scratch));
        break;
      }
      case Clause::Kind::kOr:
        r = EvalList(c.list, obj, /*any=*/true);
        break;
      case Clause::Kind::kNor:
        r = EvalList(c.list, obj, /*any=*/true);
        if (r != Truth::kThrow) r = FromBool(r == Truth::kFalse);
        break;
      case Clause::Kind::kAnd:
        r = EvalList(c.list, obj, /*any=*/false);
        break;
      case Clause::Kind::kNot:
        r = EvalCondition(*c.negated, obj);
        if (r != Truth::kThrow) r = FromBool(r == Truth::kFalse);
        break;
    }
    if (r != Truth::kTrue) return r;
  }
  return Truth::kTrue;
}

}  // namespace

Truth CompiledNode::EvaluateTruth(const Value& attributes) const {
  return EvalCondition(root_, attributes);
}

bool CompiledNode::Evaluate(const Value& attributes) const {
  return EvaluateTruth(attributes) == Truth::kTrue;
}

}  // namespace tempo::cond
