// Per-side counts and checksums (side_tally.h).
#include "reconcile/side_tally.h"

#include <xxhash.h>

#include <charconv>

namespace tempo::reconcile {

uint64_t RecordChecksum(const origin::StoredRecord& record, std::string* scratch) {
  scratch->clear();
  scratch->append(record.key.tenant);
  scratch->push_back('\0');
  scratch->append(events::KindName(record.key.kind));
  scratch->push_back('\0');
  scratch->append(record.key.id);
  scratch->push_back('\0');
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), record.version);
  (void)ec;  // 24 bytes hold every int64
  scratch->append(digits, end);
  scratch->push_back('\0');
  scratch->append(record.record_json);
  return XXH3_64bits(scratch->data(), scratch->size());
}

void SideTally::Add(const origin::StoredRecord& record) {
  if (record.tombstone) return;
  if (current_ == nullptr || current_name_ != record.key.tenant) {
    auto it = tenants_.find(record.key.tenant);
    if (it == tenants_.end()) it = tenants_.emplace(record.key.tenant, TenantTally()).first;
    current_ = &it->second;
    current_name_.assign(record.key.tenant);
  }
  const uint64_t checksum = RecordChecksum(record, &scratch_);
  current_->all.Add(checksum);
  partitions_.Read(record);
  for (size_t i = 0; i < partitions_.size(); ++i) {
    const std::pair<std::string_view, std::string_view> name(partitions_.channel(i),
                                                             partitions_.page_type());
    auto it = current_->partitions.find(name);
    if (it == current_->partitions.end()) {
      it = current_->partitions.emplace(PartitionName(name.first, name.second), Tally()).first;
    }
    it->second.Add(checksum);
  }
}

}  // namespace tempo::reconcile
