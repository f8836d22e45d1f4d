// Select(): the selection algorithm of SPEC §4 with the rules of §11.18-25.
#include "select/select.h"

#include <algorithm>
#include <string_view>

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

// The hash value of rule 22: a top-level attribute, a list comma-joined;
// empty = absent.
std::string HashValue(const PageRequest& r, std::string_view attribute) {
  if (attribute == "tenant") return r.tenant;
  if (attribute == "channel") return r.channel;
  if (attribute == "pageType") return r.page_type;
  if (attribute == "pageId") return r.page_id.value_or("");
  if (attribute == "visitorId") return r.visitor_id.value_or("");
  for (const auto& a : r.attributes) {
    if (a.name != attribute) continue;
    std::string joined;
    for (size_t i = 0; i < a.values.size(); ++i) {
      if (i) joined.push_back(',');
      joined += a.values[i];
    }
    return joined;
  }
  return "";
}

class Selector {
 public:
  Selector(const PageRequest& request, UnixNanos now)
      : request_(request), at_(request.at.value_or(now)), attributes_(BuildAttributes(request)) {}

  bool ZoneAllowed(std::string_view zone) const {
    return request_.zones.empty() || Contains(request_.zones, zone);
  }

  // Step 5: schedule and targeting.
  bool Eligible(const CompiledModule& m) const {
    if (m.never_matches || !m.schedule.Contains(at_)) return false;
    return !m.targeting || m.targeting->Evaluate(attributes_);
  }

  // Rule 24: the checks an experiment add must pass itself.
  bool AddPasses(const CompiledModule& m) const {
    if (m.has_channels && !Contains(m.channels, request_.channel)) return false;
    if (!m.page_ids.empty() && (!request_.page_id || !Contains(m.page_ids, *request_.page_id))) {
      return false;
    }
    return ZoneAllowed(m.zone) && Eligible(m);
  }

  // Steps 2-5 over the slices' modules.
  void SelectBase(const PageSlice& type_slice, const PageSlice* page_slice) {
    // Rule 19: the page override is decided on the page slice as stored.
    std::vector<std::string_view> overridden;
    if (page_slice != nullptr) {
      for (const auto& m : page_slice->modules) overridden.push_back(m.zone);
    }
    for (const auto& m : type_slice.modules) {
      if (Contains(overridden, m.zone)) continue;
      Consider(m);
    }
    if (page_slice != nullptr) {
      for (const auto& m : page_slice->modules) Consider(m);
    }
  }

  // Step 6 (rules 22-23).
  void ApplyExperiments(const PageSlice& type_slice, Selection* out) {
    for (const CompiledExperiment& e : type_slice.experiments) {
      const CompiledVariant* variant = Forced(e);
      if (variant == nullptr) variant = Bucketed(e);
      if (variant == nullptr) continue;
      out->experiments.emplace_back(e.id, variant->key);
      Overlay(*variant);
    }
  }

  void Finish(const PageSlice& type_slice, Selection* out) {
    std::vector<std::string_view> zone_order;
    const auto& tmpl = type_slice.page_template;
    if (tmpl) {
      for (const auto& z : tmpl->zones) zone_order.push_back(z.zone);
    }
    std::vector<std::string_view> others;
    for (const auto& s : selected_) {
      std::string_view z = s.module->zone;
      if (!Contains(zone_order, z) && !Contains(others, z)) others.push_back(z);
    }
    std::sort(others.begin(), others.end());
    zone_order.insert(zone_order.end(), others.begin(), others.end());
    for (size_t zi = 0; zi < zone_order.size(); ++zi) {
      SelectedZone zone;
      zone.zone = zone_order[zi];
      for (const auto& s : selected_) {
        if (s.module->zone == zone.zone) zone.modules.push_back(s);
      }
      std::sort(zone.modules.begin(), zone.modules.end(),
                [](const SelectedModule& a, const SelectedModule& b) {
                  if (a.priority != b.priority) return a.priority > b.priority;
                  return a.module->id < b.module->id;
                });
      if (tmpl && zi < tmpl->zones.size() && tmpl->zones[zi].limit) {
        const auto limit = static_cast<size_t>(*tmpl->zones[zi].limit);
        if (zone.modules.size() > limit) zone.modules.resize(limit);
      }
      if (!zone.modules.empty()) out->zones.push_back(std::move(zone));
    }
  }

 private:
  void Consider(const CompiledModule& m) {
    if (ZoneAllowed(m.zone) && Eligible(m)) selected_.push_back({&m, m.priority});
  }

  // Rule 11: the first `variant` naming this experiment wins when its key exists.
  const CompiledVariant* Forced(const CompiledExperiment& e) const {
    for (const auto& [exp_id, key] : request_.variants) {
      if (exp_id != e.id) continue;
      for (const auto& v : e.variants) {
        if (v.key == key) return &v;
      }
      return nullptr;
    }
    return nullptr;
  }

  const CompiledVariant* Bucketed(const CompiledExperiment& e) const {
    if (e.condition_broken) return nullptr;
    if (e.condition && !e.condition->Evaluate(attributes_)) return nullptr;
    const std::string value = HashValue(request_, e.hash_attribute);
    if (value.empty()) return nullptr;
    const auto n = cond::Hash(e.seed, value, e.hash_version);
    if (!n) return nullptr;
    const int index = cond::ChooseVariation(*n, e.ranges);
    if (index < 0 || static_cast<size_t>(index) >= e.variants.size()) return nullptr;
    return &e.variants[static_cast<size_t>(index)];
  }

  void Overlay(const CompiledVariant& v) {
    if (!v.remove.empty()) {
      std::erase_if(selected_,
                    [&](const SelectedModule& s) { return Contains(v.remove, s.module->id); });
    }
    for (const CompiledModule& add : v.add) {
      if (!AddPasses(add)) continue;
      std::erase_if(selected_, [&](const SelectedModule& s) { return s.module->id == add.id; });
      selected_.push_back({&add, add.priority});
    }
    for (const auto& [id, priority] : v.priority) {
      for (auto& s : selected_) {
        if (s.module->id == id) s.priority = priority;
      }
    }
  }

  const PageRequest& request_;
  const UnixNanos at_;
  const cond::Value attributes_;
  std::vector<SelectedModule> selected_;
};

}  // namespace

Selection Select(const PageRequest& request, const PageSlice& type_slice,
                 const PageSlice* page_slice, UnixNanos now) {
  Selection out;
  out.version = type_slice.max_version;
  if (page_slice != nullptr) out.version = std::max(out.version, page_slice->max_version);
  Selector selector(request, now);
  selector.SelectBase(type_slice, page_slice);
  selector.ApplyExperiments(type_slice, &out);
  selector.Finish(type_slice, &out);
  return out;
}

}  // namespace tempo::select
