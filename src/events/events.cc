// Event envelopes (SPEC §6): decoding, record decoding, and export encoding.
//
// A decode is: one strict validating pass that also compacts (CompactJson),
// then simdjson On-Demand over the compact bytes, where every raw slice
// (`record`, `content`, `targeting`) is already in its stored form.
#include "events/events.h"

#include <simdjson.h>

#include <optional>
#include <string>
#include <utility>

#include "common/json.h"
#include "events/field_path.h"
#include "events/json_compact.h"
#include "events/json_readers.h"
#include "events/record_decoder.h"

namespace tempo::events {
namespace {

using simdjson::ondemand::document;
using simdjson::ondemand::json_type;
using simdjson::ondemand::object;

// A thread keeps its parser and compact buffer across calls: a parser
// allocates its structural index on first use, which would otherwise cost an
// allocation per event. Beyond this size they are dropped after use, so one
// huge event does not pin its memory for the thread's lifetime.
constexpr size_t kMaxRetainedScratchBytes = size_t{1} << 20;

struct Scratch {
  simdjson::ondemand::parser parser;
  // The compact document followed by SIMDJSON_PADDING bytes.
  std::string compact;
  size_t size = 0;  // of the compact document, without the padding
};

// Hands out the thread's Scratch and trims it when the call is over.
class ScratchLease {
 public:
  ScratchLease() : scratch_(Instance()) {}
  ~ScratchLease() {
    if (scratch_.compact.capacity() > kMaxRetainedScratchBytes) Instance() = Scratch();
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;

  Scratch* get() { return &scratch_; }

 private:
  static Scratch& Instance() {
    thread_local Scratch scratch;
    return scratch;
  }
  Scratch& scratch_;
};

// Validates `text` and leaves its compact, padded form in `scratch`.
Status Compact(std::string_view text, Scratch* scratch) {
  scratch->compact.clear();
  scratch->compact.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  if (Status s = CompactJson(text, &scratch->compact); !s.ok()) {
    return Status::InvalidArgument("json: " + s.message());
  }
  scratch->size = scratch->compact.size();
  scratch->compact.append(simdjson::SIMDJSON_PADDING, '\0');
  return Status::OK();
}

// Starts On-Demand over `json`, a slice of scratch->compact, as an object.
Status IterateObject(Scratch* scratch, std::string_view json, const FieldPath& path, document* doc,
                     object* out) {
  const size_t offset = static_cast<size_t>(json.data() - scratch->compact.data());
  const size_t capacity = scratch->compact.size() - offset;
  if (auto error = scratch->parser.iterate(json.data(), json.size(), capacity).get(*doc)) {
    return JsonError(path, error);
  }
  json_type type;
  if (doc->type().get(type) || type != json_type::object || doc->get_object().get(*out)) {
    return path.Invalid("must be an object");
  }
  return Status::OK();
}

std::optional<Kind> ParseKind(std::string_view name) {
  if (name == "module") return Kind::kModule;
  if (name == "experiment") return Kind::kExperiment;
  if (name == "template") return Kind::kTemplate;
  return std::nullopt;
}

std::optional<Op> ParseOp(std::string_view name) {
  if (name == "upsert") return Op::kUpsert;
  if (name == "delete") return Op::kDelete;
  return std::nullopt;
}

// The envelope's fields, before the record is decoded.
struct Envelope {
  bool schema_is_one = false;
  std::optional<Kind> kind;
  std::optional<Op> op;
  std::string published_at;
  std::string_view record;  // a slice of the compact document; empty if not an object
};

Status ReadEnvelope(Scratch* scratch, Envelope* env) {
  const FieldPath root("envelope");
  document doc;
  object obj;
  std::string_view all(scratch->compact.data(), scratch->size);
  if (Status s = IterateObject(scratch, all, root, &doc, &obj); !s.ok()) return s;
  return ForEachField(obj, root, [&](std::string_view key, JsonValue& value) -> Status {
    json_type type;
    if (auto error = value.type().get(type)) return JsonError(root.Field(key), error);
    if (key == "schema") {
      // Decided on the literal: 1.0 and 1e0 are not the integer 1 (rule 15).
      env->schema_is_one = type == json_type::number && value.raw_json_token() == "1";
    } else if (key == "kind" || key == "op") {
      std::string_view name;
      if (type != json_type::string || value.get_string().get(name)) name = {};
      if (key == "kind") {
        env->kind = ParseKind(name);
      } else {
        env->op = ParseOp(name);
      }
    } else if (key == "publishedAt") {
      // Informational only: anything but a string reads as absent.
      std::string_view text;
      if (type != json_type::string || value.get_string().get(text)) text = {};
      env->published_at.assign(text);
    } else if (key == "record") {
      object record;
      env->record = {};
      if (type == json_type::object && !value.get_object().get(record)) {
        if (auto error = record.raw_json().get(env->record))
          return JsonError(root.Field(key), error);
      }
    }
    return Status::OK();
  });
}

}  // namespace

Result<Event> DecodeEvent(std::string_view line, const DecodeOptions& options) {
  ScratchLease lease;
  Scratch* scratch = lease.get();
  if (Status s = Compact(line, scratch); !s.ok()) return s;
  Envelope env;
  if (Status s = ReadEnvelope(scratch, &env); !s.ok()) return s;
  if (!env.schema_is_one) return Status::InvalidArgument("schema: must be the integer 1");
  if (!env.kind) {
    return Status::InvalidArgument("kind: must be \"module\", \"experiment\" or \"template\"");
  }
  if (!env.op) return Status::InvalidArgument("op: must be \"upsert\" or \"delete\"");
  if (env.record.empty()) return Status::InvalidArgument("record: must be an object");
  if (env.record.size() > options.max_record_bytes) {
    return Status::InvalidArgument("record: " + std::to_string(env.record.size()) +
                                   " bytes of JSON, more than the limit of " +
                                   std::to_string(options.max_record_bytes));
  }

  Event event;
  event.kind = *env.kind;
  event.op = *env.op;
  event.published_at = std::move(env.published_at);
  // Read now: the second iterate below reuses the parser, not these bytes.
  event.record_json.assign(env.record);

  const FieldPath path("record");
  document doc;
  object obj;
  if (Status s = IterateObject(scratch, env.record, path, &doc, &obj); !s.ok()) {
    return s;
  }
  if (event.op == Op::kDelete) {
    if (Status s = DecodeDeleteRecord(event.kind, obj, path, &event.key, &event.version); !s.ok()) {
      return s;
    }
    return event;
  }
  Record record;
  if (Status s = DecodeUpsertRecord(event.kind, obj, path, &record, &event.key, &event.version);
      !s.ok()) {
    return s;
  }
  event.record = std::move(record);
  return event;
}

Result<Record> DecodeRecord(Kind kind, std::string_view record_json) {
  ScratchLease lease;
  Scratch* scratch = lease.get();
  if (Status s = Compact(record_json, scratch); !s.ok()) return s;
  const FieldPath path("record");
  document doc;
  object obj;
  std::string_view all(scratch->compact.data(), scratch->size);
  if (Status s = IterateObject(scratch, all, path, &doc, &obj); !s.ok()) return s;
  Record record;
  RecordKey key;
  int64_t version = 0;
  if (Status s = DecodeUpsertRecord(kind, obj, path, &record, &key, &version); !s.ok()) return s;
  return record;
}

std::string EncodeEnvelope(Kind kind, Op op, std::string_view published_at,
                           std::string_view record_json) {
  constexpr size_t kEnvelopeOverheadBytes = 96;
  std::string out;
  out.reserve(record_json.size() + published_at.size() + kEnvelopeOverheadBytes);
  out.append(R"({"schema":1,"kind":")");
  out.append(KindName(kind));
  out.append(R"(","op":")");
  out.append(OpName(op));
  out.push_back('"');
  if (!published_at.empty()) {
    out.append(R"(,"publishedAt":)");
    AppendJsonString(published_at, &out);
  }
  out.append(R"(,"record":)");
  out.append(record_json);
  out.push_back('}');
  return out;
}

}  // namespace tempo::events
