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
// The outbox: a store that applies the sync service's batches atomically
// can record, in the same write as a batch, the invalidations that batch
// owes (one SliceTouch per slice it changed). A batch re-delivered after a
// crash is stale, so it touches nothing and would owe nothing: the recorded
// set is what the restarted sync service still has to send. It is one record
// per store, for one sync service per store: with two on one PostgreSQL
// store, one's batch can replace the other's set before it was delivered.
//
// Implementations are safe for concurrent readers; writers are serialised
// internally. Two backends implement this interface: RocksDB, embedded in
// the process (rocks_origin.h: OpenRocksOrigin and its read-only
// secondaries), and PostgreSQL, networked and shared by any number of
// processes (pg_origin.h: OpenPostgresOrigin). origin_conformance_test.cc
// holds both to every rule below.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "events/record.h"
#include "events/slice_key.h"

namespace tempo::origin {

// The partition of a page and the cached unit (events/slice_key.h: the
// invalidation message names them too).
using PartitionKey = events::PartitionKey;
using SliceKey = events::SliceKey;
using SliceKeyHash = events::SliceKeyHash;

// One row of a partition: a live record serving one scope.
struct Row {
  std::string scope;  // "*" or a pageId
  events::Kind kind = events::Kind::kModule;
  std::string id;  // module/experiment id; "" for the template
  int64_t version = 0;
  std::string body;  // the compact record JSON as published
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

// A slice an applied batch changed, with the highest version of the batch's
// applied events that touched it: what one invalidation says.
struct SliceTouch {
  SliceKey slice;
  int64_t version = 0;
  bool operator==(const SliceTouch&) const = default;
};

// What ApplyBatch did with one event.
struct ApplyResult {
  // OK, or the InvalidArgument Apply would return: the event was skipped.
  Status status;
  ApplyOutcome outcome = ApplyOutcome::kStale;  // meaningful when status is OK
  // How many slices this event appended to ApplyBatch's `touched` (0 unless
  // applied); they follow those of the events before it.
  size_t touched = 0;
};

class Origin {
 public:
  virtual ~Origin() = default;

  // Applies one decoded event under the version rule: applied only when its
  // version is strictly higher than the stored one (live or tombstone).
  // An upsert replaces the record's rows (it may have moved channels or
  // pages); a delete removes them and leaves a tombstone. When applied and
  // `touched` is not null, appends every slice whose rows the event wrote or
  // removed (old and new channels/pages alike), possibly with repeats.
  // On return the write survives a crash of this process; call Sync() to make
  // it survive a power loss too.
  virtual Result<ApplyOutcome> Apply(const events::Event& event,
                                     std::vector<SliceKey>* touched) = 0;
  Result<ApplyOutcome> Apply(const events::Event& event) { return Apply(event, nullptr); }

  // Applies `events` in order, with the outcome one Apply each would have,
  // as one write where the backend can (the sync service's batches): the
  // version rule holds inside the batch too, so of two events of one record
  // key the higher version wins whatever their order, and the other is stale.
  // Clears `*results`, then gives each event its ApplyResult; when `touched`
  // is not null, appends each applied event's slices (as Apply does) in
  // event order. An event Apply would reject with InvalidArgument (it is not
  // self-consistent) gets that status in its result and is skipped; the rest
  // of the batch is applied.
  // Any other failure returns non-OK. `*results` then holds the results of
  // the events applied before it: a prefix of `events`, always empty for
  // the RocksDB and PostgreSQL backends (each applies a batch atomically),
  // and the caller may resume with the rest. On OK the writes survive a
  // crash of this process; call Sync() to make them survive a power loss.
  //
  // With `record_pending` (the sync service), a batch that touched at least
  // one slice also records its pending invalidations in the same atomic
  // write, replacing the set recorded before: every slice its applied events
  // touched, with the highest version of those events, as PendingInvalidations
  // returns them. A batch that touched nothing leaves the recorded set as it
  // is. The default calls Apply once per event and records nothing: it
  // cannot make the record atomic with the events.
  virtual Status ApplyBatch(std::span<const events::Event* const> events,
                            std::vector<ApplyResult>* results, std::vector<SliceKey>* touched,
                            bool record_pending);
  Status ApplyBatch(std::span<const events::Event* const> events, std::vector<ApplyResult>* results,
                    std::vector<SliceKey>* touched) {
    return ApplyBatch(events, results, touched, /*record_pending=*/false);
  }

  // The pending invalidations recorded by the last ApplyBatch with
  // `record_pending` that touched a slice, in SliceKey order, unless cleared
  // since; empty when none. They survive what the batch survives (a crash of
  // this process at once, a power loss after Sync()). The default: empty.
  virtual Result<std::vector<SliceTouch>> PendingInvalidations() {
    return std::vector<SliceTouch>{};
  }

  // Forgets the recorded pending invalidations (once they are delivered).
  // Survives a crash of this process. InvalidArgument on a read-only store.
  // The default: OK.
  virtual Status ClearPendingInvalidations() { return Status::OK(); }

  // Makes every write applied so far durable against power loss (one fsync
  // for a whole batch of Apply calls). The sync service calls it before it
  // commits its consumer offsets.
  virtual Status Sync() = 0;

  // Makes writes by other processes visible to this one's reads: a read-only
  // secondary (OpenRocksSecondary) catches up with the primary. A no-op for
  // stores whose reads always see the latest write.
  virtual Status CatchUp() { return Status::OK(); }

  // The reads below never turn a failure into "no data": a read that fails
  // returns Corruption when the store's data or files are damaged or missing
  // (a truncated or deleted table file, bytes that fail their checksum or do
  // not decode), IOError when reading them fails, and Unavailable when a
  // networked store cannot answer now (down, hung, over its deadline).

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

 protected:
  // Apply as an ApplyBatch of one event: for backends whose batch is the
  // primitive (their ApplyBatch must then not call Apply).
  Result<ApplyOutcome> ApplyAsBatch(const events::Event& event, std::vector<SliceKey>* touched);
};

}  // namespace tempo::origin
