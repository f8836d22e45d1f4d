// Condition and EvalLine(): the public face of the compiled tree.
#include "cond/cond.h"

#include "cond/compiled_node.h"

namespace tempo::cond {

Result<Condition> Condition::Compile(std::string_view condition_json) {
  Result<Value> parsed = ParseJson(condition_json);
  if (!parsed.ok()) return parsed.status();
  return Compile(*parsed);
}

Result<Condition> Condition::Compile(const Value& condition) {
  auto node = CompiledNode::Compile(condition, /*saved_groups=*/nullptr);
  if (!node.ok()) return node.status();
  Condition c;
  c.root_ = std::move(*node);
  return c;
}

bool Condition::Evaluate(const Value& attributes) const {
  // A default-constructed Condition was never compiled: it matches nothing.
  return root_ != nullptr && root_->Evaluate(attributes);
}

std::string EvalLine(std::string_view line) {
  Result<Value> parsed = ParseJson(line);
  if (!parsed.ok() || !parsed->is_array() || parsed->array_items().size() != 2) return "error";
  const Value& condition = parsed->array_items()[0];
  if (!condition.is_object()) return "error";
  Result<Condition> compiled = Condition::Compile(condition);
  if (!compiled.ok()) return "error";
  return compiled->Evaluate(parsed->array_items()[1]) ? "true" : "false";
}

}  // namespace tempo::cond
