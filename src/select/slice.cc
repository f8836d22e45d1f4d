// CompileSlice: decoded records → an immutable PageSlice with pre-rendered JSON.
#include "select/slice.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "common/json.h"

namespace tempo::select {
namespace {

size_t StringBytes(const std::string& s) { return sizeof(std::string) + s.capacity(); }

size_t StringsBytes(const std::vector<std::string>& list) {
  size_t bytes = list.capacity() * sizeof(std::string);
  for (const auto& s : list) bytes += s.capacity();
  return bytes;
}

// Compiled conditions by JSON text, shared process-wide: storefront data
// repeats the same targeting across many modules and pages, and a compiled
// tree is several times larger than its text. Entries are weak, so a
// condition lives exactly as long as a cached slice uses it.
class ConditionInterner {
 public:
  static ConditionInterner& Instance() {
    static auto* interner = new ConditionInterner();  // never destroyed: used at exit
    return *interner;
  }

  // The compiled condition for `json`, or null when it does not compile.
  std::shared_ptr<const cond::Condition> Get(const std::string& json) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = conditions_.find(json);
    if (it != conditions_.end()) {
      if (auto live = it->second.lock()) return live;
    }
    auto compiled = cond::Condition::Compile(json);
    if (!compiled.ok()) return nullptr;
    auto shared = std::make_shared<const cond::Condition>(std::move(compiled).value());
    conditions_[json] = shared;
    if (conditions_.size() >= sweep_at_) Sweep();
    return shared;
  }

 private:
  // Drops the entries whose condition is no longer used; amortised O(1).
  void Sweep() {
    std::erase_if(conditions_, [](const auto& entry) { return entry.second.expired(); });
    sweep_at_ = std::max(kMinSweepEntries, 2 * conditions_.size());
  }

  static constexpr size_t kMinSweepEntries = 1024;
  std::mutex mu_;
  std::unordered_map<std::string, std::weak_ptr<const cond::Condition>> conditions_;
  size_t sweep_at_ = kMinSweepEntries;
};

// The conditions one slice uses. A slice is charged its share of each
// distinct condition it uses: the condition's measured bytes divided by the
// number of holders when the slice was compiled, so that the charges of all
// cached slices add up to about the memory the shared conditions hold
// (bench/slice_memory prints both).
class ConditionTable {
 public:
  // The compiled condition for `json` (null when empty); *broken when it
  // did not compile.
  std::shared_ptr<const cond::Condition> Get(const std::string& json, bool* broken) {
    *broken = false;
    if (json.empty()) return nullptr;
    auto condition = ConditionInterner::Instance().Get(json);
    *broken = condition == nullptr;
    if (condition != nullptr && counted_.insert(condition.get()).second) {
      const auto holders = static_cast<size_t>(std::max<long>(1, condition.use_count() - 1));
      bytes_ += (sizeof(cond::Condition) + condition->MemoryBytes()) / holders;
    }
    return condition;
  }
  size_t bytes() const { return bytes_; }

 private:
  std::unordered_set<const cond::Condition*> counted_;
  size_t bytes_ = 0;
};

CompiledModule CompileModule(const events::Module& module, int64_t default_version,
                             ConditionTable* conditions) {
  CompiledModule m;
  m.priority = module.priority;
  m.version = module.version.value_or(default_version);
  m.schedule = module.schedule;
  m.targeting = conditions->Get(module.targeting_json, &m.never_matches);
  std::string& json = m.json;
  json.reserve(module.id.size() + module.type.size() + module.content_json.size() +
               module.zone.size() + 64);
  json.append("{\"id\":");
  AppendJsonString(module.id, &json);
  json.append(",\"type\":");
  AppendJsonString(module.type, &json);
  json.append(",\"priority\":");
  m.head_end = static_cast<uint32_t>(json.size());
  json.append(",\"version\":");
  AppendInt(m.version, &json);
  json.append(",\"content\":");
  json.append(module.content_json);
  m.tail_end = static_cast<uint32_t>(json.size());
  json.append(",\"zone\":");
  AppendJsonString(module.zone, &json);
  json.push_back('}');
  m.suffix_end = static_cast<uint32_t>(json.size());
  json.append(module.id);
  m.id_end = static_cast<uint32_t>(json.size());
  json.append(module.zone);
  json.shrink_to_fit();
  return m;
}

size_t ModuleBytes(const CompiledModule& m) {
  return sizeof(CompiledModule) + m.json.capacity();
}

CompiledExperiment CompileExperiment(const events::Experiment& exp, ConditionTable* conditions) {
  std::vector<CompiledVariant> variants;
  variants.reserve(exp.variants.size());
  for (const events::Variant& v : exp.variants) {
    std::vector<CompiledAdd> adds;
    adds.reserve(v.add.size());
    for (const events::Module& add : v.add) {
      adds.push_back(CompiledAdd{CompileModule(add, exp.version, conditions), add.has_channels,
                                 add.channels, add.page_ids});
    }
    variants.push_back(CompiledVariant{v.key, v.remove, std::move(adds), v.priority});
  }
  bool broken = false;
  auto condition = conditions->Get(exp.condition_json, &broken);
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

size_t ExperimentBytes(const CompiledExperiment& e) {
  size_t bytes = sizeof(CompiledExperiment) + StringBytes(e.id) + StringBytes(e.seed) +
                 StringBytes(e.hash_attribute) + e.ranges.capacity() * sizeof(cond::BucketRange) +
                 e.variants.capacity() * sizeof(CompiledVariant);
  for (const CompiledVariant& v : e.variants) {
    bytes += v.key.capacity() + StringsBytes(v.remove);
    for (const auto& [id, priority] : v.priority) bytes += StringBytes(id) + sizeof(priority);
    for (const auto& add : v.add) {
      bytes += ModuleBytes(add.module) + StringsBytes(add.channels) + StringsBytes(add.page_ids);
    }
  }
  return bytes;
}

}  // namespace

std::shared_ptr<const PageSlice> CompileSlice(std::string scope,
                                              const std::vector<events::Record>& records) {
  auto slice = std::make_shared<PageSlice>();
  slice->scope = std::move(scope);
  ConditionTable conditions;
  size_t bytes = sizeof(PageSlice) + slice->scope.capacity();
  for (const events::Record& record : records) {
    if (const auto* module = std::get_if<events::Module>(&record)) {
      const int64_t version = module->version.value_or(0);
      slice->max_version = std::max(slice->max_version, version);
      slice->modules.push_back(CompileModule(*module, version, &conditions));
      bytes += ModuleBytes(slice->modules.back()) - sizeof(CompiledModule);
    } else if (const auto* exp = std::get_if<events::Experiment>(&record)) {
      slice->max_version = std::max(slice->max_version, exp->version);
      slice->experiments.push_back(CompileExperiment(*exp, &conditions));
      bytes += ExperimentBytes(slice->experiments.back()) - sizeof(CompiledExperiment);
    } else if (const auto* tmpl = std::get_if<events::Template>(&record)) {
      slice->max_version = std::max(slice->max_version, tmpl->version);
      slice->page_template = *tmpl;
      bytes += tmpl->zones.capacity() * sizeof(events::TemplateZone) +
               StringBytes(slice->page_template->tenant) +
               StringBytes(slice->page_template->channel) +
               StringBytes(slice->page_template->page_type);
      for (const auto& z : tmpl->zones) bytes += z.zone.capacity();
    }
  }
  slice->modules.shrink_to_fit();
  std::sort(slice->modules.begin(), slice->modules.end(),
            [](const CompiledModule& a, const CompiledModule& b) { return a.id() < b.id(); });
  std::sort(slice->experiments.begin(), slice->experiments.end(),
            [](const CompiledExperiment& a, const CompiledExperiment& b) { return a.id < b.id; });
  bytes += slice->modules.capacity() * sizeof(CompiledModule) +
           slice->experiments.capacity() * sizeof(CompiledExperiment) + conditions.bytes();
  slice->bytes = bytes;
  return slice;
}

}  // namespace tempo::select
