// The origin store (SPEC §7): the durable source of truth for page slices.
//
// Logically one table, PRIMARY KEY ((tenant, channel, page_type), page_scope,
// kind, id), where page_scope is "*" for type-wide records and the pageId for
// page-specific modules. A module is written into one row per (channel, scope)
// it serves; experiments and templates into scope "*" of their partitions.
// Alongside the rows the origin keeps one entry per record key (live record
// or tombstone with its version) so the version rule of SPEC §11.14 can be
// enforced and `tempo export` can list records in key order.
//
// Implementations are safe for concurrent readers; writers are serialised
// internally. Backends: RocksDB (embedded, this file's OpenRocksOrigin);
// networked ones plug in behind the same interface.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "events/record.h"

namespace tempo::origin {

// The partition of a page: every row one page read may need.
struct PartitionKey {
  std::string tenant;
  std::string channel;
  std::string page_type;
};

// One row of a partition: a live record serving one scope.
struct Row {
  std::string scope;  // "*" or a pageId
  events::Kind kind = events::Kind::kModule;
  std::string id;     // module/experiment id; "" for the template
  int64_t version = 0;
  std::string body;   // the compact record JSON as published
};

// One record key's current state, as `tempo export` lists it.
struct StoredRecord {
  events::RecordKey key;
  int64_t version = 0;
  bool tombstone = false;
  std::string published_at;
  std::string record_json;  // the record object of the event that wrote it
};

enum class ApplyOutcome { kApplied, kStale };

class Origin {
 public:
  virtual ~Origin() = default;

  // Applies one decoded event under the version rule: applied only when its
  // version is strictly higher than the stored one (live or tombstone).
  // An upsert replaces the record's rows (it may have moved channels or
  // pages); a delete removes them and leaves a tombstone. Durable on return.
  virtual Result<ApplyOutcome> Apply(const events::Event& event) = 0;

  // Reads the rows of scope "*" and, when page_id is set, of scope *page_id,
  // of one partition, in (scope "*" first, then kind, id) order. One read.
  virtual Result<std::vector<Row>> ReadPage(const PartitionKey& partition,
                                            std::optional<std::string_view> page_id) = 0;

  // Reads the rows of one scope ("*" or a pageId) of one partition, in
  // (kind, id) order: what one cached slice holds. One read.
  virtual Result<std::vector<Row>> ReadScope(const PartitionKey& partition,
                                             std::string_view scope) = 0;

  // True when the tenant has at least one live record of any kind (§11.18).
  virtual Result<bool> TenantKnown(std::string_view tenant) = 0;

  // Calls `fn` for every record key (live or tombstone) in record-key order:
  // tenant, then kind name ("experiment" < "module" < "template"), then id,
  // each compared bytewise. Stops early with fn's first non-OK Status.
  virtual Status ForEachRecord(const std::function<Status(const StoredRecord&)>& fn) = 0;
};

// Opens (creating if needed) a RocksDB-backed origin in directory `path`.
Result<std::unique_ptr<Origin>> OpenRocksOrigin(const std::string& path);

}  // namespace tempo::origin
