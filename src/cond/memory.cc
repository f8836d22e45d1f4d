// Memory accounting of compiled conditions: a walk over the compiled tree that
// sums container capacities, so L1 charges are measured rather than guessed.
#include "cond/compiled_node.h"
#include "cond/cond.h"
#include "cond/regex.h"

namespace tempo::cond {
namespace {

constexpr size_t kSsoBytes = 15;  // libstdc++ keeps shorter strings inline

size_t StringHeap(const std::string& s) { return s.capacity() > kSsoBytes ? s.capacity() + 1 : 0; }

size_t ExprHeap(const ConditionExpr& e);

size_t ValueTestHeap(const ValueTest& t);

size_t OperatorHeap(const OperatorTest& op) {
  size_t bytes = op.operand.HeapBytes() + op.sorted_strings.capacity() * sizeof(std::string_view) +
                 StringHeap(op.padded_version) + StringHeap(op.primitive_text) +
                 op.all.capacity() * sizeof(ValueTest);
  if (op.value_test) bytes += sizeof(ValueTest) + ValueTestHeap(*op.value_test);
  if (op.element_condition) bytes += sizeof(ConditionExpr) + ExprHeap(*op.element_condition);
  for (const ValueTest& t : op.all) bytes += ValueTestHeap(t);
  if (op.regex) bytes += op.regex->HeapBytes();
  return bytes;
}

size_t ValueTestHeap(const ValueTest& t) {
  size_t bytes =
      StringHeap(t.text) + t.json.HeapBytes() + t.operators.capacity() * sizeof(OperatorTest);
  for (const OperatorTest& op : t.operators) bytes += OperatorHeap(op);
  return bytes;
}

size_t ExprHeap(const ConditionExpr& e) {
  size_t bytes = e.clauses.capacity() * sizeof(Clause);
  for (const Clause& c : e.clauses) {
    bytes += c.path.capacity() * sizeof(PathSegment);
    for (const PathSegment& p : c.path) bytes += StringHeap(p.key);
    bytes += ValueTestHeap(c.test);
    bytes += c.list.items.capacity() * sizeof(ConditionExpr);
    for (const ConditionExpr& item : c.list.items) bytes += ExprHeap(item);
    if (c.negated) bytes += sizeof(ConditionExpr) + ExprHeap(*c.negated);
  }
  return bytes;
}

}  // namespace

size_t CompiledNode::HeapBytes() const { return sizeof(CompiledNode) + ExprHeap(root_); }

size_t Condition::MemoryBytes() const {
  // The shared_ptr control block sits beside the node (make_shared) or apart.
  return root_ == nullptr ? 0 : root_->HeapBytes() + 2 * sizeof(void*);
}

}  // namespace tempo::cond
