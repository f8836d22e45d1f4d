// The GrowthBook condition evaluator (SPEC §5, §11.26-27), hand-written: our core.
//
// A condition is compiled once (when a page slice is built) into a tree that
// evaluates against an attribute Value without re-parsing JSON or
// re-compiling regular expressions. Evaluation follows the GrowthBook
// JavaScript SDK exactly, including JavaScript coercions. Compiled conditions
// are immutable and safe to evaluate from many threads at once.
//
// Also here: GrowthBook's hash(), getBucketRanges() and chooseVariation(),
// used for experiment bucketing (SPEC §4 step 6, §11.22).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "cond/value.h"

namespace tempo::cond {

class CompiledNode;  // internal

// A compiled GrowthBook condition. Cheap to copy (shares the compiled tree).
class Condition {
 public:
  // Compiles a condition given as JSON text. The top level must be a JSON
  // object; anything else is InvalidArgument. Unknown operators compile (they
  // evaluate false, as in GrowthBook). A regex the engine cannot compile makes
  // that operator evaluate false (rule 27).
  static Result<Condition> Compile(std::string_view condition_json);
  // Compiles a condition already parsed into a Value (REQUIRES: an object).
  static Result<Condition> Compile(const Value& condition);

  // True when `attributes` (normally an object) satisfies the condition.
  bool Evaluate(const Value& attributes) const;

  // Bytes of memory the compiled condition holds (measured by walking it),
  // for charging a compiled page slice against the L1 cache's capacity.
  size_t MemoryBytes() const;

 private:
  std::shared_ptr<const CompiledNode> root_;
};

// Parses JSON text into a Value (numbers as IEEE doubles, as JavaScript's
// JSON.parse does; object keys in document order, a repeated key keeping its
// first position and last value). InvalidArgument on malformed JSON.
Result<Value> ParseJson(std::string_view json);

// GrowthBook hash(seed, value, version): a number in [0, 1), or nullopt for
// an unsupported version (only 1 and 2 exist).
std::optional<double> Hash(std::string_view seed, std::string_view value, double version);

// A half-open bucket range [first, second).
using BucketRange = std::pair<double, double>;

// GrowthBook getBucketRanges(numVariations, coverage, weights): coverage is
// clamped to [0,1]; weights that are absent, of the wrong length or that do
// not sum to 1 (±0.01) are replaced by equal weights.
std::vector<BucketRange> GetBucketRanges(int num_variations, double coverage,
                                         const std::optional<std::vector<double>>& weights);

// GrowthBook chooseVariation(n, ranges): the index of the range holding n, or -1.
int ChooseVariation(double n, const std::vector<BucketRange>& ranges);

// Evaluates one line of `tempo eval` input, a JSON array [condition, attributes],
// and returns "true", "false" or "error" (line not JSON, not a 2-element array,
// or condition not an object).
std::string EvalLine(std::string_view line);

}  // namespace tempo::cond
