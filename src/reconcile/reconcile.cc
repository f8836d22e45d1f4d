// The merge-join of two sides and the figures it yields (reconcile.h).
#include "reconcile/reconcile.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <utility>

#include "reconcile/partitions.h"
#include "reconcile/side_tally.h"

namespace tempo::reconcile {
namespace {

using Clock = std::chrono::steady_clock;

// Records joined between two looks at the clock for the progress callback.
constexpr int64_t kRecordsPerProgressCheck = 4096;

// The differences counted in one scope.
struct DiffCounts {
  int64_t missing_in_a = 0;
  int64_t missing_in_b = 0;
  int64_t differing = 0;

  void Add(Difference d) {
    switch (d) {
      case Difference::kMissingInA:
        ++missing_in_a;
        break;
      case Difference::kMissingInB:
        ++missing_in_b;
        break;
      case Difference::kDiffering:
        ++differing;
        break;
    }
  }
};

struct TenantDiffs {
  DiffCounts all;
  std::map<PartitionName, DiffCounts, PartitionNameLess> partitions;
};

// `s` with "<name>: " before its message.
Status Prefixed(const Status& s, const std::string& name) {
  return s.WithMessage(name + ": " + s.message());
}

SideState StateOf(const origin::StoredRecord* record) {
  SideState state;
  if (record == nullptr) return state;
  state.present = true;
  state.version = record->version;
  state.tombstone = record->tombstone;
  return state;
}

// The merge-join: takes the records of both sides in record-key order and
// counts the differences. Rare (a difference), so it may allocate.
class Joiner {
 public:
  explicit Joiner(size_t max_diffs) : max_diffs_(max_diffs) {}

  // One key: the record of each side that has it (nullptr for none).
  void Join(const origin::StoredRecord* a, const origin::StoredRecord* b) {
    const bool live_a = a != nullptr && !a->tombstone;
    const bool live_b = b != nullptr && !b->tombstone;
    if (live_a && live_b) {
      if (a->version != b->version || a->record_json != b->record_json) {
        Record(Difference::kDiffering, a, b);
      }
    } else if (live_a) {
      Record(Difference::kMissingInB, a, b);
    } else if (live_b) {
      Record(Difference::kMissingInA, a, b);
    }
  }

  int64_t differences() const { return differences_; }
  std::map<std::string, TenantDiffs, std::less<>>& tenants() { return tenants_; }
  std::vector<RecordDiff>& diffs() { return diffs_; }

 private:
  void Record(Difference difference, const origin::StoredRecord* a, const origin::StoredRecord* b) {
    ++differences_;
    const origin::StoredRecord& any = a != nullptr ? *a : *b;
    if (diffs_.size() < max_diffs_) {
      diffs_.push_back(RecordDiff{any.key, difference, StateOf(a), StateOf(b)});
    }
    TenantDiffs& tenant = tenants_[any.key.tenant];
    tenant.all.Add(difference);
    // The union of both sides' partitions: a record that moved channels
    // differs in the partitions it left and in those it joined.
    std::set<PartitionName> partitions;
    for (const origin::StoredRecord* record : {a, b}) {
      if (record == nullptr) continue;
      reader_.Read(*record);
      for (size_t i = 0; i < reader_.size(); ++i) {
        partitions.emplace(reader_.channel(i), reader_.page_type());
      }
    }
    for (const PartitionName& name : partitions) tenant.partitions[name].Add(difference);
  }

  const size_t max_diffs_;
  int64_t differences_ = 0;
  std::vector<RecordDiff> diffs_;
  std::map<std::string, TenantDiffs, std::less<>> tenants_;
  PartitionReader reader_;
};

Figures Combine(const Tally* a, const Tally* b, const DiffCounts* diffs) {
  Figures f;
  if (a != nullptr) {
    f.records_a = a->records;
    f.checksum_a = a->checksum;
  }
  if (b != nullptr) {
    f.records_b = b->records;
    f.checksum_b = b->checksum;
  }
  if (diffs != nullptr) {
    f.missing_in_a = diffs->missing_in_a;
    f.missing_in_b = diffs->missing_in_b;
    f.differing = diffs->differing;
  }
  return f;
}

template <typename Map, typename Key>
const typename Map::mapped_type* Find(const Map* map, const Key& key) {
  if (map == nullptr) return nullptr;
  auto it = map->find(key);
  return it == map->end() ? nullptr : &it->second;
}

// The figures of one tenant from both sides' tallies and its differences.
TenantFigures TenantFiguresOf(const std::string& tenant, const TenantTally* a, const TenantTally* b,
                              const TenantDiffs* diffs) {
  TenantFigures out;
  out.tenant = tenant;
  out.figures = Combine(a != nullptr ? &a->all : nullptr, b != nullptr ? &b->all : nullptr,
                        diffs != nullptr ? &diffs->all : nullptr);
  std::set<PartitionName, PartitionNameLess> names;
  for (const TenantTally* side : {a, b}) {
    if (side == nullptr) continue;
    for (const auto& [name, tally] : side->partitions) names.insert(name);
  }
  if (diffs != nullptr) {
    for (const auto& [name, counts] : diffs->partitions) names.insert(name);
  }
  for (const PartitionName& name : names) {
    out.partitions.push_back(
        PartitionFigures{name.first, name.second,
                         Combine(a != nullptr ? Find(&a->partitions, name) : nullptr,
                                 b != nullptr ? Find(&b->partitions, name) : nullptr,
                                 diffs != nullptr ? Find(&diffs->partitions, name) : nullptr)});
  }
  return out;
}

// Adds the tallies of one side into `total`'s counts and checksum.
void AddSide(const SideTally& side, int64_t* records, uint64_t* checksum) {
  for (const auto& [tenant, tally] : side.tenants()) {
    *records += tally.all.records;
    *checksum += tally.all.checksum;
  }
}

}  // namespace

double Figures::drift() const {
  const int64_t base = std::max(records_a, records_b);
  if (base == 0) return 0;
  return static_cast<double>(differences()) / static_cast<double>(base);
}

const char* DifferenceName(Difference difference) {
  switch (difference) {
    case Difference::kMissingInA:
      return "missing_in_a";
    case Difference::kMissingInB:
      return "missing_in_b";
    case Difference::kDiffering:
      return "differing";
  }
  return "unknown";
}

Result<Report> Reconcile(RecordSource a, RecordSource b, const ReconcileOptions& options) {
  const Clock::time_point start = Clock::now();
  SideTally tally_a;
  SideTally tally_b;
  Joiner joiner(options.max_diffs);
  Report report;
  {
    // Destroyed before the tallies are read, and on every early return:
    // stops a side still reading.
    RecordStream stream_a(std::move(a), [&](const origin::StoredRecord& r) { tally_a.Add(r); });
    RecordStream stream_b(std::move(b), [&](const origin::StoredRecord& r) { tally_b.Add(r); });
    const auto next = [&](RecordStream& stream, const std::string& name,
                          const origin::StoredRecord** record) {
      Status s = stream.Next(record);
      return s.ok() ? s : Prefixed(s, name);
    };
    const origin::StoredRecord* ra = nullptr;
    const origin::StoredRecord* rb = nullptr;
    if (Status s = next(stream_a, options.name_a, &ra); !s.ok()) return s;
    if (Status s = next(stream_b, options.name_b, &rb); !s.ok()) return s;
    Clock::time_point last_progress = start;
    int64_t until_check = kRecordsPerProgressCheck;
    while (ra != nullptr || rb != nullptr) {
      const int order = ra == nullptr   ? 1
                        : rb == nullptr ? -1
                                        : CompareRecordKeys(ra->key, rb->key);
      joiner.Join(order <= 0 ? ra : nullptr, order >= 0 ? rb : nullptr);
      if (order <= 0) {
        ++report.entries_a;
        if (Status s = next(stream_a, options.name_a, &ra); !s.ok()) return s;
      }
      if (order >= 0) {
        ++report.entries_b;
        if (Status s = next(stream_b, options.name_b, &rb); !s.ok()) return s;
      }
      if (options.progress && --until_check == 0) {
        until_check = kRecordsPerProgressCheck;
        const Clock::time_point now = Clock::now();
        if (now - last_progress >= options.progress_interval) {
          last_progress = now;
          options.progress(Progress{report.entries_a, report.entries_b, joiner.differences()});
        }
      }
    }
  }
  // Both streams ended: their threads are joined, the tallies complete.
  AddSide(tally_a, &report.total.records_a, &report.total.checksum_a);
  AddSide(tally_b, &report.total.records_b, &report.total.checksum_b);
  std::set<std::string, std::less<>> tenants;
  for (const SideTally* side : {&tally_a, &tally_b}) {
    for (const auto& [tenant, tally] : side->tenants()) tenants.insert(tenant);
  }
  for (const auto& [tenant, diffs] : joiner.tenants()) {
    tenants.insert(tenant);
    report.total.missing_in_a += diffs.all.missing_in_a;
    report.total.missing_in_b += diffs.all.missing_in_b;
    report.total.differing += diffs.all.differing;
  }
  for (const std::string& tenant : tenants) {
    report.tenants.push_back(TenantFiguresOf(tenant, Find(&tally_a.tenants(), tenant),
                                             Find(&tally_b.tenants(), tenant),
                                             Find(&joiner.tenants(), tenant)));
  }
  report.diffs = std::move(joiner.diffs());
  report.diffs_omitted = report.total.differences() - static_cast<int64_t>(report.diffs.size());
  report.elapsed = Clock::now() - start;
  return report;
}

}  // namespace tempo::reconcile
