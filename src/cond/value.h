// Value: a JSON value as JavaScript sees it, the input and the operand type of
// the condition evaluator.
//
// A Value is null, a boolean, a number (an IEEE double, as in JavaScript), a
// UTF-8 string, an array, or an object whose members keep their insertion
// order. It is an immutable value type: the elements of an array or object
// live in one block that copies share (copying is cheap and never changes
// what either copy holds), and a Value may be read from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tempo::cond {

class Value {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, Value>;

  // null.
  Value() = default;

  static Value Bool(bool b);
  static Value Number(double n);
  static Value String(std::string s);
  static Value Array(std::vector<Value> items);
  // An object. A repeated key keeps its first position and its last value,
  // as JSON.parse does. Objects with many members get a small hash index so
  // that Find() stays fast on large attribute sets.
  static Value Object(std::vector<Member> members);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // REQUIRES: is_bool().
  bool bool_value() const { return bool_; }
  // REQUIRES: is_number().
  double number_value() const { return number_; }
  // REQUIRES: is_string().
  const std::string& string_value() const { return string_; }
  // REQUIRES: is_array().
  const std::vector<Value>& array_items() const;
  // REQUIRES: is_object(). Members in insertion order.
  const std::vector<Member>& object_members() const;

  // The value of member `key`, or nullptr when absent or when this is not an
  // object.
  const Value* Find(std::string_view key) const { return Find(key, HashKey(key)); }
  // As Find(key), with `key_hash` == HashKey(key) computed by the caller
  // (compiled conditions hash their path segments once).
  const Value* Find(std::string_view key, uint32_t key_hash) const;
  static uint32_t HashKey(std::string_view key);

  // Heap bytes this value owns (its string and, when it is the last owner,
  // its elements), measured from container capacities. Used to charge
  // compiled conditions against the L1 cache's byte budget.
  size_t HeapBytes() const;

  // True when this is an object with a key that is a JavaScript array index
  // ("0", "17"): JavaScript enumerates those keys first, in numeric order.
  bool has_index_keys() const { return has_index_keys_; }

 private:
  // Objects with more members than this get an index; below it a linear scan
  // of the keys is faster than hashing the probe.
  static constexpr size_t kIndexedMemberCount = 12;

  // The elements of an array or object, shared by copies. Kept out of line
  // so that a Value is 64 bytes: a request's attribute object is built from
  // dozens of them, and moving them dominated building it.
  struct Children;

  Type type_ = Type::kNull;
  bool bool_ = false;
  bool has_index_keys_ = false;
  double number_ = 0;
  std::string string_;
  std::shared_ptr<const Children> children_;
};

}  // namespace tempo::cond
