// Compiling a condition Value into the CompiledNode tree.
#include <algorithm>
#include <string_view>

#include "cond/compiled_node.h"
#include "cond/js_string.h"
#include "cond/regex.h"
#include "cond/text_buffer.h"
#include "cond/version.h"

namespace tempo::cond {
namespace {

// $in lists longer than this get a sorted index of their strings; shorter
// ones are scanned, which is faster for a handful of candidates.
constexpr size_t kMaxScannedCandidates = 16;

// Conditions nest at most this deep; deeper ones are rejected rather than
// risk the stack (JSON parsing already stops at the same depth).
constexpr int kMaxConditionDepth = 1024;

struct OperatorName {
  std::string_view name;
  OperatorTest::Op op;
};

constexpr OperatorName kOperators[] = {
    {"$veq", OperatorTest::Op::kVersionEq},
    {"$vne", OperatorTest::Op::kVersionNe},
    {"$vgt", OperatorTest::Op::kVersionGt},
    {"$vgte", OperatorTest::Op::kVersionGte},
    {"$vlt", OperatorTest::Op::kVersionLt},
    {"$vlte", OperatorTest::Op::kVersionLte},
    {"$eq", OperatorTest::Op::kEq},
    {"$ne", OperatorTest::Op::kNe},
    {"$lt", OperatorTest::Op::kLt},
    {"$lte", OperatorTest::Op::kLte},
    {"$gt", OperatorTest::Op::kGt},
    {"$gte", OperatorTest::Op::kGte},
    {"$exists", OperatorTest::Op::kExists},
    {"$in", OperatorTest::Op::kIn},
    {"$nin", OperatorTest::Op::kNin},
    {"$ini", OperatorTest::Op::kIni},
    {"$nini", OperatorTest::Op::kNini},
    {"$inGroup", OperatorTest::Op::kInGroup},
    {"$notInGroup", OperatorTest::Op::kNotInGroup},
    {"$not", OperatorTest::Op::kNot},
    {"$size", OperatorTest::Op::kSize},
    {"$elemMatch", OperatorTest::Op::kElemMatch},
    {"$all", OperatorTest::Op::kAll},
    {"$alli", OperatorTest::Op::kAlli},
    {"$regex", OperatorTest::Op::kRegex},
    {"$regexi", OperatorTest::Op::kRegex},
    {"$type", OperatorTest::Op::kType},
};

struct TypeName {
  std::string_view name;
  JsType type;
};

constexpr TypeName kTypeNames[] = {
    {"null", JsType::kNull},     {"boolean", JsType::kBoolean}, {"number", JsType::kNumber},
    {"string", JsType::kString}, {"array", JsType::kArray},     {"object", JsType::kObject},
};

// isOperatorObject(): a non-empty object whose keys all start with '$'.
// (Strings and arrays have index keys, so they never are.)
bool IsOperatorObject(const Value& v) {
  if (!v.is_object() || v.object_members().empty()) return false;
  for (const auto& m : v.object_members()) {
    if (m.first.empty() || m.first[0] != '$') return false;
  }
  return true;
}

std::vector<PathSegment> SplitPath(std::string_view path) {
  std::vector<PathSegment> segments;
  size_t begin = 0;
  for (;;) {
    size_t end = path.find('.', begin);
    if (end == std::string_view::npos) end = path.size();
    PathSegment s;
    s.key = std::string(path.substr(begin, end - begin));
    s.hash = Value::HashKey(s.key);
    s.is_index = IsArrayIndex(s.key, &s.index);
    s.is_length = s.key == "length";
    segments.push_back(std::move(s));
    if (end == path.size()) break;
    begin = end + 1;
  }
  return segments;
}

// Strings lowercased, for case-insensitive membership.
Value LowercaseStrings(const Value& array) {
  std::vector<Value> items;
  items.reserve(array.array_items().size());
  for (const Value& v : array.array_items()) {
    if (v.is_string()) {
      std::string lowered;
      AppendLowercase(v.string_value(), &lowered);
      items.push_back(Value::String(std::move(lowered)));
    } else {
      items.push_back(v);
    }
  }
  return Value::Array(std::move(items));
}

// Fills t->sorted_strings from t->operand (an array) when it is long.
void IndexCandidates(OperatorTest* t) {
  const auto& items = t->operand.array_items();
  if (items.size() <= kMaxScannedCandidates) return;
  for (const Value& v : items) {
    if (v.is_string()) t->sorted_strings.push_back(v.string_value());
  }
  std::sort(t->sorted_strings.begin(), t->sorted_strings.end());
}

class Compiler {
 public:
  explicit Compiler(const Value* saved_groups) : saved_groups_(saved_groups) {}

  const Status& status() const { return status_; }

  ConditionExpr CompileCondition(const Value& c) {
    ConditionExpr e;
    if (!Enter()) return e;
    switch (c.type()) {
      case Value::Type::kNull:
        e.throws = true;
        break;
      case Value::Type::kBool:
      case Value::Type::kNumber:
        break;  // no own properties: vacuously true
      case Value::Type::kString: {
        // Object.entries("ab") = [["0","a"],["1","b"]], by UTF-16 code unit.
        size_t index = 0;
        ForEachUtf16Unit(c.string_value(), [&](std::string unit) {
          e.clauses.push_back(PathClause(std::to_string(index++), Value::String(std::move(unit))));
        });
        break;
      }
      case Value::Type::kArray: {
        const auto& items = c.array_items();
        for (size_t i = 0; i < items.size(); ++i) {
          e.clauses.push_back(PathClause(std::to_string(i), items[i]));
        }
        break;
      }
      case Value::Type::kObject: {
        const auto& members = c.object_members();
        for (size_t position : JsKeyOrder(c)) {
          const auto& [key, value] = members[position];
          Clause clause;
          if (key == "$or" || key == "$nor" || key == "$and") {
            clause.kind = key == "$or"    ? Clause::Kind::kOr
                          : key == "$nor" ? Clause::Kind::kNor
                                          : Clause::Kind::kAnd;
            clause.list = CompileList(value);
          } else if (key == "$not") {
            clause.kind = Clause::Kind::kNot;
            clause.negated = std::make_unique<ConditionExpr>(CompileCondition(value));
          } else {
            clause = PathClause(key, value);
          }
          e.clauses.push_back(std::move(clause));
        }
        break;
      }
    }
    Leave();
    return e;
  }

 private:
  bool Enter() {
    if (++depth_ <= kMaxConditionDepth) return true;
    if (status_.ok()) status_ = Status::InvalidArgument("condition nests too deeply");
    --depth_;
    return false;
  }
  void Leave() { --depth_; }

  Clause PathClause(std::string_view key, const Value& value) {
    Clause clause;
    clause.kind = Clause::Kind::kPath;
    clause.path = SplitPath(key);
    clause.test = CompileValueTest(value, /*insensitive=*/false);
    return clause;
  }

  // The operand of $or/$and/$nor, read as `conditions.length` and
  // `conditions[i]` read it.
  ConditionList CompileList(const Value& v) {
    ConditionList list;
    switch (v.type()) {
      case Value::Type::kNull:
        list.throws = true;
        break;
      case Value::Type::kBool:
      case Value::Type::kNumber:
        list.no_length = true;  // .length is undefined
        break;
      case Value::Type::kString:
        list.no_length = v.string_value().empty();
        ForEachUtf16Unit(v.string_value(), [&](std::string unit) {
          list.items.push_back(CompileCondition(Value::String(std::move(unit))));
        });
        break;
      case Value::Type::kArray:
        list.no_length = v.array_items().empty();
        for (const Value& item : v.array_items()) list.items.push_back(CompileCondition(item));
        break;
      case Value::Type::kObject: {
        // An object with a "length" member is iterated like an array; a
        // missing conditions[i] is undefined, and evalCondition throws on it.
        const Value* length = v.Find("length");
        list.no_length = length == nullptr || !IsTruthy(*length);
        if (length == nullptr) break;
        std::string storage;
        const Primitive bound = ToPrimitive(*length, &storage, /*want_number=*/true);
        const size_t max_items = v.object_members().size() + 1;
        for (size_t i = 0; i < max_items; ++i) {
          Primitive index;
          index.number = static_cast<double>(i);
          if (IsLessThan(index, bound) != LessThan::kTrue) break;
          const Value* item = v.Find(std::to_string(i));
          if (item == nullptr) {
            ConditionExpr undefined;
            undefined.throws = true;
            list.items.push_back(std::move(undefined));
            break;
          }
          list.items.push_back(CompileCondition(*item));
        }
        break;
      }
    }
    return list;
  }

  ValueTest CompileValueTest(const Value& c, bool insensitive) {
    ValueTest t;
    t.insensitive = insensitive;
    if (!Enter()) return t;
    switch (c.type()) {
      case Value::Type::kString:
        t.kind = ValueTest::Kind::kStringEquals;
        if (insensitive) {
          AppendLowercase(c.string_value(), &t.text);
        } else {
          t.text = c.string_value();
        }
        break;
      case Value::Type::kNumber:
        t.kind = ValueTest::Kind::kNumberEquals;
        t.number = c.number_value();
        break;
      case Value::Type::kBool:
        t.kind = ValueTest::Kind::kBoolEquals;
        t.boolean = c.bool_value();
        break;
      case Value::Type::kNull:
        t.kind = ValueTest::Kind::kIsNull;
        break;
      case Value::Type::kArray:
      case Value::Type::kObject:
        if (!IsOperatorObject(c)) {
          t.kind = ValueTest::Kind::kJsonEquals;
          t.json = c;
          break;
        }
        t.kind = ValueTest::Kind::kOperators;
        for (const auto& [name, operand] : c.object_members()) {
          t.operators.push_back(CompileOperator(name, operand));
        }
        break;
    }
    Leave();
    return t;
  }

  OperatorTest CompileOperator(std::string_view name, const Value& operand) {
    OperatorTest t;
    for (const auto& known : kOperators) {
      if (known.name == name) t.op = known.op;
    }
    using Op = OperatorTest::Op;
    switch (t.op) {
      case Op::kVersionEq:
      case Op::kVersionNe:
      case Op::kVersionGt:
      case Op::kVersionGte:
      case Op::kVersionLt:
      case Op::kVersionLte: {
        TextBuffer padded;
        AppendPaddedVersion(operand, &padded);
        t.padded_version = std::string(padded.view());
        break;
      }
      case Op::kEq:
      case Op::kNe:
        t.operand = operand;
        break;
      case Op::kLt:
      case Op::kLte:
      case Op::kGt:
      case Op::kGte: {
        const Primitive p = ToPrimitive(operand, &t.primitive_text, /*want_number=*/true);
        t.primitive_is_string = p.is_string;
        if (p.is_string) t.primitive_text = std::string(p.text);
        t.primitive_number = p.number;
        break;
      }
      case Op::kExists:
        t.exists = IsTruthy(operand);
        break;
      case Op::kIn:
      case Op::kNin:
        t.operand_is_array = operand.is_array();
        if (t.operand_is_array) t.operand = operand;
        IndexCandidates(&t);
        break;
      case Op::kIni:
      case Op::kNini:
        t.operand_is_array = operand.is_array();
        if (t.operand_is_array) t.operand = LowercaseStrings(operand);
        IndexCandidates(&t);
        break;
      case Op::kInGroup:
      case Op::kNotInGroup: {
        // savedGroups[expected] || []: the id is the operand's String().
        t.operand_is_array = true;
        t.operand = Value::Array({});
        if (saved_groups_ != nullptr) {
          std::string id;
          AppendJsString(operand, &id);
          const Value* group = saved_groups_->Find(id);
          if (group != nullptr && group->is_array()) t.operand = *group;
        }
        IndexCandidates(&t);
        break;
      }
      case Op::kNot:
      case Op::kSize:
        t.value_test = std::make_unique<ValueTest>(CompileValueTest(operand, false));
        break;
      case Op::kElemMatch:
        if (operand.is_null()) {
          t.throws_on_array = true;
        } else if (IsOperatorObject(operand)) {
          t.value_test = std::make_unique<ValueTest>(CompileValueTest(operand, false));
        } else {
          t.element_condition = std::make_unique<ConditionExpr>(CompileCondition(operand));
        }
        break;
      case Op::kAll:
      case Op::kAlli:
        t.operand_is_array = operand.is_array();
        if (t.operand_is_array) {
          for (const Value& item : operand.array_items()) {
            t.all.push_back(CompileValueTest(item, t.op == Op::kAlli));
          }
        }
        break;
      case Op::kRegex:
        // getRegex() calls operand.replace(): anything but a string throws,
        // which the SDK catches as false.
        if (operand.is_string()) {
          t.regex = EcmaScriptRegex::Compile(operand.string_value(), name == "$regexi");
        }
        break;
      case Op::kType:
        if (operand.is_string()) {
          for (const auto& known : kTypeNames) {
            if (known.name == operand.string_value()) t.type = known.type;
          }
        }
        break;
      case Op::kUnknown:
        break;
    }
    return t;
  }

  const Value* saved_groups_;
  int depth_ = 0;
  Status status_;
};

}  // namespace

Result<std::shared_ptr<const CompiledNode>> CompiledNode::Compile(const Value& condition,
                                                                  const Value* saved_groups) {
  if (!condition.is_object()) return Status::InvalidArgument("a condition must be a JSON object");
  Compiler compiler(saved_groups);
  auto node = std::make_shared<CompiledNode>();
  node->root_ = compiler.CompileCondition(condition);
  if (!compiler.status().ok()) return compiler.status();
  return std::shared_ptr<const CompiledNode>(std::move(node));
}

}  // namespace tempo::cond
