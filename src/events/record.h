// The content records of SPEC §3 (module, experiment, template) as decoded values.
//
// Records are plain value types. They are produced only by the decoder in
// events.h, which enforces every rule of SPEC §11.15-17, so a Module here is
// always valid: required strings are non-empty, channels and pageIds are
// de-duplicated (first occurrence kept), content is compacted JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/time.h"

namespace tempo::events {

enum class Kind { kModule, kExperiment, kTemplate };
enum class Op { kUpsert, kDelete };

// "module", "experiment", "template".
const char* KindName(Kind kind);
// "upsert", "delete".
const char* OpName(Op op);

// A schedule window: start inclusive, end exclusive; absent bound = open.
struct Schedule {
  std::optional<UnixNanos> start;
  std::optional<UnixNanos> end;
  // True when `at` is inside the window.
  bool Contains(UnixNanos at) const { return (!start || at >= *start) && (!end || at < *end); }
};

struct Module {
  std::string id;
  std::string tenant;     // empty only for experiment adds (rule 24: ignored there)
  std::string page_type;  // empty only for experiment adds
  std::string zone;
  std::string type;                   // default ""
  std::vector<std::string> channels;  // de-duplicated, in first-seen order
  // False only for an experiment add without "channels" (passes the channel
  // check, rule 24). Always true for stored modules.
  bool has_channels = true;
  std::vector<std::string> page_ids;  // de-duplicated; empty = type-wide
  int64_t priority = 0;
  // For stored modules: the record version (always present). For an add: the
  // add's version if given, else nullopt (the experiment's version applies).
  std::optional<int64_t> version;
  Schedule schedule;
  // The targeting condition as compact JSON ("{...}"), or empty when absent.
  std::string targeting_json;
  // The content, compacted per rule 17; "null" when absent.
  std::string content_json;
};

struct Variant {
  std::string key;
  std::vector<std::string> remove;
  std::vector<Module> add;                                // rule 24 shape
  std::vector<std::pair<std::string, int64_t>> priority;  // in document order
};

struct Experiment {
  std::string id;
  std::string tenant;
  std::string page_type;
  std::vector<std::string> channels;  // de-duplicated
  int64_t version = 0;
  std::string hash_attribute = "visitorId";
  std::string seed;         // defaults to id
  double hash_version = 1;  // absent/null/0 -> 1 (other values kept as given)
  double coverage = 1;      // absent/null -> 1
  std::optional<std::vector<double>> weights;
  std::string condition_json;     // compact JSON object, or empty when absent
  std::vector<Variant> variants;  // non-empty
};

struct TemplateZone {
  std::string zone;
  std::optional<int64_t> limit;  // >= 0; nullopt = no limit
};

struct Template {
  std::string tenant;
  std::string channel;
  std::string page_type;
  int64_t version = 0;
  std::vector<TemplateZone> zones;  // a zone listed twice keeps its first entry
};

// The identity of a record (SPEC §11.13): modules and experiments by
// (tenant, kind, id); templates by (tenant, channel, pageType), whose `id`
// here is "<channel>:<pageType>" (a channel cannot contain ':').
struct RecordKey {
  std::string tenant;
  Kind kind = Kind::kModule;
  std::string id;
  bool operator==(const RecordKey&) const = default;
};

using Record = std::variant<Module, Experiment, Template>;

// One decoded event (SPEC §6 envelope).
struct Event {
  Kind kind = Kind::kModule;
  Op op = Op::kUpsert;
  RecordKey key;
  int64_t version = 0;
  std::string published_at;  // the envelope's publishedAt as given ("" if absent)
  // The whole "record" object compacted (simdjson minify): what the origin
  // stores and what export writes back, byte for byte.
  std::string record_json;
  // The decoded record; empty for deletes.
  std::optional<Record> record;
};

}  // namespace tempo::events
