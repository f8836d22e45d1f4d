// PageSlice: the immutable, compiled form of one scope of one partition.
//
// A slice is what the caches hold (SPEC §8): the records of scope "*" or of
// one pageId, with every targeting condition compiled, every experiment's
// bucket ranges computed and every module's JSON pre-rendered, so that a
// response is assembled by concatenating bytes. Slices are shared by readers
// without copying (std::shared_ptr<const PageSlice>).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cond/cond.h"
#include "events/record.h"

namespace tempo::select {

// A module ready for selection.
struct CompiledModule {
  std::string id;
  std::string zone;
  int64_t priority = 0;
  int64_t version = 0;
  events::Schedule schedule;
  std::optional<cond::Condition> targeting;  // nullopt = always
  bool never_matches = false;  // the targeting did not compile: never selected
  // Experiment adds only (rule 24): the channel and page checks.
  bool has_channels = true;
  std::vector<std::string> channels;
  std::vector<std::string> page_ids;
  // Pre-rendered JSON: head = {"id":..,"type":..,"priority":   and
  // tail = ,"version":V,"content":C   ; v2 closes with "}", v1 with
  // zone_suffix = ,"zone":"Z"}.
  std::string json_head;
  std::string json_tail;
  std::string zone_suffix;
};

struct CompiledVariant {
  std::string key;
  std::vector<std::string> remove;
  std::vector<CompiledModule> add;
  std::vector<std::pair<std::string, int64_t>> priority;
};

struct CompiledExperiment {
  std::string id;
  std::string hash_attribute;
  std::string seed;
  double hash_version = 1;
  std::vector<cond::BucketRange> ranges;
  std::optional<cond::Condition> condition;  // nullopt = always
  bool condition_broken = false;  // did not compile: only forced variants apply
  std::vector<CompiledVariant> variants;
};

struct PageSlice {
  std::string scope;                  // "*" or the pageId
  std::vector<CompiledModule> modules;  // in id order
  std::vector<CompiledExperiment> experiments;  // bytewise id order
  std::optional<events::Template> page_template;
  int64_t max_version = 0;  // highest version of the slice's live records (§11.20)
  // Memory held by the slice: container capacities and compiled conditions,
  // walked when compiled. What the slice is charged in L1.
  size_t bytes = 0;
};

// Builds a slice from the decoded live records of one scope. A condition
// that does not compile makes its module or experiment never match (the
// record was accepted by the decoder, so this only happens for conditions
// GrowthBook itself would treat as false).
std::shared_ptr<const PageSlice> CompileSlice(std::string scope,
                                              const std::vector<events::Record>& records);

// Compiles one module (a stored one, or an experiment add whose default
// version is `default_version`).
CompiledModule CompileModule(const events::Module& module, int64_t default_version);

}  // namespace tempo::select
