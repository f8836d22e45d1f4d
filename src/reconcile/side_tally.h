// The figures of one side of a reconciliation that need no other side:
// live-record counts and order-independent checksums, per tenant and per
// partition. Computed on the side's own reading thread (record_stream.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "origin/origin.h"
#include "reconcile/partitions.h"

namespace tempo::reconcile {

// The checksum of one live record: XXH3-64 of
//   tenant NUL kind-name NUL id NUL version-in-decimal NUL record_json
// (publishedAt left out: it says when, not what). The checksum of a set of
// records is the sum of theirs modulo 2^64, so it does not depend on the
// order they were read in, and a script can compute it for a legacy dump.
uint64_t RecordChecksum(const origin::StoredRecord& record, std::string* scratch);

// Live records and their checksum, for one scope of one side.
struct Tally {
  int64_t records = 0;
  uint64_t checksum = 0;

  void Add(uint64_t record_checksum) {
    ++records;
    checksum += record_checksum;  // wraps: the sum is modulo 2^64
  }
};

// A partition of a tenant: (channel, pageType).
using PartitionName = std::pair<std::string, std::string>;

// Orders PartitionNames, and finds one by string views without building it.
struct PartitionNameLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return std::pair<std::string_view, std::string_view>(a.first, a.second) <
           std::pair<std::string_view, std::string_view>(b.first, b.second);
  }
};

struct TenantTally {
  Tally all;
  std::map<PartitionName, Tally, PartitionNameLess> partitions;
};

// Tallies the live records of one side; tombstones count as absent. Not
// thread-safe.
class SideTally {
 public:
  SideTally() = default;
  SideTally(const SideTally&) = delete;
  SideTally& operator=(const SideTally&) = delete;

  // Counts `record` if it is live. Records come in record-key order, so one
  // tenant's come together: a tenant's entry is looked up once per tenant.
  void Add(const origin::StoredRecord& record);

  // Live records and checksums by tenant.
  const std::map<std::string, TenantTally, std::less<>>& tenants() const { return tenants_; }

 private:
  std::map<std::string, TenantTally, std::less<>> tenants_;
  TenantTally* current_ = nullptr;  // the entry of the last record's tenant
  std::string current_name_;
  PartitionReader partitions_;
  std::string scratch_;
};

}  // namespace tempo::reconcile
