// SelectionTrace: what Select did and why, step by step (`tempo explain`).
//
// Select() fills a trace only when given one; the serving path passes none,
// so a layout request pays nothing for it (one null test per step). The
// trace is made by the selection code itself while it selects, never by a
// second copy of the algorithm, so what it says is what the answer did:
// its kept modules, in answer order, are the answer's modules.
//
// Views in a trace point into the slices and the request it was made from:
// REQUIRES that they outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/time.h"
#include "cond/cond.h"
#include "select/slice.h"

namespace tempo::select {

// The step of SPEC §4 that dropped a module, or kKept.
enum class Step : uint8_t {
  kKept,
  kChannel,     // an experiment add whose channels lack the request's (rule 24)
  kPage,        // a type-wide module of a zone the page overrides (rule 19), or an
                // experiment add whose pageIds lack the request's pageId (rule 24)
  kZone,        // outside the request's zone filter
  kSchedule,    // outside its schedule at the instant evaluated
  kTargeting,   // its targeting is false (or did not compile)
  kExperiment,  // removed by a variant, or replaced by a variant's add of its id
  kLimit,       // past the template's limit of its zone
};

// "kept", "channel", "page", "zone", "schedule", "targeting", "experiment", "limit".
const char* StepName(Step step);

// One candidate module: of the slices read, or added by a chosen variant.
struct ModuleTrace {
  const CompiledModule* module = nullptr;
  // The slice the module came from ("*" or the pageId); for an add, the
  // experiment and variant that added it (scope empty).
  std::string_view scope;
  std::string_view experiment;
  std::string_view variant;
  Step outcome = Step::kKept;
  // A sentence saying why it was dropped (empty when kept).
  std::string reason;
  // kSchedule: the window and the instant compared.
  std::optional<UnixNanos> schedule_start, schedule_end;
  // kTargeting: the targeting's JSON text (empty when it is not known) and
  // its failing parts, a JSON array of {"condition":..,"seen":{..}}.
  std::string condition_json;
  std::string failing_json;
  // kExperiment: the experiment and variant that removed or replaced it.
  std::string_view by_experiment, by_variant;
  // kLimit: the zone's limit.
  int64_t limit = 0;
  // The module's priority after overrides (when dropped: when it was dropped).
  int64_t priority = 0;
  // Kept: the zone's index in the answer, and the module's index in it.
  int zone_index = -1;
  int position = -1;
};

// One experiment of the type-wide slice, in the order they apply.
struct ExperimentTrace {
  const CompiledExperiment* experiment = nullptr;
  // How a variant was chosen ("forced", "hashed"), or why none was: a
  // sentence (the condition is false, no hash value, outside coverage, ...).
  bool assigned = false;
  bool forced = false;
  std::string reason;
  // A forced `variant` naming this experiment with an unknown key (ignored).
  std::string ignored_forced_key;
  std::string condition_json;  // empty: no condition (or its text is unknown)
  std::optional<bool> condition_holds;
  std::string failing_json;  // the condition's failing parts, as for modules
  std::string hash_input;    // the hash attribute's value ("" = absent)
  std::optional<double> hash;
  int variant_index = -1;
  std::string_view variant;
  // What the variant's overlay did.
  std::vector<std::string_view> removed;      // ids removed by `remove`
  std::vector<std::string_view> added;        // ids of adds that passed
  std::vector<std::string_view> add_dropped;  // ids of adds that failed their checks
  struct Override {
    std::string_view id;
    int64_t from = 0, to = 0;
  };
  std::vector<Override> priorities;  // overrides that found a selected module
};

struct SelectionTrace {
  UnixNanos at = 0;             // the instant evaluated
  std::string attributes_json;  // the attribute object of step 5, as JSON
  std::vector<ExperimentTrace> experiments;
  std::vector<ModuleTrace> modules;  // in the order considered

  // The trace of a module already considered, or null.
  ModuleTrace* Find(const CompiledModule* module);
  // Adds a module's trace (kept until a later step drops it).
  ModuleTrace* Add(const CompiledModule* module, int64_t priority);

 private:
  std::unordered_map<const CompiledModule*, size_t> index_;
};

}  // namespace tempo::select
