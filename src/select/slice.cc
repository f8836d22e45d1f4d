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
  if (m.targeting) bytes += m.targeting->MemoryBytes();
  for (const auto& c : m.channels) bytes += StringBytes(c);
  for (const auto& p : m.page_ids) bytes += StringBytes(p);
  return bytes;
}

CompiledExperiment CompileExperiment(const events::Experiment& exp);

size_t ExperimentBytes(const CompiledExperiment& e) {
  size_t bytes = sizeof(CompiledExperiment) + StringBytes(e.id) + StringBytes(e.seed) +
                 StringBytes(e.hash_attribute) + e.ranges.capacity() * sizeof(cond::BucketRange);
  if (e.condition) bytes += e.condition->MemoryBytes();
  for (const CompiledVariant& v : e.variants) {
    bytes += sizeof(CompiledVariant) + StringBytes(v.key);
    for (const auto& r : v.remove) bytes += StringBytes(r);
    for (const auto& [id, priority] : v.priority) bytes += StringBytes(id) + sizeof(priority);
    for (const auto& add : v.add) bytes += ModuleBytes(add);
  }
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

namespace {

CompiledExperiment CompileExperiment(const events::Experiment& exp) {
  std::vector<CompiledVariant> variants;
  variants.reserve(exp.variants.size());
  for (const events::Variant& v : exp.variants) {
    std::vector<CompiledModule> adds;
    adds.reserve(v.add.size());
    for (const events::Module& add : v.add) adds.push_back(CompileModule(add, exp.version));
    variants.push_back(CompiledVariant{v.key, v.remove, std::move(adds), v.priority});
  }
  bool broken = false;
  auto condition = CompileCondition(exp.condition_json, &broken);
  return CompiledExperiment{
      exp.id,
      exp.hash_attribute,
      exp.seed,
      exp.hash_version,
      cond::GetBucketRanges(static_cast<int>(exp.variants.size()), exp.coverage, exp.weights),
      std::move(condition),
      broken,
      std::move(variants),
  };
}

}  // namespace

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
      slice->experiments.push_back(CompileExperiment(*exp));
      slice->bytes += ExperimentBytes(slice->experiments.back());
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
