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
//
// Memory matters here (every cached module is one of these): the
// pre-rendered JSON pieces, the id and the zone share one string, and a
// targeting condition is compiled once per distinct JSON text in the process
// (see bench/slice_memory.cc and docs/benchmarks.md for what each saved).
struct CompiledModule {
  int64_t priority = 0;
  int64_t version = 0;
  events::Schedule schedule;
  // Null = always. Shared with every module (of any slice) whose targeting
  // has the same JSON text: compiled conditions are interned.
  std::shared_ptr<const cond::Condition> targeting;
  bool never_matches = false;  // the targeting did not compile: never selected
  // One buffer: the pre-rendered JSON, head() = {"id":..,"type":..,"priority":
  // and tail() = ,"version":V,"content":C   (a v2 module closes with "}", a
  // v1 module with zone_suffix() = ,"zone":"Z"}), then the raw id and zone.
  std::string json;
  uint32_t head_end = 0;
  uint32_t tail_end = 0;
  uint32_t suffix_end = 0;
  uint32_t id_end = 0;

  std::string_view id() const {
    return std::string_view(json).substr(suffix_end, id_end - suffix_end);
  }
  std::string_view zone() const { return std::string_view(json).substr(id_end); }

  std::string_view head() const { return std::string_view(json).substr(0, head_end); }
  std::string_view tail() const {
    return std::string_view(json).substr(head_end, tail_end - head_end);
  }
  std::string_view zone_suffix() const {
    return std::string_view(json).substr(tail_end, suffix_end - tail_end);
  }
};

// An experiment's added module with the checks it must pass itself (rule 24).
struct CompiledAdd {
  CompiledModule module;
  bool has_channels = true;  // false: no "channels" given, passes the check
  std::vector<std::string> channels;
  std::vector<std::string> page_ids;  // empty = any page
};

struct CompiledVariant {
  std::string key;
  std::vector<std::string> remove;
  std::vector<CompiledAdd> add;
  std::vector<std::pair<std::string, int64_t>> priority;
};

struct CompiledExperiment {
  std::string id;
  std::string hash_attribute;
  std::string seed;
  double hash_version = 1;
  std::vector<cond::BucketRange> ranges;
  std::shared_ptr<const cond::Condition> condition;  // null = always (interned)
  bool condition_broken = false;                     // did not compile: only forced variants apply
  std::vector<CompiledVariant> variants;
};

struct PageSlice {
  std::string scope;                            // "*" or the pageId
  std::vector<CompiledModule> modules;          // in id order
  std::vector<CompiledExperiment> experiments;  // bytewise id order
  std::optional<events::Template> page_template;
  int64_t max_version = 0;  // highest version of the slice's live records (§11.20)
  // Unique in the process and never reused: a later slice, even one at the
  // same address, has another. What a memo of an answer (api/answer_memo.h)
  // checks that its slices are still the ones it was made from.
  uint64_t serial = 0;
  // Every schedule start and end of the slice's modules and experiment adds,
  // sorted, without duplicates: the only instants at which a selection over
  // the slice can change (select.h, SelectionStableUntil).
  std::vector<UnixNanos> schedule_instants;
  // Heap memory held by the slice, walked when compiled, as malloc sizes the
  // blocks: the slice's own block from make_shared (with its control
  // block), container capacities, strings past their inline buffer, and its
  // share of the compiled conditions. Never zero: an empty slice costs its
  // block. What the slice is charged in L1 (plus what holds it there).
  size_t bytes = 0;
};

// Builds a slice from the decoded live records of one scope. A condition
// that does not compile makes its module or experiment never match (the
// record was accepted by the decoder, so this only happens for conditions
// GrowthBook itself would treat as false).
std::shared_ptr<const PageSlice> CompileSlice(std::string scope,
                                              const std::vector<events::Record>& records);

// The JSON text `condition` was compiled from, when it is still interned (a
// condition of a cached slice always is), else "". A scan of every interned
// condition: for explanations (select/trace.h), never for the request path.
std::string ConditionJson(const cond::Condition& condition);

}  // namespace tempo::select
