// CompileSlice: decoded records → an immutable PageSlice with pre-rendered JSON.
#include "select/slice.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "common/json.h"
#include "common/mutex.h"

namespace tempo::select {
namespace {

// What a slice is charged in L1 is the heap memory it really holds, so that
// L1's capacity bounds the process's memory (bench/l1_memory.cc). Each
// HeapBytes below is what a value owns beyond its own object (which its
// container counts), as malloc sizes the blocks.

// The heap memory malloc takes for a block of `requested` bytes: glibc adds
// an 8-byte header, rounds up to 16 and allocates at least 32 (the same as
// cache::HeapBlockBytes; select does not depend on the cache).
size_t HeapBlockBytes(size_t requested) {
  constexpr size_t kHeaderBytes = 8, kGranuleBytes = 16, kMinBlockBytes = 32;
  if (requested == 0) return 0;
  return std::max(kMinBlockBytes,
                  (requested + kHeaderBytes + kGranuleBytes - 1) / kGranuleBytes * kGranuleBytes);
}

// A string's characters live in the object while they fit its small buffer.
size_t HeapBytes(const std::string& s) {
  static const size_t kInlineCapacity = std::string().capacity();
  return s.capacity() > kInlineCapacity ? HeapBlockBytes(s.capacity() + 1) : 0;
}

template <typename T>
size_t ArrayBytes(const std::vector<T>& v) {
  return HeapBlockBytes(v.capacity() * sizeof(T));
}

size_t HeapBytes(const std::vector<std::string>& list) {
  size_t bytes = ArrayBytes(list);
  for (const auto& s : list) bytes += HeapBytes(s);
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
    MutexLock lock(&mu_);
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

  // The text `condition` was compiled from, or "" (see ConditionJson).
  std::string TextOf(const cond::Condition* condition) {
    MutexLock lock(&mu_);
    for (const auto& [json, weak] : conditions_) {
      if (auto live = weak.lock(); live.get() == condition) return json;
    }
    return "";
  }

 private:
  // Drops the entries whose condition is no longer used; amortised O(1).
  void Sweep() EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::erase_if(conditions_, [](const auto& entry) { return entry.second.expired(); });
    sweep_at_ = std::max(kMinSweepEntries, 2 * conditions_.size());
  }

  static constexpr size_t kMinSweepEntries = 1024;
  Mutex mu_;
  std::unordered_map<std::string, std::weak_ptr<const cond::Condition>> conditions_ GUARDED_BY(mu_);
  size_t sweep_at_ GUARDED_BY(mu_) = kMinSweepEntries;
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

// The targeting condition is shared: the ConditionTable charges it.
size_t HeapBytes(const CompiledModule& m) { return HeapBytes(m.json); }

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

size_t HeapBytes(const CompiledVariant& v) {
  size_t bytes =
      HeapBytes(v.key) + HeapBytes(v.remove) + ArrayBytes(v.add) + ArrayBytes(v.priority);
  for (const CompiledAdd& add : v.add) {
    bytes += HeapBytes(add.module) + HeapBytes(add.channels) + HeapBytes(add.page_ids);
  }
  for (const auto& [id, priority] : v.priority) bytes += HeapBytes(id);
  return bytes;
}

// The condition is shared: the ConditionTable charges it.
size_t HeapBytes(const CompiledExperiment& e) {
  size_t bytes = HeapBytes(e.id) + HeapBytes(e.hash_attribute) + HeapBytes(e.seed) +
                 ArrayBytes(e.ranges) + ArrayBytes(e.variants);
  for (const CompiledVariant& v : e.variants) bytes += HeapBytes(v);
  return bytes;
}

size_t HeapBytes(const events::Template& t) {
  size_t bytes =
      HeapBytes(t.tenant) + HeapBytes(t.channel) + HeapBytes(t.page_type) + ArrayBytes(t.zones);
  for (const events::TemplateZone& z : t.zones) bytes += HeapBytes(z.zone);
  return bytes;
}

// The heap memory of a slice made by make_shared: its block (the slice and
// the shared_ptr's control block: a vtable pointer and two 32-bit counts),
// what its members own, and its share of the shared conditions.
size_t SliceBytes(const PageSlice& slice, const ConditionTable& conditions) {
  constexpr size_t kControlBlockBytes = sizeof(void*) + 2 * sizeof(int);
  size_t bytes = HeapBlockBytes(kControlBlockBytes + sizeof(PageSlice)) + HeapBytes(slice.scope) +
                 ArrayBytes(slice.modules) + ArrayBytes(slice.experiments) +
                 ArrayBytes(slice.schedule_instants) + conditions.bytes();
  for (const CompiledModule& m : slice.modules) bytes += HeapBytes(m);
  for (const CompiledExperiment& e : slice.experiments) bytes += HeapBytes(e);
  if (slice.page_template) bytes += HeapBytes(*slice.page_template);
  return bytes;
}

void AddInstants(const events::Schedule& schedule, std::vector<UnixNanos>* out) {
  if (schedule.start) out->push_back(*schedule.start);
  if (schedule.end) out->push_back(*schedule.end);
}

// PageSlice::schedule_instants: of the modules and of the experiments' adds.
std::vector<UnixNanos> ScheduleInstants(const PageSlice& slice) {
  std::vector<UnixNanos> instants;
  for (const CompiledModule& m : slice.modules) AddInstants(m.schedule, &instants);
  for (const CompiledExperiment& e : slice.experiments) {
    for (const CompiledVariant& v : e.variants) {
      for (const CompiledAdd& add : v.add) AddInstants(add.module.schedule, &instants);
    }
  }
  std::sort(instants.begin(), instants.end());
  instants.erase(std::unique(instants.begin(), instants.end()), instants.end());
  instants.shrink_to_fit();
  return instants;
}

std::atomic<uint64_t> next_serial{1};

}  // namespace

std::string ConditionJson(const cond::Condition& condition) {
  return ConditionInterner::Instance().TextOf(&condition);
}

std::shared_ptr<const PageSlice> CompileSlice(std::string scope,
                                              const std::vector<events::Record>& records) {
  auto slice = std::make_shared<PageSlice>();
  slice->scope = std::move(scope);
  ConditionTable conditions;
  for (const events::Record& record : records) {
    if (const auto* module = std::get_if<events::Module>(&record)) {
      const int64_t version = module->version.value_or(0);
      slice->max_version = std::max(slice->max_version, version);
      slice->modules.push_back(CompileModule(*module, version, &conditions));
    } else if (const auto* exp = std::get_if<events::Experiment>(&record)) {
      slice->max_version = std::max(slice->max_version, exp->version);
      slice->experiments.push_back(CompileExperiment(*exp, &conditions));
    } else if (const auto* tmpl = std::get_if<events::Template>(&record)) {
      slice->max_version = std::max(slice->max_version, tmpl->version);
      slice->page_template = *tmpl;
    }
  }
  slice->modules.shrink_to_fit();
  std::sort(slice->modules.begin(), slice->modules.end(),
            [](const CompiledModule& a, const CompiledModule& b) { return a.id() < b.id(); });
  std::sort(slice->experiments.begin(), slice->experiments.end(),
            [](const CompiledExperiment& a, const CompiledExperiment& b) { return a.id < b.id; });
  slice->serial = next_serial.fetch_add(1, std::memory_order_relaxed);
  slice->schedule_instants = ScheduleInstants(*slice);
  slice->bytes = SliceBytes(*slice, conditions);
  return slice;
}

}  // namespace tempo::select
