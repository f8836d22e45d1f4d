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
  const ModulePlan m = PlanModule(tenant, static_cast<int64_t>(rng.Below(
                                              static_cast<uint64_t>(tenant.modules))));
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

struct Envelope {
  std::string schema = "1";
  std::string kind = "\"module\"";
  std::string op = "\"upsert\"";
  std::string record;  // raw JSON
};

constexpr std::string_view kBadInstants[] = {
    "2026-13-01T00:00:00Z",  "2026-11-20 10:00:00Z", "2026-11-20t10:00:00z",
    "2026-02-30T00:00:00Z",  "2026-11-20T24:00:00Z", "2026-11-20T10:00:00",
    "2026-11-20T10:00:00.Z", "2026-11-20T10:00:60Z", "2026-11-20T10:00:00+2:00",
    "tomorrow",              "",                     "2026-11-20T10:00:00.1234567890Z"};

}  // namespace

std::string_view AppendInvalidEvent(Rng& rng, const TenantPlan& tenant,
                                    std::string_view published_at, std::string* out) {
  Envelope env;
  std::string_view defect;
  RawRecord rec = ModuleRecord(rng, tenant);
  constexpr int kDefects = 46;
  switch (rng.Below(kDefects)) {
    case 0: env.schema = "2", defect = "schema 2"; break;
    case 1: env.schema = "\"1\"", defect = "schema string"; break;
    case 2: env.schema = "1.0", defect = "schema float"; break;
    case 3: env.kind = "\"widget\"", defect = "unknown kind"; break;
    case 4: env.kind = "\"Module\"", defect = "kind case"; break;
    case 5: env.op = "\"patch\"", defect = "unknown op"; break;
    case 6: env.op = "\"UPSERT\"", defect = "op case"; break;
    case 7: env.record = R"(["m00001-banner"])", defect = "record array"; break;
    case 8: env.record = "\"m00001-banner\"", defect = "record string"; break;
    case 9: env.record = "null", defect = "record null"; break;
    case 10: rec.Remove("zone"), defect = "missing zone"; break;
    case 11: rec.Remove("tenant"), defect = "missing tenant"; break;
    case 12: rec.Remove("pageType"), defect = "missing pageType"; break;
    case 13: rec.Set("id", "\"\""), defect = "empty id"; break;
    case 14: rec.Set("version", "3.0"), defect = "float version"; break;
    case 15: rec.Set("version", "2.5"), defect = "fractional version"; break;
    case 16: rec.Set("version", "1e2"), defect = "exponent version"; break;
    case 17: rec.Set("version", "0"), defect = "zero version"; break;
    case 18: rec.Set("version", "-4"), defect = "negative version"; break;
    case 19: rec.Set("version", "\"7\""), defect = "string version"; break;
    case 20: rec.Set("version", "9223372036854775808"), defect = "version 2^63"; break;
    case 21: rec.Remove("version"), defect = "missing version"; break;
    case 22:
    case 23:
    case 24: {
      const std::string_view bad = rng.Pick(kBadInstants);
      rec.Set("schedule", std::string(rng.Percent(50) ? "{\"start\":" : "{\"end\":") + Quoted(bad) +
                              "}");
      defect = "bad schedule instant";
      break;
    }
    case 25: rec.Set("schedule", R"({"start":1732000000})"), defect = "numeric schedule"; break;
    case 26: rec.Set("schedule", "\"2026-11-20T00:00:00Z\""), defect = "schedule string"; break;
    case 27: rec.Set("channels", "\"web\""), defect = "channels string"; break;
    case 28: rec.Set("channels", R"([1,"web"])"), defect = "channels number"; break;
    case 29: rec.Set("pageIds", "\"home\""), defect = "pageIds string"; break;
    case 30: rec.Set("priority", "1.5"), defect = "float priority"; break;
    case 31: rec.Set("priority", "\"10\""), defect = "string priority"; break;
    case 32: rec.Set("targeting", R"(["geo"])"), defect = "targeting array"; break;
    case 33: rec.Set("targeting", "\"geo=US\""), defect = "targeting string"; break;
    case 34: rec.Set("type", "7"), defect = "numeric type"; break;
    case 35: rec.Set("zone", "\"\""), defect = "empty zone"; break;
    default: {
      // Experiments, templates and deletes.
      env.kind = "\"experiment\"";
      RawRecord exp = ExperimentRecord(rng, tenant);
      RawRecord tmpl = TemplateRecord(rng, tenant);
      switch (rng.Below(10)) {
        case 0: exp.Set("variants", "[]"), defect = "no variants"; break;
        case 1: exp.Set("variants", R"([{"remove":["m00001-banner"]}])"), defect = "variant key"; break;
        case 2: exp.Set("variants", R"(["control","B"])"), defect = "variant strings"; break;
        case 3: exp.Set("hashVersion", "\"2\""), defect = "hashVersion string"; break;
        case 4: exp.Set("weights", R"(["0.5","0.5"])"), defect = "weights strings"; break;
        case 5:
          exp.Set("variants", R"([{"key":"control"},{"key":"B","add":[{"id":"x-bad-1"}]}])");
          defect = "add without zone";
          break;
        case 6:
          env.kind = "\"template\"";
          tmpl.Set("zones", R"([{"zone":"main","limit":-1}])");
          defect = "negative limit";
          break;
        case 7:
          env.kind = "\"template\"";
          tmpl.Remove("zones");
          defect = "template without zones";
          break;
        case 8:
          env.kind = "\"module\"";
          env.op = "\"delete\"";
          rec.Remove("version");
          defect = "delete without version";
          break;
        default:
          env.kind = "\"template\"";
          env.op = "\"delete\"";
          tmpl.Remove("channel");
          defect = "template delete without channel";
          break;
      }
      if (env.kind == "\"experiment\"") exp.AppendTo(&env.record);
      if (env.kind == "\"template\"") tmpl.AppendTo(&env.record);
      break;
    }
  }
  if (env.record.empty()) rec.AppendTo(&env.record);
  out->append("{\"schema\":");
  out->append(env.schema);
  out->append(",\"kind\":");
  out->append(env.kind);
  out->append(",\"op\":");
  out->append(env.op);
  out->append(",\"publishedAt\":\"");
  out->append(published_at);
  out->append("\",\"record\":");
  out->append(env.record);
  out->push_back('}');
  return defect;
}

}  // namespace tempo::gen
