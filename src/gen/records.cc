// Module, experiment and template records.
#include "gen/records.h"

#include <vector>

#include "common/json.h"
#include "gen/content.h"
#include "gen/rng.h"
#include "gen/timestamp.h"

namespace tempo::gen {
namespace {

// The fields an edit may change. Each revision flips each field with its own
// chance; a field's value at revision r is drawn from the latest revision
// <= r that changed it (0 = the original), so edits are cumulative.
enum Field : uint64_t {
  kChannelsField,
  kZoneField,
  kPriorityField,
  kPageIdsField,
  kScheduleField,
  kTargetingField,
  kContentField,
  kExtrasField,
  kVariantsField,
  kCoverageField,
  kConditionField,
  kZonesField,
  kFieldCount,
};
constexpr int kEditPercent[kFieldCount] = {5, 4, 50, 3, 20, 15, 80, 30, 40, 50, 20, 100};
constexpr uint64_t kFlagStream = 0x666c6167;  // "flag"

uint32_t Owner(uint64_t seed, Field field, uint32_t revision) {
  for (uint32_t j = revision; j > 0; --j) {
    Rng flag(StreamSeed(seed, {kFlagStream, j, field}));
    if (flag.Percent(kEditPercent[field])) return j;
  }
  return 0;
}

Rng FieldRng(uint64_t seed, Field field, uint32_t revision) {
  return Rng(StreamSeed(seed, {field, Owner(seed, field, revision)}));
}

constexpr int64_t kAnchorYear = 2026;
constexpr int kAnchorMonth = 11;
constexpr int64_t kDaysPerYear = 365;

void AppendStringList(const std::vector<std::string_view>& items, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(items[i], out);
  }
  out->push_back(']');
}

// A channel list drawn from the tenant's channels, with the duplicates, empty
// lists and unused channels that SPEC §11.16 speaks of.
void AppendChannels(Rng& rng, const TenantPlan& tenant, std::string* out) {
  // all, web, web+ios, ios+android, android, ios, duplicate, subset, unused, empty
  static constexpr int kShapes[] = {40, 15, 12, 10, 8, 5, 4, 3, 2, 1};
  std::vector<std::string_view> list;
  switch (rng.Weighted(kShapes)) {
    case 0:
      for (const auto& c : tenant.channels) list.push_back(c);
      break;
    case 1:
      list = {"web"};
      break;
    case 2:
      list = {"web", "ios"};
      break;
    case 3:
      list = {"ios", "android"};
      break;
    case 4:
      list = {"android"};
      break;
    case 5:
      list = {"ios"};
      break;
    case 6:
      list = {"web", "ios", "web"};
      break;
    case 7:
      for (const auto& c : tenant.channels) {
        if (rng.Percent(50)) list.push_back(c);
      }
      if (list.empty()) list.push_back(tenant.channels.back());
      break;
    case 8:
      list = {"web", "watch"};
      break;
    default:
      break;  // stored, never served
  }
  AppendStringList(list, out);
}

void AppendPageIdList(Rng& rng, const TenantPlan& tenant, uint32_t page, std::string* out) {
  const Page& p = tenant.pages[page];
  const auto& same_type = tenant.pages_by_type[p.page_type];
  std::vector<std::string_view> list = {p.id};
  // one page, two pages, a duplicate, a never-matching "*" or "".
  static constexpr int kShapes[] = {80, 15, 2, 2, 1};
  switch (rng.Weighted(kShapes)) {
    case 1:
      list.push_back(tenant.pages[same_type[rng.Below(same_type.size())]].id);
      break;
    case 2:
      list.push_back(p.id);
      break;
    case 3:
      list.push_back("*");
      break;
    case 4:
      list.push_back("");
      break;
    default:
      break;
  }
  AppendStringList(list, out);
}

void AppendPriority(Rng& rng, std::string* out) {
  static constexpr int64_t kCommon[] = {-5, 0, 10, 50, 100, 200, 500, 1000};
  static constexpr int64_t kHuge[] = {9007199254740993, 4611686018427387904, -9007199254740993};
  const uint64_t r = rng.Below(100);
  if (r < 88) {
    AppendInt(rng.Pick(kCommon), out);
  } else if (r < 99) {
    AppendInt(rng.Between(-100, 2000), out);
  } else {
    AppendInt(rng.Pick(kHuge), out);  // beyond 2^53: must stay exact
  }
}

// Appends `,"schedule":{...}` (or nothing, for most modules).
void AppendScheduleMember(Rng& rng, std::string* out) {
  if (rng.Percent(55)) return;
  const int64_t anchor = ScheduleAnchorSeconds();
  const int64_t day = kSecondsPerDay;
  const int64_t year = kDaysPerYear * day;
  auto in_day = [&rng] { return rng.Between(0, 95) * 900; };  // a quarter hour of the day
  out->append(",\"schedule\":{");
  // past, current, start only, end only, future, null bound, empty
  static constexpr int kShapes[] = {20, 35, 15, 10, 14, 4, 2};
  switch (rng.Weighted(kShapes)) {
    case 0: {  // ended before the anchor
      const int64_t start = anchor - rng.Between(200, 400) * day + in_day();
      out->append("\"start\":");
      AppendScheduleInstant(rng, start, out);
      out->append(",\"end\":");
      AppendScheduleInstant(rng, anchor - rng.Between(20, 150) * day + in_day(), out);
      break;
    }
    case 1:
      out->append("\"start\":");
      AppendScheduleInstant(rng, anchor - rng.Between(5, 300) * day + in_day(), out);
      out->append(",\"end\":");
      AppendScheduleInstant(rng, anchor + 4 * year + rng.Between(0, 2 * kDaysPerYear) * day, out);
      break;
    case 2:
      out->append("\"start\":");
      AppendScheduleInstant(rng, anchor - rng.Between(1, 700) * day + in_day(), out);
      break;
    case 3:
      out->append("\"end\":");
      AppendScheduleInstant(rng, anchor + 4 * year + rng.Between(0, 2 * kDaysPerYear) * day, out);
      break;
    case 4:
      out->append("\"start\":");
      AppendScheduleInstant(rng, anchor + 6 * year + rng.Between(0, 2 * kDaysPerYear) * day, out);
      if (rng.Percent(60)) {
        out->append(",\"end\":");
        AppendScheduleInstant(rng, anchor + 9 * year + rng.Between(0, kDaysPerYear) * day, out);
      }
      break;
    case 5:
      out->append("\"start\":null,\"end\":");
      AppendScheduleInstant(rng, anchor + 5 * year, out);
      break;
    default:
      break;  // {}: no bounds, always on
  }
  out->push_back('}');
}

// Appends `,"targeting":...` for about a third of the modules.
void AppendTargetingMember(Rng& rng, std::string* out) {
  const uint64_t r = rng.Below(100);
  if (r < 63) return;
  out->append(",\"targeting\":");
  if (r < 65) {
    out->append("null");  // null means absent
  } else if (r < 66) {
    out->append("{}");  // an empty condition always holds
  } else {
    AppendCondition(rng, out);
  }
}

// Appends `,"content":...`: usually an object, sometimes absent or a scalar.
void AppendContentMember(Rng& rng, std::string_view type, std::string* out) {
  const uint64_t r = rng.Below(100);
  if (r < 2) return;  // absent: served as null
  out->append(",\"content\":");
  if (r < 3) {
    AppendOddValue(rng, out);
  } else {
    AppendContent(rng, type, rng.Percent(3), out);
  }
}

void AppendExtras(Rng& rng, std::string* out) {
  static constexpr std::string_view kEditors[] = {"alice", "bob", "chloé", "dmitri", "李雷"};
  if (rng.Percent(10)) {
    out->append(",\"editor\":");
    AppendJsonString(rng.Pick(kEditors), out);
  }
  if (rng.Percent(3)) out->append(",\"notes\":null");
  if (rng.Percent(2)) out->append(",\"_meta\":{\"source\":\"cms\",\"rev\":[1,2,3]}");
}

// A module id of the experiment's page type (type-wide when possible, as
// experiments mostly touch shared slots), or a stale id when none is found.
void AppendTargetModuleId(Rng& rng, const TenantPlan& tenant, uint32_t page_type,
                          std::string* out) {
  constexpr int kTries = 24;
  for (int i = 0; i < kTries; ++i) {
    const bool type_wide = i < kTries / 2;
    const int64_t index =
        type_wide ? static_cast<int64_t>(rng.Below(static_cast<uint64_t>(tenant.type_wide_count))) *
                        tenant.type_wide_stride
                  : static_cast<int64_t>(rng.Below(static_cast<uint64_t>(tenant.modules)));
    if (index >= tenant.modules) continue;
    const ModulePlan m = PlanModule(tenant, index);
    if (m.page_type != page_type) continue;
    out->push_back('"');
    AppendModuleId(index, m.type, out);
    out->push_back('"');
    return;
  }
  out->append("\"m99999-retired\"");
}

// An experiment `add` entry (SPEC §11.24): tenant and pageType omitted,
// channels and pageIds often absent.
void AppendAddedModule(Rng& rng, const TenantPlan& tenant, const ExperimentPlan& exp, int n,
                       std::string* out) {
  out->append("{\"id\":");
  if (rng.Percent(30)) {
    AppendTargetModuleId(rng, tenant, exp.page_type, out);  // replaces a selected module
  } else {
    std::string id = "x-" + exp.id + "-";
    AppendInt(n, &id);
    AppendJsonString(id, out);
  }
  if (rng.Percent(70)) {
    out->append(",\"channels\":");
    AppendChannels(rng, tenant, out);
  }
  const uint64_t pages = rng.Below(100);
  if (pages < 40) {
    out->append(",\"pageIds\":[]");
  } else if (pages < 70) {
    const auto& of_type = tenant.pages_by_type[exp.page_type];
    out->append(",\"pageIds\":");
    AppendPageIdList(rng, tenant, of_type[rng.Below(of_type.size())], out);
  }
  out->append(",\"zone\":");
  AppendJsonString(rng.Pick(kZones), out);
  static constexpr int64_t kAddPriorities[] = {150, 1000, -1, 0, 250};
  if (rng.Percent(90)) {
    out->append(",\"priority\":");
    AppendInt(rng.Pick(kAddPriorities), out);
  }
  const std::string_view type = rng.Pick(kModuleTypes);
  out->append(",\"type\":");
  AppendJsonString(type, out);
  if (rng.Percent(50)) {
    out->append(",\"version\":");
    AppendInt(rng.Between(1, 30), out);
  }
  if (rng.Percent(10)) AppendScheduleMember(rng, out);
  if (rng.Percent(20)) {
    out->append(",\"targeting\":");
    AppendCondition(rng, out);
  }
  AppendContentMember(rng, type, out);
  out->push_back('}');
}

void AppendVariant(Rng& rng, const TenantPlan& tenant, const ExperimentPlan& exp,
                   std::string_view key, std::string* out) {
  out->append("{\"key\":");
  AppendJsonString(key, out);
  if (key == "control") {
    out->push_back('}');
    return;
  }
  if (rng.Percent(40)) {
    out->append(",\"remove\":[");
    const int n = static_cast<int>(rng.Between(1, 2));
    for (int i = 0; i < n; ++i) {
      if (i > 0) out->push_back(',');
      AppendTargetModuleId(rng, tenant, exp.page_type, out);
    }
    out->push_back(']');
  }
  int adds = 0;
  if (rng.Percent(35)) {
    out->append(",\"add\":[");
    adds = static_cast<int>(rng.Between(1, 2));
    for (int i = 0; i < adds; ++i) {
      if (i > 0) out->push_back(',');
      AppendAddedModule(rng, tenant, exp, i + 1, out);
    }
    out->push_back(']');
  }
  if (rng.Percent(40)) {
    out->append(",\"priority\":{");
    const int n = static_cast<int>(rng.Between(1, 3));
    static constexpr int64_t kOverrides[] = {1, 300, 500, 999, -10, 2000};
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      std::string id;
      if (adds > 0 && i == n - 1 && rng.Percent(50)) {
        AppendJsonString("x-" + exp.id + "-1", &id);
      } else {
        AppendTargetModuleId(rng, tenant, exp.page_type, &id);
      }
      bool seen = false;
      for (const auto& other : ids) seen = seen || other == id;
      if (seen) continue;  // one override per id keeps the object's keys unique
      if (!ids.empty()) out->push_back(',');
      out->append(id);
      out->push_back(':');
      AppendInt(rng.Pick(kOverrides), out);
      ids.push_back(std::move(id));
    }
    out->push_back('}');
  }
  out->push_back('}');
}

void AppendWeights(Rng& rng, size_t variants, std::string* out) {
  static constexpr std::string_view kTwo[] = {"[0.5,0.5]", "[0.2,0.8]", "[0.9,0.1]", "[0.25,0.75]"};
  static constexpr std::string_view kThree[] = {
      "[0.3333333333333333,0.3333333333333333,0.3333333333333333]", "[0.1,0.3,0.6]",
      "[0.5,0.25,0.25]"};
  static constexpr std::string_view kFour[] = {"[0.25,0.25,0.25,0.25]", "[0.4,0.2,0.2,0.2]"};
  if (variants == 2) {
    out->append(rng.Pick(kTwo));
  } else if (variants == 3) {
    out->append(rng.Pick(kThree));
  } else {
    out->append(rng.Pick(kFour));
  }
}

}  // namespace

int64_t ScheduleAnchorSeconds() { return UnixSecondsOf(kAnchorYear, kAnchorMonth, 1); }

void AppendScheduleInstant(Rng& rng, int64_t unix_seconds, std::string* out) {
  static constexpr int kOffsets[] = {120, -300, 330, -210, 60, 0, -480, 540};
  static constexpr int kDigits[] = {0, 3, 6, 9, 1};
  const bool zulu = rng.Percent(70);
  const int offset = zulu ? 0 : rng.Pick(kOffsets);
  const int digits = rng.Percent(60) ? 0 : rng.Pick(kDigits);
  const auto nanos = static_cast<uint32_t>(digits == 0 ? 0 : rng.Below(1'000'000'000));
  out->push_back('"');
  AppendRfc3339(unix_seconds, nanos, digits, offset, zulu, out);
  out->push_back('"');
}

void AppendEnvelopeStart(std::string_view kind, std::string_view op, std::string_view published_at,
                         std::string* out) {
  out->append("{\"schema\":1,\"kind\":\"");
  out->append(kind);
  out->append("\",\"op\":\"");
  out->append(op);
  out->append("\",\"publishedAt\":\"");
  out->append(published_at);
  out->append("\",\"record\":");
}

void AppendModuleRecord(const TenantPlan& tenant, const ModulePlan& module, int64_t version,
                        uint32_t revision, std::string* out) {
  const uint64_t seed = module.seed;
  out->append("{\"id\":\"");
  AppendModuleId(module.index, module.type, out);
  out->append("\",\"tenant\":");
  AppendJsonString(tenant.name, out);
  {
    Rng rng = FieldRng(seed, kChannelsField, revision);
    out->append(",\"channels\":");
    AppendChannels(rng, tenant, out);
  }
  out->append(",\"pageType\":");
  AppendJsonString(tenant.page_types[module.page_type], out);
  {
    Rng rng = FieldRng(seed, kPageIdsField, revision);
    if (module.type_wide) {
      const uint64_t r = rng.Below(100);
      if (r < 80) {
        out->append(",\"pageIds\":[]");
      } else if (r < 95) {
        // absent: type-wide
      } else {
        out->append(",\"pageIds\":null");
      }
    } else {
      const auto& of_type = tenant.pages_by_type[module.page_type];
      const uint32_t page = Owner(seed, kPageIdsField, revision) == 0
                                ? module.page
                                : of_type[rng.Below(of_type.size())];  // moved to another page
      out->append(",\"pageIds\":");
      AppendPageIdList(rng, tenant, page, out);
    }
  }
  {
    Rng rng = FieldRng(seed, kZoneField, revision);
    const uint32_t zone = Owner(seed, kZoneField, revision) == 0
                              ? module.zone
                              : static_cast<uint32_t>(rng.Below(std::size(kZones)));
    out->append(",\"zone\":\"");
    out->append(kZones[zone]);
    out->push_back('"');
  }
  {
    Rng rng = FieldRng(seed, kPriorityField, revision);
    if (!rng.Percent(4)) {
      out->append(",\"priority\":");
      AppendPriority(rng, out);
    }
  }
  {
    Rng rng(StreamSeed(seed, {kFieldCount}));
    const uint64_t r = rng.Below(100);
    if (r < 96) {
      out->append(",\"type\":\"");
      out->append(module.type);
      out->push_back('"');
    } else if (r < 98) {
      out->append(",\"type\":\"\"");
    }  // else absent: ""
  }
  out->append(",\"version\":");
  AppendInt(version, out);
  {
    Rng rng = FieldRng(seed, kScheduleField, revision);
    AppendScheduleMember(rng, out);
  }
  {
    Rng rng = FieldRng(seed, kTargetingField, revision);
    AppendTargetingMember(rng, out);
  }
  {
    Rng rng = FieldRng(seed, kContentField, revision);
    AppendContentMember(rng, module.type, out);
  }
  {
    Rng rng = FieldRng(seed, kExtrasField, revision);
    AppendExtras(rng, out);
  }
  out->push_back('}');
}

void AppendExperimentRecord(const TenantPlan& tenant, const ExperimentPlan& experiment,
                            int64_t version, uint32_t revision, std::string* out) {
  const uint64_t seed = experiment.seed;
  Rng fixed(StreamSeed(seed, {kFieldCount}));
  out->append("{\"id\":");
  AppendJsonString(experiment.id, out);
  out->append(",\"tenant\":");
  AppendJsonString(tenant.name, out);
  out->append(",\"channels\":");
  std::vector<std::string_view> channels(experiment.channels.begin(), experiment.channels.end());
  AppendStringList(channels, out);
  out->append(",\"pageType\":");
  AppendJsonString(tenant.page_types[experiment.page_type], out);
  out->append(",\"version\":");
  AppendInt(version, out);

  // hashAttribute: visitorId, userId, absent, "" (= visitorId).
  static constexpr int kHashAttributes[] = {75, 10, 10, 5};
  switch (fixed.Weighted(kHashAttributes)) {
    case 0:
      out->append(",\"hashAttribute\":\"visitorId\"");
      break;
    case 1:
      out->append(",\"hashAttribute\":\"userId\"");
      break;
    case 3:
      out->append(",\"hashAttribute\":\"\"");
      break;
    default:
      break;
  }
  // seed: "seed-<id>", the id itself, absent, "" (= the id).
  static constexpr int kSeeds[] = {50, 25, 20, 5};
  switch (fixed.Weighted(kSeeds)) {
    case 0:
      out->append(",\"seed\":");
      AppendJsonString("seed-" + experiment.id, out);
      break;
    case 1:
      out->append(",\"seed\":");
      AppendJsonString(experiment.id, out);
      break;
    case 3:
      out->append(",\"seed\":\"\"");
      break;
    default:
      break;
  }
  // hashVersion: 2, 1, absent, null, 0 (= 1), 3 (never assigns).
  static constexpr int kHashVersions[] = {45, 35, 10, 5, 3, 2};
  static constexpr std::string_view kHashVersionJson[] = {"2", "1", "", "null", "0", "3"};
  const std::string_view hash_version = kHashVersionJson[fixed.Weighted(kHashVersions)];
  if (!hash_version.empty()) {
    out->append(",\"hashVersion\":");
    out->append(hash_version);
  }
  {
    Rng rng = FieldRng(seed, kCoverageField, revision);
    // absent (= 1), 1, 0.5, 0.8, 0.95, null (= 1), 1.0
    static constexpr std::string_view kCoverage[] = {"", "1", "0.5", "0.8", "0.95", "null", "1.0"};
    static constexpr int kCoverageWeights[] = {50, 15, 10, 10, 5, 5, 5};
    const std::string_view coverage = kCoverage[rng.Weighted(kCoverageWeights)];
    if (!coverage.empty()) {
      out->append(",\"coverage\":");
      out->append(coverage);
    }
    if (rng.Percent(70)) {
      out->append(",\"weights\":");
      AppendWeights(rng, experiment.variant_keys.size(), out);
    }
  }
  {
    Rng rng = FieldRng(seed, kConditionField, revision);
    if (rng.Percent(30)) {
      out->append(",\"condition\":");
      AppendCondition(rng, out);
    }
  }
  {
    Rng rng = FieldRng(seed, kVariantsField, revision);
    out->append(",\"variants\":[");
    for (size_t i = 0; i < experiment.variant_keys.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendVariant(rng, tenant, experiment, experiment.variant_keys[i], out);
    }
    out->push_back(']');
  }
  out->push_back('}');
}

void AppendTemplateRecord(const TenantPlan& tenant, const TemplatePlan& tmpl, int64_t version,
                          uint32_t revision, std::string* out) {
  out->append("{\"tenant\":");
  AppendJsonString(tenant.name, out);
  out->append(",\"channel\":");
  AppendJsonString(tenant.channels[tmpl.channel], out);
  out->append(",\"pageType\":");
  AppendJsonString(tenant.page_types[tmpl.page_type], out);
  out->append(",\"version\":");
  AppendInt(version, out);
  Rng rng = FieldRng(tmpl.seed, kZonesField, revision);
  std::vector<std::string_view> zones(std::begin(kZones), std::end(kZones));
  rng.Shuffle(&zones);
  zones.resize(static_cast<size_t>(rng.Between(3, static_cast<int64_t>(zones.size()))));
  out->append(",\"zones\":[");
  auto append_zone = [&](std::string_view zone) {
    out->append("{\"zone\":\"");
    out->append(zone);
    out->push_back('"');
    const uint64_t r = rng.Below(100);
    if (r < 40) {
      // no limit
    } else if (r < 50) {
      out->append(",\"limit\":null");
    } else if (r < 53) {
      out->append(",\"limit\":0");  // empties the zone
    } else {
      out->append(",\"limit\":");
      AppendInt(rng.Between(1, 5), out);
    }
    out->push_back('}');
  };
  for (size_t i = 0; i < zones.size(); ++i) {
    if (i > 0) out->push_back(',');
    append_zone(zones[i]);
  }
  if (rng.Percent(3)) {  // listed twice: the first entry wins
    out->push_back(',');
    append_zone(zones.front());
  }
  out->append("]}");
}

void AppendModuleDelete(const TenantPlan& tenant, const ModulePlan& module, int64_t version,
                        std::string* out) {
  out->append("{\"id\":\"");
  AppendModuleId(module.index, module.type, out);
  out->append("\",\"tenant\":");
  AppendJsonString(tenant.name, out);
  out->append(",\"version\":");
  AppendInt(version, out);
  out->push_back('}');
}

void AppendExperimentDelete(const TenantPlan& tenant, const ExperimentPlan& experiment,
                            int64_t version, std::string* out) {
  out->append("{\"id\":");
  AppendJsonString(experiment.id, out);
  out->append(",\"tenant\":");
  AppendJsonString(tenant.name, out);
  out->append(",\"version\":");
  AppendInt(version, out);
  out->push_back('}');
}

void AppendTemplateDelete(const TenantPlan& tenant, const TemplatePlan& tmpl, int64_t version,
                          std::string* out) {
  out->append("{\"tenant\":");
  AppendJsonString(tenant.name, out);
  out->append(",\"channel\":");
  AppendJsonString(tenant.channels[tmpl.channel], out);
  out->append(",\"pageType\":");
  AppendJsonString(tenant.page_types[tmpl.page_type], out);
  out->append(",\"version\":");
  AppendInt(version, out);
  out->push_back('}');
}

}  // namespace tempo::gen
