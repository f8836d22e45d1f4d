// libFuzzer target for the condition compiler and evaluator: arbitrary bytes
// as a line of `tempo eval`, the JSON array [condition, attributes] that
// shared/golden/conditions.jsonl holds. A condition comes from a published
// record and attributes from a request's query, so both are untrusted.
//
// Beyond "no crash", it checks that EvalLine() agrees with Compile() and
// Evaluate() called directly, that evaluation is deterministic and the same
// on a copy of the compiled condition, and that the compiled size is
// bounded by the input's.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cond/cond.h"
#include "testing/fuzz_check.h"

namespace {

using tempo::testing::FuzzCheck;

// Compiled bytes per input byte, well above what any condition needs; a
// compiled regex is charged separately (RE2's program), hence the constant.
constexpr size_t kMaxCompiledBytesPerInputByte = 4096;
constexpr size_t kMaxCompiledBytesBase = 1 << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tempo::cond;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const std::string answer = EvalLine(line);
  FuzzCheck(answer == "true" || answer == "false" || answer == "error");

  auto parsed = ParseJson(line);
  if (!parsed.ok() || !parsed->is_array() || parsed->array_items().size() != 2 ||
      !parsed->array_items()[0].is_object()) {
    FuzzCheck(answer == "error");
    // Whatever the bytes are, compiling them as a condition must not crash.
    (void)Condition::Compile(line);
    return 0;
  }
  const Value& condition = parsed->array_items()[0];
  const Value& attributes = parsed->array_items()[1];
  auto compiled = Condition::Compile(condition);
  if (!compiled.ok()) {
    FuzzCheck(answer == "error");
    return 0;
  }
  const bool result = compiled->Evaluate(attributes);
  FuzzCheck(answer == (result ? "true" : "false"));
  FuzzCheck(compiled->Evaluate(attributes) == result);
  const Condition copy = *compiled;
  FuzzCheck(copy.Evaluate(attributes) == result);
  FuzzCheck(compiled->MemoryBytes() <=
            kMaxCompiledBytesBase + kMaxCompiledBytesPerInputByte * size);

  // Other attribute shapes a request can produce: none, and the condition
  // itself (operators as attribute names).
  (void)compiled->Evaluate(Value());
  (void)compiled->Evaluate(Value::Object({}));
  (void)compiled->Evaluate(condition);
  return 0;
}
