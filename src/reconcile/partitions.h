// The partitions (tenant, channel, pageType) a record belongs to, read from
// its stored JSON: what the per-partition figures of a reconciliation count.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "origin/origin.h"

namespace tempo::reconcile {

// Reads the channels and page type of records, reusing its buffers: after
// the first records it allocates nothing. Not thread-safe: one per thread.
//
// A module or an experiment belongs to (tenant, c, pageType) for each
// distinct string c of its "channels" (none when the list is empty); a
// template to the (channel, pageType) of its key ("channel:pageType"). Only
// those two fields are read (simdjson On-Demand, stopping once both are
// found). A record whose JSON lacks them or does not parse (a tombstone
// usually, or damaged bytes) belongs to no partition: it still counts for
// its tenant.
class PartitionReader {
 public:
  PartitionReader() = default;
  PartitionReader(const PartitionReader&) = delete;
  PartitionReader& operator=(const PartitionReader&) = delete;

  // Reads the partitions of `record`; they stay valid until the next call.
  void Read(const origin::StoredRecord& record);

  // The number of partitions read: one per channel.
  size_t size() const { return count_; }
  // REQUIRES: i < size().
  std::string_view channel(size_t i) const { return channels_[i]; }
  // The page type of every partition read.
  std::string_view page_type() const { return page_type_; }

 private:
  void Add(std::string_view channel);
  void ReadJson(std::string_view json, size_t capacity);

  simdjson::ondemand::parser parser_;
  std::string padded_;  // a copy of JSON whose buffer lacks SIMDJSON_PADDING spare bytes
  std::vector<std::string> channels_;  // the first count_ are this record's
  size_t count_ = 0;
  std::string page_type_;
};

}  // namespace tempo::reconcile
