// Decoding of module, experiment and template records with simdjson On-Demand.
#include "events/record_decoder.h"

#include <string>
#include <string_view>
#include <utility>

#include "common/time.h"
#include "events/dedupe.h"
#include "events/json_readers.h"

namespace tempo::events {
namespace {

using simdjson::ondemand::object;

constexpr std::string_view kDefaultHashAttribute = "visitorId";

// Which required fields a record object has shown so far.
class RequiredFields {
 public:
  void Saw(unsigned bit) { seen_ |= bit; }
  // "<path>.<name>: is required" when `bit` was not seen.
  Status Check(unsigned bit, const FieldPath& path, std::string_view name) const {
    if ((seen_ & bit) != 0) return Status::OK();
    return path.Field(name).Invalid("is required");
  }

 private:
  unsigned seen_ = 0;
};

enum FieldBit : unsigned {
  kIdBit = 1u << 0,
  kTenantBit = 1u << 1,
  kPageTypeBit = 1u << 2,
  kZoneBit = 1u << 3,
  kChannelsBit = 1u << 4,
  kVersionBit = 1u << 5,
  kVariantsBit = 1u << 6,
  kChannelBit = 1u << 7,
  kZonesBit = 1u << 8,
  kKeyBit = 1u << 9,
};

Status DecodeScheduleBound(JsonValue& v, const FieldPath& path, std::optional<UnixNanos>* bound) {
  if (IsNull(v)) {
    bound->reset();
    return Status::OK();
  }
  std::string text;
  if (!ReadString(v, path, &text).ok()) return path.Invalid("must be an RFC 3339 date-time string");
  *bound = ParseRfc3339(text);
  if (!*bound) return path.Invalid("not an RFC 3339 date-time");
  return Status::OK();
}

Status DecodeSchedule(JsonValue& v, const FieldPath& path, Schedule* schedule) {
  *schedule = Schedule{};
  if (IsNull(v)) return Status::OK();
  object obj;
  if (Status s = ReadObject(v, path, &obj); !s.ok()) return s;
  return ForEachField(obj, path, [&](std::string_view key, JsonValue& value) {
    if (key == "start") return DecodeScheduleBound(value, path.Field("start"), &schedule->start);
    if (key == "end") return DecodeScheduleBound(value, path.Field("end"), &schedule->end);
    return Status::OK();
  });
}

// The two shapes of a module: a stored record, and an experiment's add
// (rule 24: `tenant`/`pageType` ignored, `channels` and `version` optional).
enum class ModuleShape { kStored, kAdd };

Status DecodeModule(object& obj, const FieldPath& path, ModuleShape shape, Module* m) {
  const bool stored = shape == ModuleShape::kStored;
  RequiredFields required;
  m->has_channels = stored;
  m->content_json = "null";
  Status s = ForEachField(obj, path, [&](std::string_view key, JsonValue& value) -> Status {
    if (key == "id") {
      required.Saw(kIdBit);
      return ReadNonEmptyString(value, path.Field("id"), &m->id);
    }
    if (key == "zone") {
      required.Saw(kZoneBit);
      return ReadNonEmptyString(value, path.Field("zone"), &m->zone);
    }
    if (key == "tenant" && stored) {
      required.Saw(kTenantBit);
      return ReadNonEmptyString(value, path.Field("tenant"), &m->tenant);
    }
    if (key == "pageType" && stored) {
      required.Saw(kPageTypeBit);
      return ReadNonEmptyString(value, path.Field("pageType"), &m->page_type);
    }
    if (key == "channels") {
      if (!stored && IsNull(value)) {
        m->has_channels = false;
        m->channels.clear();
        return Status::OK();
      }
      required.Saw(kChannelsBit);
      m->has_channels = true;
      return ReadStringList(value, path.Field("channels"), &m->channels);
    }
    if (key == "pageIds") {
      if (IsNull(value)) {
        m->page_ids.clear();
        return Status::OK();
      }
      return ReadStringList(value, path.Field("pageIds"), &m->page_ids);
    }
    if (key == "priority") {
      m->priority = 0;
      return IsNull(value) ? Status::OK() : ReadInt64(value, path.Field("priority"), &m->priority);
    }
    if (key == "type") {
      m->type.clear();
      return IsNull(value) ? Status::OK() : ReadString(value, path.Field("type"), &m->type);
    }
    if (key == "version") {
      if (!stored && IsNull(value)) {
        m->version.reset();
        return Status::OK();
      }
      required.Saw(kVersionBit);
      int64_t version = 0;
      if (Status vs = ReadVersion(value, path.Field("version"), &version); !vs.ok()) return vs;
      m->version = version;
      return Status::OK();
    }
    if (key == "schedule") return DecodeSchedule(value, path.Field("schedule"), &m->schedule);
    if (key == "targeting") {
      m->targeting_json.clear();
      if (IsNull(value)) return Status::OK();
      return ReadObjectJson(value, path.Field("targeting"), &m->targeting_json);
    }
    if (key == "content") return ReadAnyJson(value, path.Field("content"), &m->content_json);
    return Status::OK();
  });
  if (!s.ok()) return s;

  if (s = required.Check(kIdBit, path, "id"); !s.ok()) return s;
  if (stored) {
    if (s = required.Check(kTenantBit, path, "tenant"); !s.ok()) return s;
    if (s = required.Check(kPageTypeBit, path, "pageType"); !s.ok()) return s;
  }
  if (s = required.Check(kZoneBit, path, "zone"); !s.ok()) return s;
  if (stored) {
    if (s = required.Check(kChannelsBit, path, "channels"); !s.ok()) return s;
    if (s = required.Check(kVersionBit, path, "version"); !s.ok()) return s;
  }
  KeepFirstOccurrences(&m->channels);
  KeepFirstOccurrences(&m->page_ids);
  return Status::OK();
}

Status DecodeVariant(JsonValue& v, const FieldPath& path, Variant* variant) {
  object obj;
  if (Status s = ReadObject(v, path, &obj); !s.ok()) return s;
  RequiredFields required;
  Status s = ForEachField(obj, path, [&](std::string_view key, JsonValue& value) -> Status {
    if (key == "key") {
      required.Saw(kKeyBit);
      return ReadNonEmptyString(value, path.Field("key"), &variant->key);
    }
    if (key == "remove") {
      variant->remove.clear();
      if (IsNull(value)) return Status::OK();
      return ReadStringList(value, path.Field("remove"), &variant->remove);
    }
    if (key == "add") {
      variant->add.clear();
      if (IsNull(value)) return Status::OK();
      const FieldPath add_path = path.Field("add");
      return ForEachElement(
          value, add_path, "must be a list of modules", [&](size_t index, JsonValue& element) {
            const FieldPath element_path = add_path.Index(index);
            object module;
            if (Status as = ReadObject(element, element_path, &module); !as.ok()) {
              return as;
            }
            variant->add.emplace_back();
            return DecodeModule(module, element_path, ModuleShape::kAdd, &variant->add.back());
          });
    }
    if (key == "priority") {
      variant->priority.clear();
      if (IsNull(value)) return Status::OK();
      const FieldPath priority_path = path.Field("priority");
      object priorities;
      if (Status ps = ReadObject(value, priority_path, &priorities); !ps.ok()) return ps;
      return ForEachField(priorities, priority_path, [&](std::string_view id, JsonValue& number) {
        int64_t priority = 0;
        if (Status ns = ReadInt64(number, priority_path.Field(id), &priority); !ns.ok()) return ns;
        variant->priority.emplace_back(std::string(id), priority);
        return Status::OK();
      });
    }
    return Status::OK();
  });
  if (!s.ok()) return s;
  return required.Check(kKeyBit, path, "key");
}

Status DecodeExperiment(object& obj, const FieldPath& path, Experiment* x) {
  RequiredFields required;
  Status s = ForEachField(obj, path, [&](std::string_view key, JsonValue& value) -> Status {
    if (key == "id") {
      required.Saw(kIdBit);
      return ReadNonEmptyString(value, path.Field("id"), &x->id);
    }
    if (key == "tenant") {
      required.Saw(kTenantBit);
      return ReadNonEmptyString(value, path.Field("tenant"), &x->tenant);
    }
    if (key == "pageType") {
      required.Saw(kPageTypeBit);
      return ReadNonEmptyString(value, path.Field("pageType"), &x->page_type);
    }
    if (key == "channels") {
      required.Saw(kChannelsBit);
      return ReadStringList(value, path.Field("channels"), &x->channels);
    }
    if (key == "version") {
      required.Saw(kVersionBit);
      return ReadVersion(value, path.Field("version"), &x->version);
    }
    if (key == "hashAttribute") {
      x->hash_attribute.clear();
      if (IsNull(value)) return Status::OK();
      return ReadString(value, path.Field("hashAttribute"), &x->hash_attribute);
    }
    if (key == "seed") {
      x->seed.clear();
      if (IsNull(value)) return Status::OK();
      return ReadString(value, path.Field("seed"), &x->seed);
    }
    if (key == "hashVersion") {
      x->hash_version = 1;
      if (IsNull(value)) return Status::OK();
      return ReadNumber(value, path.Field("hashVersion"), &x->hash_version);
    }
    if (key == "coverage") {
      x->coverage = 1;
      if (IsNull(value)) return Status::OK();
      return ReadNumber(value, path.Field("coverage"), &x->coverage);
    }
    if (key == "weights") {
      x->weights.reset();
      if (IsNull(value)) return Status::OK();
      const FieldPath weights_path = path.Field("weights");
      x->weights.emplace();
      return ForEachElement(
          value, weights_path, "must be a list of numbers", [&](size_t index, JsonValue& element) {
            x->weights->emplace_back();
            return ReadNumber(element, weights_path.Index(index), &x->weights->back());
          });
    }
    if (key == "condition") {
      x->condition_json.clear();
      if (IsNull(value)) return Status::OK();
      return ReadObjectJson(value, path.Field("condition"), &x->condition_json);
    }
    if (key == "variants") {
      required.Saw(kVariantsBit);
      x->variants.clear();
      const FieldPath variants_path = path.Field("variants");
      if (Status vs = ForEachElement(value, variants_path, "must be a non-empty list of objects",
                                     [&](size_t index, JsonValue& element) {
                                       x->variants.emplace_back();
                                       return DecodeVariant(element, variants_path.Index(index),
                                                            &x->variants.back());
                                     });
          !vs.ok()) {
        return vs;
      }
      if (x->variants.empty()) return variants_path.Invalid("must be a non-empty list of objects");
      return Status::OK();
    }
    return Status::OK();
  });
  if (!s.ok()) return s;

  if (s = required.Check(kIdBit, path, "id"); !s.ok()) return s;
  if (s = required.Check(kTenantBit, path, "tenant"); !s.ok()) return s;
  if (s = required.Check(kPageTypeBit, path, "pageType"); !s.ok()) return s;
  if (s = required.Check(kChannelsBit, path, "channels"); !s.ok()) return s;
  if (s = required.Check(kVersionBit, path, "version"); !s.ok()) return s;
  if (s = required.Check(kVariantsBit, path, "variants"); !s.ok()) return s;
  // Rule 15 defaults, applied last so that field order does not matter.
  if (x->hash_attribute.empty()) x->hash_attribute = kDefaultHashAttribute;
  if (x->seed.empty()) x->seed = x->id;
  if (x->hash_version == 0) x->hash_version = 1;
  KeepFirstOccurrences(&x->channels);
  return Status::OK();
}

Status DecodeTemplateZone(JsonValue& v, const FieldPath& path, TemplateZone* zone) {
  object obj;
  if (Status s = ReadObject(v, path, &obj); !s.ok()) return s;
  RequiredFields required;
  Status s = ForEachField(obj, path, [&](std::string_view key, JsonValue& value) -> Status {
    if (key == "zone") {
      required.Saw(kZoneBit);
      return ReadNonEmptyString(value, path.Field("zone"), &zone->zone);
    }
    if (key == "limit") {
      zone->limit.reset();
      if (IsNull(value)) return Status::OK();
      int64_t limit = 0;
      if (Status ls = ReadNonNegativeInt64(value, path.Field("limit"), &limit); !ls.ok()) return ls;
      zone->limit = limit;
    }
    return Status::OK();
  });
  if (!s.ok()) return s;
  return required.Check(kZoneBit, path, "zone");
}

Status DecodeTemplate(object& obj, const FieldPath& path, Template* t) {
  RequiredFields required;
  Status s = ForEachField(obj, path, [&](std::string_view key, JsonValue& value) -> Status {
    if (key == "tenant") {
      required.Saw(kTenantBit);
      return ReadNonEmptyString(value, path.Field("tenant"), &t->tenant);
    }
    if (key == "channel") {
      required.Saw(kChannelBit);
      return ReadNonEmptyString(value, path.Field("channel"), &t->channel);
    }
    if (key == "pageType") {
      required.Saw(kPageTypeBit);
      return ReadNonEmptyString(value, path.Field("pageType"), &t->page_type);
    }
    if (key == "version") {
      required.Saw(kVersionBit);
      return ReadVersion(value, path.Field("version"), &t->version);
    }
    if (key == "zones") {
      required.Saw(kZonesBit);
      t->zones.clear();
      const FieldPath zones_path = path.Field("zones");
      return ForEachElement(
          value, zones_path, "must be a list of objects", [&](size_t index, JsonValue& element) {
            t->zones.emplace_back();
            return DecodeTemplateZone(element, zones_path.Index(index), &t->zones.back());
          });
    }
    return Status::OK();
  });
  if (!s.ok()) return s;

  if (s = required.Check(kTenantBit, path, "tenant"); !s.ok()) return s;
  if (s = required.Check(kChannelBit, path, "channel"); !s.ok()) return s;
  if (s = required.Check(kPageTypeBit, path, "pageType"); !s.ok()) return s;
  if (s = required.Check(kVersionBit, path, "version"); !s.ok()) return s;
  if (s = required.Check(kZonesBit, path, "zones"); !s.ok()) return s;
  KeepFirstOccurrences(&t->zones,
                       [](const TemplateZone& z) -> const std::string& { return z.zone; });
  return Status::OK();
}

// "<channel>:<pageType>", a template's id within its tenant (rule 13).
std::string TemplateId(std::string_view channel, std::string_view page_type) {
  std::string id;
  id.reserve(channel.size() + 1 + page_type.size());
  id.append(channel);
  id.push_back(':');
  id.append(page_type);
  return id;
}

}  // namespace

Status DecodeUpsertRecord(Kind kind, object& obj, const FieldPath& path, Record* record,
                          RecordKey* key, int64_t* version) {
  key->kind = kind;
  switch (kind) {
    case Kind::kModule: {
      Module m;
      if (Status s = DecodeModule(obj, path, ModuleShape::kStored, &m); !s.ok()) return s;
      key->tenant = m.tenant;
      key->id = m.id;
      *version = *m.version;
      *record = std::move(m);
      return Status::OK();
    }
    case Kind::kExperiment: {
      Experiment x;
      if (Status s = DecodeExperiment(obj, path, &x); !s.ok()) return s;
      key->tenant = x.tenant;
      key->id = x.id;
      *version = x.version;
      *record = std::move(x);
      return Status::OK();
    }
    case Kind::kTemplate: {
      Template t;
      if (Status s = DecodeTemplate(obj, path, &t); !s.ok()) return s;
      key->tenant = t.tenant;
      key->id = TemplateId(t.channel, t.page_type);
      *version = t.version;
      *record = std::move(t);
      return Status::OK();
    }
  }
  return Status::Internal("unknown record kind");
}

Status DecodeDeleteRecord(Kind kind, object& obj, const FieldPath& path, RecordKey* key,
                          int64_t* version) {
  key->kind = kind;
  const bool is_template = kind == Kind::kTemplate;
  std::string channel, page_type;
  RequiredFields required;
  Status s = ForEachField(obj, path, [&](std::string_view name, JsonValue& value) -> Status {
    if (name == "tenant") {
      required.Saw(kTenantBit);
      return ReadNonEmptyString(value, path.Field("tenant"), &key->tenant);
    }
    if (name == "version") {
      required.Saw(kVersionBit);
      return ReadVersion(value, path.Field("version"), version);
    }
    if (!is_template && name == "id") {
      required.Saw(kIdBit);
      return ReadNonEmptyString(value, path.Field("id"), &key->id);
    }
    if (is_template && name == "channel") {
      required.Saw(kChannelBit);
      return ReadNonEmptyString(value, path.Field("channel"), &channel);
    }
    if (is_template && name == "pageType") {
      required.Saw(kPageTypeBit);
      return ReadNonEmptyString(value, path.Field("pageType"), &page_type);
    }
    return Status::OK();
  });
  if (!s.ok()) return s;

  if (!is_template) {
    if (s = required.Check(kIdBit, path, "id"); !s.ok()) return s;
    if (s = required.Check(kTenantBit, path, "tenant"); !s.ok()) return s;
  } else {
    if (s = required.Check(kTenantBit, path, "tenant"); !s.ok()) return s;
    if (s = required.Check(kChannelBit, path, "channel"); !s.ok()) return s;
    if (s = required.Check(kPageTypeBit, path, "pageType"); !s.ok()) return s;
    key->id = TemplateId(channel, page_type);
  }
  return required.Check(kVersionBit, path, "version");
}

}  // namespace tempo::events
