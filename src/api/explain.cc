// Explain(): a layouts query, answered with the selection's trace as JSON.
#include "api/explain.h"

#include <algorithm>
#include <string>
#include <vector>

#include "api/query.h"
#include "api/service.h"
#include "cache/read_scope.h"
#include "common/json.h"
#include "cond/js_number.h"
#include "select/select.h"

namespace tempo::api {
namespace {

const ApiError kUnavailable{503, "unavailable", "The content store cannot answer now."};

// The tier names of the admin routes' JSON.
const char* TierJsonName(Tier tier) {
  switch (tier) {
    case Tier::kL1:
      return "l1";
    case Tier::kL2:
      return "l2";
    case Tier::kOrigin:
      break;
  }
  return "origin";
}

void AppendKey(std::string_view key, std::string* out) {
  if (out->back() != '{' && out->back() != '[') out->push_back(',');
  AppendJsonString(key, out);
  out->push_back(':');
}

void AppendOptionalString(const std::optional<std::string>& s, std::string* out) {
  if (s) {
    AppendJsonString(*s, out);
  } else {
    out->append("null");
  }
}

void AppendInstant(std::optional<UnixNanos> at, std::string* out) {
  if (!at) {
    out->append("null");
    return;
  }
  out->push_back('"');
  AppendRfc3339(*at, out);
  out->push_back('"');
}

template <typename T, typename F>
void AppendList(const std::vector<T>& items, F&& append_item, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out->push_back(',');
    append_item(items[i]);
  }
  out->push_back(']');
}

void AppendStrings(const std::vector<std::string_view>& ids, std::string* out) {
  AppendList(
      ids, [out](std::string_view id) { AppendJsonString(id, out); }, out);
}

void AppendRequest(const PageRequest& r, const select::SelectionTrace& trace, std::string* out) {
  out->append("{\"tenant\":");
  AppendJsonString(r.tenant, out);
  AppendKey("channel", out);
  AppendJsonString(r.channel, out);
  AppendKey("pageType", out);
  AppendJsonString(r.page_type, out);
  AppendKey("pageId", out);
  AppendOptionalString(r.page_id, out);
  AppendKey("visitorId", out);
  AppendOptionalString(r.visitor_id, out);
  AppendKey("zones", out);
  AppendList(
      r.zones, [out](const std::string& z) { AppendJsonString(z, out); }, out);
  AppendKey("variants", out);
  AppendList(
      r.variants,
      [out](const auto& v) {
        out->append("{\"experiment\":");
        AppendJsonString(v.first, out);
        out->append(",\"variant\":");
        AppendJsonString(v.second, out);
        out->push_back('}');
      },
      out);
  AppendKey("attributes", out);
  out->push_back('{');
  for (const PageRequest::Attribute& a : r.attributes) {
    AppendKey(a.name, out);
    if (a.values.size() == 1) {
      AppendJsonString(a.values[0], out);
    } else {
      AppendList(
          a.values, [out](const std::string& v) { AppendJsonString(v, out); }, out);
    }
  }
  out->push_back('}');
  AppendKey("at", out);
  AppendInstant(trace.at, out);
  AppendKey("at_from", out);
  out->append(r.at ? "\"query\"" : "\"now\"");
  AppendKey("evaluated_attributes", out);
  out->append(trace.attributes_json);
  out->push_back('}');
}

void AppendSlice(const select::PageSlice& slice, Tier tier, std::string* out) {
  out->append("{\"scope\":");
  AppendJsonString(slice.scope, out);
  AppendKey("tier", out);
  AppendJsonString(TierJsonName(tier), out);
  AppendKey("version", out);
  AppendInt(slice.max_version, out);
  AppendKey("modules", out);
  AppendInt(static_cast<int64_t>(slice.modules.size()), out);
  AppendKey("experiments", out);
  AppendInt(static_cast<int64_t>(slice.experiments.size()), out);
  AppendKey("template", out);
  if (!slice.page_template) {
    out->append("null");
  } else {
    AppendList(
        slice.page_template->zones,
        [out](const events::TemplateZone& z) {
          out->append("{\"zone\":");
          AppendJsonString(z.zone, out);
          out->append(",\"limit\":");
          if (z.limit) {
            AppendInt(*z.limit, out);
          } else {
            out->append("null");
          }
          out->push_back('}');
        },
        out);
  }
  out->push_back('}');
}

void AppendNumber(double n, std::string* out) { cond::AppendJsNumber(n, out); }

// A condition's JSON text, or null when there is none (or it is unknown).
void AppendCondition(const std::string& json, std::string* out) {
  out->append(json.empty() ? "null" : json);
}

void AppendExperiment(const select::ExperimentTrace& t, std::string* out) {
  const select::CompiledExperiment& e = *t.experiment;
  out->append("{\"id\":");
  AppendJsonString(e.id, out);
  AppendKey("assigned", out);
  out->append(t.assigned ? "true" : "false");
  AppendKey("how", out);
  out->append(!t.assigned ? "null" : t.forced ? "\"forced\"" : "\"hashed\"");
  AppendKey("reason", out);
  AppendJsonString(t.reason, out);
  AppendKey("condition", out);
  AppendCondition(t.condition_json, out);
  AppendKey("condition_holds", out);
  out->append(!t.condition_holds ? "null" : *t.condition_holds ? "true" : "false");
  if (!t.failing_json.empty()) {
    AppendKey("failing", out);
    out->append(t.failing_json);
  }
  AppendKey("hash_attribute", out);
  AppendJsonString(e.hash_attribute, out);
  AppendKey("hash_input", out);
  if (t.hash_input.empty()) {
    out->append("null");
  } else {
    AppendJsonString(t.hash_input, out);
  }
  AppendKey("seed", out);
  AppendJsonString(e.seed, out);
  AppendKey("hash_version", out);
  AppendNumber(e.hash_version, out);
  AppendKey("hash", out);
  if (t.hash) {
    AppendNumber(*t.hash, out);
  } else {
    out->append("null");
  }
  double coverage = 0;
  for (const cond::BucketRange& r : e.ranges) coverage += r.second - r.first;
  AppendKey("coverage", out);
  AppendNumber(coverage, out);
  AppendKey("ranges", out);
  AppendList(
      e.ranges,
      [out](const cond::BucketRange& r) {
        out->push_back('[');
        AppendNumber(r.first, out);
        out->push_back(',');
        AppendNumber(r.second, out);
        out->push_back(']');
      },
      out);
  AppendKey("variants", out);
  AppendList(
      e.variants, [out](const select::CompiledVariant& v) { AppendJsonString(v.key, out); }, out);
  AppendKey("variant", out);
  if (t.assigned) {
    AppendJsonString(t.variant, out);
  } else {
    out->append("null");
  }
  if (!t.ignored_forced_key.empty()) {
    AppendKey("ignored_forced_variant", out);
    AppendJsonString(t.ignored_forced_key, out);
  }
  AppendKey("overlay", out);
  out->append("{\"removed\":");
  AppendStrings(t.removed, out);
  out->append(",\"added\":");
  AppendStrings(t.added, out);
  out->append(",\"add_dropped\":");
  AppendStrings(t.add_dropped, out);
  out->append(",\"priorities\":");
  AppendList(
      t.priorities,
      [out](const select::ExperimentTrace::Override& o) {
        out->append("{\"id\":");
        AppendJsonString(o.id, out);
        out->append(",\"from\":");
        AppendInt(o.from, out);
        out->append(",\"to\":");
        AppendInt(o.to, out);
        out->push_back('}');
      },
      out);
  out->append("}}");
}

void AppendModule(const select::ModuleTrace& t, UnixNanos at, std::string* out) {
  const select::CompiledModule& m = *t.module;
  out->append("{\"id\":");
  AppendJsonString(m.id(), out);
  AppendKey("zone", out);
  AppendJsonString(m.zone(), out);
  AppendKey("scope", out);
  if (t.experiment.empty()) {
    AppendJsonString(t.scope, out);
  } else {
    out->append("null,\"added_by\":{\"experiment\":");
    AppendJsonString(t.experiment, out);
    out->append(",\"variant\":");
    AppendJsonString(t.variant, out);
    out->push_back('}');
  }
  AppendKey("outcome", out);
  AppendJsonString(select::StepName(t.outcome), out);
  if (!t.reason.empty()) {
    AppendKey("reason", out);
    AppendJsonString(t.reason, out);
  }
  AppendKey("priority", out);
  AppendInt(t.priority, out);
  AppendKey("base_priority", out);
  AppendInt(m.priority, out);
  AppendKey("version", out);
  AppendInt(m.version, out);
  AppendKey("position", out);
  if (t.outcome == select::Step::kKept) {
    AppendInt(t.position, out);
  } else {
    out->append("null");
  }
  switch (t.outcome) {
    case select::Step::kSchedule:
      out->append(",\"schedule\":{\"start\":");
      AppendInstant(t.schedule_start, out);
      out->append(",\"end\":");
      AppendInstant(t.schedule_end, out);
      out->append(",\"at\":");
      AppendInstant(at, out);
      out->push_back('}');
      break;
    case select::Step::kTargeting:
      AppendKey("condition", out);
      AppendCondition(t.condition_json, out);
      if (!t.failing_json.empty()) {
        AppendKey("failing", out);
        out->append(t.failing_json);
      }
      break;
    case select::Step::kExperiment:
      out->append(",\"removed_by\":{\"experiment\":");
      AppendJsonString(t.by_experiment, out);
      out->append(",\"variant\":");
      AppendJsonString(t.by_variant, out);
      out->push_back('}');
      break;
    case select::Step::kLimit:
      AppendKey("limit", out);
      AppendInt(t.limit, out);
      break;
    default:
      break;
  }
  out->push_back('}');
}

// Kept modules first, in the answer's order; then the dropped ones as considered.
std::vector<const select::ModuleTrace*> AnswerOrder(const select::SelectionTrace& trace) {
  std::vector<const select::ModuleTrace*> order;
  order.reserve(trace.modules.size());
  for (const select::ModuleTrace& t : trace.modules) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(),
                   [](const select::ModuleTrace* a, const select::ModuleTrace* b) {
                     const bool a_kept = a->outcome == select::Step::kKept;
                     const bool b_kept = b->outcome == select::Step::kKept;
                     if (a_kept != b_kept) return a_kept;
                     if (!a_kept) return false;
                     if (a->zone_index != b->zone_index) return a->zone_index < b->zone_index;
                     return a->position < b->position;
                   });
  return order;
}

}  // namespace

void Explain(PageSource* pages, std::string_view query, UnixNanos now, Deadline deadline,
             http::Response* response) {
  auto parsed = ParseLayoutQuery(query, /*api_version=*/2, QueryOptions{/*allow_preview=*/true});
  if (auto* error = std::get_if<ApiError>(&parsed)) {
    SetError(*error, response);
    return;
  }
  const PageRequest& request = std::get<PageRequest>(parsed);
  const origin::PartitionKey partition{request.tenant, request.channel, request.page_type};
  std::optional<std::string_view> page_id;
  if (request.page_id) page_id = *request.page_id;
  cache::ReadScope scope(deadline);
  auto slices = pages->Get(partition, page_id, deadline, &scope);
  if (!slices.ok()) {
    SetError(kUnavailable, response);
    return;
  }
  if (!slices->HasRecords()) {
    auto known = pages->TenantKnown(request.tenant, deadline);
    if (!known.ok()) {
      SetError(kUnavailable, response);
      return;
    }
    if (!*known) {
      SetError({404, "unknown_tenant", "No content exists for this tenant."}, response);
      return;
    }
  }
  select::SelectionTrace trace;
  const select::Selection selection =
      select::Select(request, *slices->type_slice, slices->page_slice, now, &trace);

  std::string& out = response->body;
  out.clear();
  out.append("{\"request\":");
  AppendRequest(request, trace, &out);
  out.append(",\"partition\":{\"tenant\":");
  AppendJsonString(request.tenant, &out);
  out.append(",\"channel\":");
  AppendJsonString(request.channel, &out);
  out.append(",\"pageType\":");
  AppendJsonString(request.page_type, &out);
  out.append("},\"version\":");
  AppendInt(selection.version, &out);
  out.append(",\"slices\":[");
  AppendSlice(*slices->type_slice, slices->type_tier, &out);
  if (slices->page_slice != nullptr) {
    out.push_back(',');
    AppendSlice(*slices->page_slice, slices->page_tier, &out);
  }
  out.append("],\"experiments\":");
  AppendList(
      trace.experiments, [&out](const select::ExperimentTrace& t) { AppendExperiment(t, &out); },
      &out);
  out.append(",\"modules\":");
  AppendList(
      AnswerOrder(trace),
      [&out, at = trace.at](const select::ModuleTrace* t) { AppendModule(*t, at, &out); }, &out);
  out.append(",\"answer\":");
  select::Render(request, selection, &out);
  out.push_back('}');
  response->status = 200;
  response->headers.clear();
  response->headers.emplace_back("Content-Type", "application/json");
  response->headers.emplace_back("Cache-Control", "no-store");
}

}  // namespace tempo::api
