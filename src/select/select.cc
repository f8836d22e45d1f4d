// Select(): the selection algorithm of SPEC §4 with the rules of §11.18-25.
#include "select/select.h"

#include <algorithm>
#include <limits>
#include <string_view>

#include "common/json.h"
#include "cond/explain.h"

namespace tempo::select {
namespace {

template <typename Str>
bool Contains(const std::vector<Str>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// The attribute object of step 5: built-ins, then the t.* attributes.
cond::Value BuildAttributes(const PageRequest& r) {
  std::vector<std::pair<std::string, cond::Value>> fields;
  fields.reserve(5 + r.attributes.size());
  fields.emplace_back("tenant", cond::Value::String(r.tenant));
  fields.emplace_back("channel", cond::Value::String(r.channel));
  fields.emplace_back("pageType", cond::Value::String(r.page_type));
  if (r.page_id) fields.emplace_back("pageId", cond::Value::String(*r.page_id));
  if (r.visitor_id) fields.emplace_back("visitorId", cond::Value::String(*r.visitor_id));
  for (const auto& a : r.attributes) {
    if (a.values.size() == 1) {
      fields.emplace_back(a.name, cond::Value::String(a.values[0]));
    } else {
      std::vector<cond::Value> list;
      list.reserve(a.values.size());
      for (const auto& v : a.values) list.push_back(cond::Value::String(v));
      fields.emplace_back(a.name, cond::Value::Array(std::move(list)));
    }
  }
  return cond::Value::Object(std::move(fields));
}

// The hash value of rule 22, read from the attribute object of step 5: a
// top-level key, a list (a repeated t.<name>) comma-joined; "" = absent.
std::string HashValue(const cond::Value& attributes, std::string_view attribute) {
  const cond::Value* value = attributes.Find(attribute);
  if (value == nullptr) return "";
  if (!value->is_array()) return value->string_value();
  const std::vector<cond::Value>& items = value->array_items();
  std::string joined;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) joined.push_back(',');
    joined += items[i].string_value();
  }
  return joined;
}

class Selector {
 public:
  Selector(const PageRequest& request, UnixNanos now, SelectionTrace* trace)
      : request_(request),
        at_(request.at.value_or(now)),
        attributes_(BuildAttributes(request)),
        trace_(trace) {
    if (trace_ != nullptr) {
      trace_->at = at_;
      cond::AppendValueJson(attributes_, &trace_->attributes_json);
    }
  }

  bool ZoneAllowed(std::string_view zone) const {
    return request_.zones.empty() || Contains(request_.zones, zone);
  }

  // Steps 4 and 5: the zone filter, the schedule and the targeting; the
  // first that drops the module, or kKept.
  Step Check(const CompiledModule& m) const {
    if (!ZoneAllowed(m.zone())) return Step::kZone;
    if (!m.schedule.Contains(at_)) return Step::kSchedule;
    if (m.never_matches || (m.targeting && !m.targeting->Evaluate(attributes_))) {
      return Step::kTargeting;
    }
    return Step::kKept;
  }

  // Rule 24: the checks an experiment add must pass itself.
  Step CheckAdd(const CompiledAdd& add) const {
    if (add.has_channels && !Contains(add.channels, request_.channel)) return Step::kChannel;
    if (!add.page_ids.empty() &&
        (!request_.page_id || !Contains(add.page_ids, *request_.page_id))) {
      return Step::kPage;
    }
    return Check(add.module);
  }

  // Steps 2-5 over the slices' modules.
  void SelectBase(const PageSlice& type_slice, const PageSlice* page_slice) {
    // Rule 19: the page override is decided on the page slice as stored.
    std::vector<std::string_view> overridden;
    if (page_slice != nullptr) {
      for (const auto& m : page_slice->modules) overridden.push_back(m.zone());
    }
    for (const auto& m : type_slice.modules) {
      if (Contains(overridden, m.zone())) {
        if (trace_ != nullptr) TraceOverridden(m, type_slice.scope, page_slice->scope);
        continue;
      }
      Consider(m, type_slice.scope);
    }
    if (page_slice != nullptr) {
      for (const auto& m : page_slice->modules) Consider(m, page_slice->scope);
    }
  }

  // Step 6 (rules 22-23).
  void ApplyExperiments(const PageSlice& type_slice, Selection* out) {
    for (const CompiledExperiment& e : type_slice.experiments) {
      ExperimentTrace* traced = nullptr;
      if (trace_ != nullptr) {
        traced = &trace_->experiments.emplace_back();
        traced->experiment = &e;
      }
      const CompiledVariant* variant = Forced(e, traced);
      if (variant == nullptr) variant = Bucketed(e, traced);
      if (variant == nullptr) continue;
      out->experiments.emplace_back(e.id, variant->key);
      if (traced != nullptr) {
        traced->assigned = true;
        traced->variant = variant->key;
        traced->variant_index = static_cast<int>(variant - e.variants.data());
      }
      Overlay(e, *variant, traced);
    }
  }

  // Step 7: one sort by (zone, priority desc, id) groups each zone's modules
  // in final order; the zones are then emitted in template order, then by
  // name (rule 25). Sorting once replaced a zone × module scan that was the
  // top of the profile (memcmp, 14 % of select + render).
  void Finish(const PageSlice& type_slice, Selection* out) {
    std::sort(selected_.begin(), selected_.end(),
              [](const SelectedModule& a, const SelectedModule& b) {
                if (int c = a.module->zone().compare(b.module->zone()); c != 0) return c < 0;
                if (a.priority != b.priority) return a.priority > b.priority;
                return a.module->id() < b.module->id();
              });
    // [begin, end) of each zone's run in selected_, in name order.
    struct Run {
      std::string_view zone;
      size_t begin, end;
      bool emitted;
    };
    std::vector<Run> runs;
    for (size_t i = 0; i < selected_.size(); ++i) {
      std::string_view zone = selected_[i].module->zone();
      if (runs.empty() || runs.back().zone != zone) runs.push_back({zone, i, i, false});
      runs.back().end = i + 1;
    }
    auto emit = [&](Run& run, std::optional<int64_t> limit) {
      run.emitted = true;
      size_t n = run.end - run.begin;
      if (limit) n = std::min(n, static_cast<size_t>(*limit));
      if (trace_ != nullptr) TraceZone(run.begin, run.end, n, limit, out->zones.size());
      if (n == 0) return;
      SelectedZone zone;
      zone.zone = run.zone;
      zone.modules.assign(selected_.begin() + static_cast<ptrdiff_t>(run.begin),
                          selected_.begin() + static_cast<ptrdiff_t>(run.begin + n));
      out->zones.push_back(std::move(zone));
    };
    if (const auto& tmpl = type_slice.page_template) {
      for (const auto& z : tmpl->zones) {
        auto it =
            std::lower_bound(runs.begin(), runs.end(), z.zone,
                             [](const Run& r, std::string_view name) { return r.zone < name; });
        if (it != runs.end() && it->zone == z.zone) emit(*it, z.limit);
      }
    }
    for (Run& run : runs) {
      if (!run.emitted) emit(run, std::nullopt);
    }
  }

 private:
  void Consider(const CompiledModule& m, std::string_view scope) {
    const Step step = Check(m);
    if (step == Step::kKept) selected_.push_back({&m, m.priority});
    if (trace_ != nullptr) TraceStep(trace_->Add(&m, m.priority), step)->scope = scope;
  }

  // Rule 11: the first `variant` naming this experiment wins when its key exists.
  const CompiledVariant* Forced(const CompiledExperiment& e, ExperimentTrace* traced) const {
    for (const auto& [exp_id, key] : request_.variants) {
      if (exp_id != e.id) continue;
      for (const auto& v : e.variants) {
        if (v.key == key) {
          if (traced != nullptr) {
            traced->forced = true;
            traced->reason = "forced by the request's variant parameter";
          }
          return &v;
        }
      }
      if (traced != nullptr) traced->ignored_forced_key = key;
      return nullptr;
    }
    return nullptr;
  }

  // `reason` for the trace, when there is one; returns null (no variant).
  static const CompiledVariant* NoVariant(ExperimentTrace* traced, const char* reason) {
    if (traced != nullptr) traced->reason = reason;
    return nullptr;
  }

  const CompiledVariant* Bucketed(const CompiledExperiment& e, ExperimentTrace* traced) const {
    if (traced != nullptr) TraceCondition(e, traced);
    if (e.condition_broken) return NoVariant(traced, "its condition did not compile");
    if (e.condition && !e.condition->Evaluate(attributes_)) {
      return NoVariant(traced, "its condition is false");
    }
    const std::string value = HashValue(attributes_, e.hash_attribute);
    if (traced != nullptr) traced->hash_input = value;
    if (value.empty()) return NoVariant(traced, "the hash attribute is absent or empty");
    const auto n = cond::Hash(e.seed, value, e.hash_version);
    if (traced != nullptr) traced->hash = n;
    if (!n) return NoVariant(traced, "its hashVersion is neither 1 nor 2");
    const int index = cond::ChooseVariation(*n, e.ranges);
    if (index < 0 || static_cast<size_t>(index) >= e.variants.size()) {
      return NoVariant(traced, "the hash falls outside every bucket range (coverage)");
    }
    if (traced != nullptr) traced->reason = "hashed into a bucket range";
    return &e.variants[static_cast<size_t>(index)];
  }

  void Overlay(const CompiledExperiment& e, const CompiledVariant& v, ExperimentTrace* traced) {
    if (!v.remove.empty()) {
      std::erase_if(selected_, [&](const SelectedModule& s) {
        if (!Contains(v.remove, s.module->id())) return false;
        if (traced != nullptr) TraceRemoved(s, e, v, "removed by", &traced->removed);
        return true;
      });
    }
    for (const CompiledAdd& add : v.add) {
      const Step step = CheckAdd(add);
      if (traced != nullptr) TraceAdd(add, step, e, v, traced);
      if (step != Step::kKept) continue;
      const CompiledModule& m = add.module;
      std::erase_if(selected_, [&](const SelectedModule& s) {
        if (s.module->id() != m.id()) return false;
        if (traced != nullptr) TraceRemoved(s, e, v, "replaced by the add of", nullptr);
        return true;
      });
      selected_.push_back({&m, m.priority});
    }
    for (const auto& [id, priority] : v.priority) {
      for (auto& s : selected_) {
        if (s.module->id() != id) continue;
        if (traced != nullptr) {
          traced->priorities.push_back({id, s.priority, priority});
          trace_->Find(s.module)->priority = priority;
        }
        s.priority = priority;
      }
    }
  }

  // The trace's side of each step; called only with a trace.

  // Fills the details of the step that dropped a module (none when kept).
  ModuleTrace* TraceStep(ModuleTrace* t, Step step) const {
    const CompiledModule& m = *t->module;
    t->outcome = step;
    switch (step) {
      case Step::kKept:
      case Step::kPage:
      case Step::kExperiment:
      case Step::kLimit:
        break;
      case Step::kChannel:
        t->reason = "the add's channels do not include channel '" + request_.channel + "'";
        break;
      case Step::kZone:
        t->reason = "zone '" + std::string(m.zone()) + "' is not in the request's zone filter";
        break;
      case Step::kSchedule:
        t->schedule_start = m.schedule.start;
        t->schedule_end = m.schedule.end;
        t->reason = m.schedule.start && at_ < *m.schedule.start
                        ? "its schedule starts after the instant evaluated"
                        : "its schedule ended at or before the instant evaluated";
        break;
      case Step::kTargeting:
        if (m.targeting != nullptr) t->condition_json = ConditionJson(*m.targeting);
        if (m.never_matches) {
          t->reason = "its targeting did not compile, so it never matches";
        } else {
          t->reason = "its targeting is false for the request's attributes";
          t->failing_json = FailingJson(t->condition_json);
        }
        break;
    }
    return t;
  }

  void TraceOverridden(const CompiledModule& m, std::string_view scope,
                       std::string_view page) const {
    ModuleTrace* t = trace_->Add(&m, m.priority);
    t->scope = scope;
    t->outcome = Step::kPage;
    t->reason = "page '" + std::string(page) + "' has modules of its own in zone '" +
                std::string(m.zone()) + "', which hide the type-wide ones (rule 19)";
  }

  void TraceAdd(const CompiledAdd& add, Step step, const CompiledExperiment& e,
                const CompiledVariant& v, ExperimentTrace* traced) const {
    ModuleTrace* t = trace_->Add(&add.module, add.module.priority);
    t->experiment = e.id;
    t->variant = v.key;
    TraceStep(t, step);
    if (step == Step::kPage) {
      t->reason = request_.page_id
                      ? "the add's pageIds do not include page '" + *request_.page_id + "'"
                      : "the add lists pageIds and the request has no pageId";
    }
    (step == Step::kKept ? traced->added : traced->add_dropped).push_back(add.module.id());
  }

  void TraceRemoved(const SelectedModule& s, const CompiledExperiment& e, const CompiledVariant& v,
                    const char* how, std::vector<std::string_view>* ids) const {
    ModuleTrace* t = trace_->Find(s.module);
    t->outcome = Step::kExperiment;
    t->by_experiment = e.id;
    t->by_variant = v.key;
    t->reason = std::string(how) + " variant '" + v.key + "' of experiment '" + e.id + "'";
    if (ids != nullptr) ids->push_back(s.module->id());
  }

  void TraceCondition(const CompiledExperiment& e, ExperimentTrace* traced) const {
    if (e.condition == nullptr) return;
    traced->condition_json = ConditionJson(*e.condition);
    traced->condition_holds = e.condition->Evaluate(attributes_);
    if (!*traced->condition_holds) traced->failing_json = FailingJson(traced->condition_json);
  }

  // Step 7 for one zone's run selected_[begin, end): the first n are the
  // answer's zone number `zone_index`, the rest are past the limit.
  void TraceZone(size_t begin, size_t end, size_t n, std::optional<int64_t> limit,
                 size_t zone_index) const {
    for (size_t i = begin; i < end; ++i) {
      ModuleTrace* t = trace_->Find(selected_[i].module);
      t->priority = selected_[i].priority;
      if (i - begin < n) {
        t->zone_index = static_cast<int>(zone_index);
        t->position = static_cast<int>(i - begin);
      } else {
        t->outcome = Step::kLimit;
        t->limit = limit.value_or(0);
        t->reason = "zone '" + std::string(t->module->zone()) + "' keeps its first " +
                    std::to_string(t->limit) + " (the template's limit)";
      }
    }
  }

  // The failing parts of a condition as a JSON array (see ModuleTrace).
  std::string FailingJson(const std::string& condition_json) const {
    if (condition_json.empty()) return "";
    auto parts = cond::FailingParts(condition_json, attributes_);
    if (!parts.ok()) return "";
    std::string out = "[";
    for (const cond::FailingPart& part : *parts) {
      if (out.size() > 1) out.push_back(',');
      out.append("{\"condition\":").append(part.condition_json);
      out.append(",\"seen\":").append(part.seen_json).push_back('}');
    }
    out.push_back(']');
    return out;
  }

  const PageRequest& request_;
  const UnixNanos at_;
  const cond::Value attributes_;
  SelectionTrace* const trace_;  // null on the serving path
  std::vector<SelectedModule> selected_;
};

}  // namespace

const char* StepName(Step step) {
  switch (step) {
    case Step::kKept:
      return "kept";
    case Step::kChannel:
      return "channel";
    case Step::kPage:
      return "page";
    case Step::kZone:
      return "zone";
    case Step::kSchedule:
      return "schedule";
    case Step::kTargeting:
      return "targeting";
    case Step::kExperiment:
      return "experiment";
    case Step::kLimit:
      break;
  }
  return "limit";
}

ModuleTrace* SelectionTrace::Find(const CompiledModule* module) {
  auto it = index_.find(module);
  return it == index_.end() ? nullptr : &modules[it->second];
}

ModuleTrace* SelectionTrace::Add(const CompiledModule* module, int64_t priority) {
  index_[module] = modules.size();
  ModuleTrace& t = modules.emplace_back();
  t.module = module;
  t.priority = priority;
  return &t;
}

Selection Select(const PageRequest& request, const PageSlice& type_slice,
                 const PageSlice* page_slice, UnixNanos now, SelectionTrace* trace) {
  Selection out;
  out.version = type_slice.max_version;
  if (page_slice != nullptr) out.version = std::max(out.version, page_slice->max_version);
  Selector selector(request, now, trace);
  selector.SelectBase(type_slice, page_slice);
  selector.ApplyExperiments(type_slice, &out);
  selector.Finish(type_slice, &out);
  return out;
}

UnixNanos SelectionStableUntil(const PageSlice& type_slice, const PageSlice* page_slice,
                               UnixNanos at) {
  auto next = [at](const PageSlice& slice) {
    auto it = std::lower_bound(slice.schedule_instants.begin(), slice.schedule_instants.end(), at);
    return it == slice.schedule_instants.end() ? std::numeric_limits<UnixNanos>::max() : *it;
  };
  UnixNanos until = next(type_slice);
  if (page_slice != nullptr) until = std::min(until, next(*page_slice));
  return until;
}

}  // namespace tempo::select
