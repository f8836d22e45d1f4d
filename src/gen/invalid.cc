// Invalid events.
#include "gen/invalid.h"

#include <utility>
#include <vector>

#include "common/json.h"

namespace tempo::gen {
namespace {

// Above any version a generated history reaches (except the rare ~2^62
// ones), so that accepting the event would change what is served.
constexpr int64_t kInvalidVersion = 100'000;

// A record as an ordered list of members with raw JSON values, easy to break.
class RawRecord {
 public:
  void Set(std::string_view key, std::string value) {
    for (auto& [k, v] : members_) {
      if (k == key) {
        v = std::move(value);
        return;
      }
    }
    members_.emplace_back(std::string(key), std::move(value));
  }
  void Remove(std::string_view key) {
    for (auto it = members_.begin(); it != members_.end(); ++it) {
      if (it->first == key) {
        members_.erase(it);
        return;
      }
    }
  }
  void AppendTo(std::string* out) const {
    out->push_back('{');
    for (size_t i = 0; i < members_.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendJsonString(members_[i].first, out);
      out->push_back(':');
      out->append(members_[i].second);
    }
    out->push_back('}');
  }

 private:
  std::vector<std::pair<std::string, std::string>> members_;
};

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

std::string Int(int64_t v) {
  std::string out;
  AppendInt(v, &out);
  return out;
}

RawRecord ModuleRecord(Rng& rng, const TenantPlan& tenant) {
  const ModulePlan m =
      PlanModule(tenant, static_cast<int64_t>(rng.Below(static_cast<uint64_t>(tenant.modules))));
  std::string id;
  AppendModuleId(m.index, m.type, &id);
  RawRecord r;
  r.Set("id", Quoted(id));
  r.Set("tenant", Quoted(tenant.name));
  r.Set("channels", R"(["web","ios","android"])");
  r.Set("pageType", Quoted(tenant.page_types[m.page_type]));
  r.Set("pageIds", m.type_wide ? "[]" : "[" + Quoted(tenant.pages[m.page].id) + "]");
  r.Set("zone", Quoted(kZones[m.zone]));
  r.Set("priority", "9999");
  r.Set("type", Quoted(m.type));
  r.Set("version", Int(kInvalidVersion + static_cast<int64_t>(rng.Below(1000))));
  r.Set("content", R"({"title":"rejected draft: must never be served"})");
  return r;
}

RawRecord ExperimentRecord(Rng& rng, const TenantPlan& tenant) {
  const ExperimentPlan& e = tenant.experiments[rng.Below(tenant.experiments.size())];
  RawRecord r;
  r.Set("id", Quoted(e.id));
  r.Set("tenant", Quoted(tenant.name));
  r.Set("channels", R"(["web"])");
  r.Set("pageType", Quoted(tenant.page_types[e.page_type]));
  r.Set("version", Int(kInvalidVersion + static_cast<int64_t>(rng.Below(1000))));
  r.Set("hashVersion", "2");
  r.Set("weights", "[0.5,0.5]");
  r.Set("variants", R"([{"key":"control"},{"key":"B","remove":["m00000-banner"]}])");
  return r;
}

RawRecord TemplateRecord(Rng& rng, const TenantPlan& tenant) {
  RawRecord r;
  r.Set("tenant", Quoted(tenant.name));
  r.Set("channel", Quoted(tenant.channels[rng.Below(tenant.channels.size())]));
  r.Set("pageType", Quoted(tenant.page_types[rng.Below(tenant.page_types.size())]));
  r.Set("version", Int(kInvalidVersion + static_cast<int64_t>(rng.Below(1000))));
  r.Set("zones", R"([{"zone":"main","limit":1}])");
  return r;
}

// An event being broken: envelope members as raw JSON, and the record.
struct Broken {
  std::string schema = "1";
  std::string kind = "\"module\"";
  std::string op = "\"upsert\"";
  RawRecord record;
  std::string raw_record;  // replaces `record` when not empty
};

constexpr std::string_view kBadInstants[] = {"2026-13-01T00:00:00Z",
                                             "2026-11-20 10:00:00Z",
                                             "2026-11-20t10:00:00z",
                                             "2026-02-30T00:00:00Z",
                                             "2026-11-20T24:00:00Z",
                                             "2026-11-20T10:00:00",
                                             "2026-11-20T10:00:00.Z",
                                             "2026-11-20T10:00:60Z",
                                             "2026-11-20T10:00:00+2:00",
                                             "tomorrow",
                                             "",
                                             "2026-11-20T10:00:00.1234567890Z"};

using Breaker = void (*)(Rng& rng, const TenantPlan& tenant, Broken* b);

struct Defect {
  std::string_view name;
  Breaker apply;
};

void AsExperiment(Rng& rng, const TenantPlan& tenant, Broken* b) {
  b->kind = "\"experiment\"";
  b->record = ExperimentRecord(rng, tenant);
}

void AsTemplate(Rng& rng, const TenantPlan& tenant, Broken* b) {
  b->kind = "\"template\"";
  b->record = TemplateRecord(rng, tenant);
}

// Each defect starts from a valid module upsert (Broken's defaults plus
// ModuleRecord) and breaks exactly one rule.
constexpr Defect kDefects[] = {
    {"schema 2", [](Rng&, const TenantPlan&, Broken* b) { b->schema = "2"; }},
    {"schema string", [](Rng&, const TenantPlan&, Broken* b) { b->schema = "\"1\""; }},
    {"schema float", [](Rng&, const TenantPlan&, Broken* b) { b->schema = "1.0"; }},
    {"unknown kind", [](Rng&, const TenantPlan&, Broken* b) { b->kind = "\"widget\""; }},
    {"kind case", [](Rng&, const TenantPlan&, Broken* b) { b->kind = "\"Module\""; }},
    {"unknown op", [](Rng&, const TenantPlan&, Broken* b) { b->op = "\"patch\""; }},
    {"op case", [](Rng&, const TenantPlan&, Broken* b) { b->op = "\"UPSERT\""; }},
    {"record array",
     [](Rng&, const TenantPlan&, Broken* b) { b->raw_record = R"(["m00001-banner"])"; }},
    {"record string",
     [](Rng&, const TenantPlan&, Broken* b) { b->raw_record = "\"m00001-banner\""; }},
    {"record null", [](Rng&, const TenantPlan&, Broken* b) { b->raw_record = "null"; }},
    {"missing zone", [](Rng&, const TenantPlan&, Broken* b) { b->record.Remove("zone"); }},
    {"missing tenant", [](Rng&, const TenantPlan&, Broken* b) { b->record.Remove("tenant"); }},
    {"missing pageType",
     [](Rng&, const TenantPlan&, Broken* b) { b->record.Remove("pageType"); }},
    {"missing channels",
     [](Rng&, const TenantPlan&, Broken* b) { b->record.Remove("channels"); }},
    {"empty id", [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("id", "\"\""); }},
    {"float version", [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("version", "3.0"); }},
    {"fractional version",
     [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("version", "2.5"); }},
    {"exponent version",
     [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("version", "1e2"); }},
    {"zero version", [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("version", "0"); }},
    {"negative version",
     [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("version", "-4"); }},
    {"string version",
     [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("version", "\"7\""); }},
    {"version 2^63",
     [](Rng&, const TenantPlan&, Broken* b) {
       b->record.Set("version", "9223372036854775808");
     }},
    {"missing version", [](Rng&, const TenantPlan&, Broken* b) { b->record.Remove("version"); }},
    {"bad schedule start",
     [](Rng& rng, const TenantPlan&, Broken* b) {
       b->record.Set("schedule", "{\"start\":" + Quoted(rng.Pick(kBadInstants)) + "}");
     }},
    {"bad schedule end",
     [](Rng& rng, const TenantPlan&, Broken* b) {
       b->record.Set("schedule", "{\"start\":\"2026-11-01T00:00:00Z\",\"end\":" +
                                     Quoted(rng.Pick(kBadInstants)) + "}");
     }},
    {"numeric schedule",
     [](Rng&, const TenantPlan&, Broken* b) {
       b->record.Set("schedule", R"({"start":1732000000})");
     }},
    {"schedule string",
     [](Rng&, const TenantPlan&, Broken* b) {
       b->record.Set("schedule", "\"2026-11-20T00:00:00Z\"");
     }},
    {"channels string",
     [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("channels", "\"web\""); }},
    {"channels number",
     [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("channels", R"([1,"web"])"); }},
    {"pageIds string",
     [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("pageIds", "\"home\""); }},
    {"float priority",
     [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("priority", "1.5"); }},
    {"string priority",
     [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("priority", "\"10\""); }},
    {"targeting array",
     [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("targeting", R"(["geo"])"); }},
    {"targeting string",
     [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("targeting", "\"geo=US\""); }},
    {"numeric type", [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("type", "7"); }},
    {"empty zone", [](Rng&, const TenantPlan&, Broken* b) { b->record.Set("zone", "\"\""); }},
    {"no variants",
     [](Rng& rng, const TenantPlan& t, Broken* b) {
       AsExperiment(rng, t, b);
       b->record.Set("variants", "[]");
     }},
    {"variant without key",
     [](Rng& rng, const TenantPlan& t, Broken* b) {
       AsExperiment(rng, t, b);
       b->record.Set("variants", R"([{"key":"control"},{"remove":["m00001-banner"]}])");
     }},
    {"variant strings",
     [](Rng& rng, const TenantPlan& t, Broken* b) {
       AsExperiment(rng, t, b);
       b->record.Set("variants", R"(["control","B"])");
     }},
    {"hashVersion string",
     [](Rng& rng, const TenantPlan& t, Broken* b) {
       AsExperiment(rng, t, b);
       b->record.Set("hashVersion", "\"2\"");
     }},
    {"weights strings",
     [](Rng& rng, const TenantPlan& t, Broken* b) {
       AsExperiment(rng, t, b);
       b->record.Set("weights", R"(["0.5","0.5"])");
     }},
    {"add without zone",
     [](Rng& rng, const TenantPlan& t, Broken* b) {
       AsExperiment(rng, t, b);
       b->record.Set("variants", R"([{"key":"control"},{"key":"B","add":[{"id":"x-bad-1"}]}])");
     }},
    {"experiment without channels",
     [](Rng& rng, const TenantPlan& t, Broken* b) {
       AsExperiment(rng, t, b);
       b->record.Remove("channels");
     }},
    {"negative limit",
     [](Rng& rng, const TenantPlan& t, Broken* b) {
       AsTemplate(rng, t, b);
       b->record.Set("zones", R"([{"zone":"main","limit":-1}])");
     }},
    {"template without zones",
     [](Rng& rng, const TenantPlan& t, Broken* b) {
       AsTemplate(rng, t, b);
       b->record.Remove("zones");
     }},
    {"delete without version",
     [](Rng&, const TenantPlan&, Broken* b) {
       b->op = "\"delete\"";
       b->record.Remove("version");
     }},
    {"template delete without channel",
     [](Rng& rng, const TenantPlan& t, Broken* b) {
       AsTemplate(rng, t, b);
       b->op = "\"delete\"";
       b->record.Remove("zones");
       b->record.Remove("channel");
     }},
};

}  // namespace

std::string_view AppendInvalidEvent(Rng& rng, const TenantPlan& tenant,
                                    std::string_view published_at, std::string* out) {
  Broken b;
  b.record = ModuleRecord(rng, tenant);
  const Defect& defect = rng.Pick(kDefects);
  defect.apply(rng, tenant, &b);
  if (b.raw_record.empty()) b.record.AppendTo(&b.raw_record);
  out->append("{\"schema\":");
  out->append(b.schema);
  out->append(",\"kind\":");
  out->append(b.kind);
  out->append(",\"op\":");
  out->append(b.op);
  out->append(",\"publishedAt\":\"");
  out->append(published_at);
  out->append("\",\"record\":");
  out->append(b.raw_record);
  out->push_back('}');
  return defect.name;
}

}  // namespace tempo::gen
