// CompileSlice: decoded records → an immutable PageSlice with pre-rendered JSON.
#include "select/slice.h"

#include <algorithm>
#include <variant>

#include "common/json.h"

namespace tempo::select {
namespace {

std::optional<cond::Condition> CompileCondition(const std::string& json, bool* never) {
  if (json.empty()) return std::nullopt;
  auto compiled = cond::Condition::Compile(json);
  if (!compiled.ok()) {
    *never = true;
    return std::nullopt;
  }
  return std::move(compiled).value();
}

size_t StringBytes(const std::string& s) { return sizeof(std::string) + s.capacity(); }

size_t ModuleBytes(const CompiledModule& m) {
  size_t bytes = sizeof(CompiledModule) + StringBytes(m.id) + StringBytes(m.zone) +
                 StringBytes(m.json_head) + StringBytes(m.json_tail) +
                 StringBytes(m.zone_suffix);
  for (const auto& c : m.channels) bytes += StringBytes(c);
  for (const auto& p : m.page_ids) bytes += StringBytes(p);
  return bytes;
}

}  // namespace

CompiledModule CompileModule(const events::Module& module, int64_t default_version) {
  CompiledModule m;
  m.id = module.id;
  m.zone = module.zone;
  m.priority = module.priority;
  m.version = module.version.value_or(default_version);
  m.schedule = module.schedule;
  m.targeting = CompileCondition(module.targeting_json, &m.never_matches);
  m.has_channels = module.has_channels;
  m.channels = module.channels;
  m.page_ids = module.page_ids;
  m.json_head.reserve(module.id.size() + module.type.size() + 32);
  m.json_head.append("{\"id\":");
  AppendJsonString(module.id, &m.json_head);
  m.json_head.append(",\"type\":");
  AppendJsonString(module.type, &m.json_head);
  m.json_head.append(",\"priority\":");
  m.json_tail.append(",\"version\":");
  AppendInt(m.version, &m.json_tail);
  m.json_tail.append(",\"content\":");
  m.json_tail.append(module.content_json);
  m.zone_suffix.append(",\"zone\":");
  AppendJsonString(module.zone, &m.zone_suffix);
  m.zone_suffix.push_back('}');
  return m;
}

std::shared_ptr<const PageSlice> CompileSlice(std::string scope,
                                              const std::vector<events::Record>& records) {
  auto slice = std::make_shared<PageSlice>();
  slice->scope = std::move(scope);
  slice->bytes = sizeof(PageSlice) + StringBytes(slice->scope);
  for (const events::Record& record : records) {
    if (const auto* module = std::get_if<events::Module>(&record)) {
      const int64_t version = module->version.value_or(0);
      slice->max_version = std::max(slice->max_version, version);
      slice->modules.push_back(CompileModule(*module, version));
      slice->bytes += ModuleBytes(slice->modules.back());
    } else if (const auto* exp = std::get_if<events::Experiment>(&record)) {
      slice->max_version = std::max(slice->max_version, exp->version);
      CompiledExperiment e;
      e.id = exp->id;
      e.hash_attribute = exp->hash_attribute;
      e.seed = exp->seed;
      e.hash_version = exp->hash_version;
      e.ranges = cond::GetBucketRanges(static_cast<int>(exp->variants.size()), exp->coverage,
                                       exp->weights);
      e.condition = CompileCondition(exp->condition_json, &e.condition_broken);
      size_t bytes = sizeof(CompiledExperiment) + StringBytes(e.id) + StringBytes(e.seed) +
                     StringBytes(e.hash_attribute) + e.ranges.size() * sizeof(cond::BucketRange);
      for (const events::Variant& v : exp->variants) {
        CompiledVariant cv;
        cv.key = v.key;
        cv.remove = v.remove;
        cv.priority = v.priority;
        bytes += sizeof(CompiledVariant) + StringBytes(cv.key);
        for (const auto& r : cv.remove) bytes += StringBytes(r);
        bytes += cv.priority.size() * (sizeof(std::pair<std::string, int64_t>) + 16);
        for (const events::Module& add : v.add) {
          cv.add.push_back(CompileModule(add, exp->version));
          bytes += ModuleBytes(cv.add.back());
        }
        e.variants.push_back(std::move(cv));
      }
      slice->bytes += bytes;
      slice->experiments.push_back(std::move(e));
    } else if (const auto* tmpl = std::get_if<events::Template>(&record)) {
      slice->max_version = std::max(slice->max_version, tmpl->version);
      slice->page_template = *tmpl;
      slice->bytes += sizeof(events::Template);
      for (const auto& z : tmpl->zones) slice->bytes += sizeof(z) + z.zone.capacity();
    }
  }
  std::sort(slice->modules.begin(), slice->modules.end(),
            [](const CompiledModule& a, const CompiledModule& b) { return a.id < b.id; });
  std::sort(slice->experiments.begin(), slice->experiments.end(),
            [](const CompiledExperiment& a, const CompiledExperiment& b) { return a.id < b.id; });
  return slice;
}

}  // namespace tempo::select
