// The embedded origin (SPEC §7) on RocksDB: OpenRocksOrigin, and the
// read-only OpenRocksSecondary and OpenRocksReadOnly (rocks_origin.h). The
// key layout and value encodings are in rocks_keys.h.
//
// Every ApplyBatch (and Apply, a batch of one) is one WriteBatch: the rows,
// record entries, tenant counts and outbox of all its events change together
// or not at all, with one WAL write. Writers are serialised by a mutex.
//
// Durability trade-off: writes go through the WAL with sync=false. A write is
// in the OS page cache when Apply returns, so it survives a crash of the
// process (the sync service's offset commit after Apply is then safe), but
// not a power loss or kernel crash; syncing every write would cost an fsync
// per event and make bulk import disk-latency bound. The WAL is synced when
// the origin is closed. After a power loss the sync service replays from its
// last committed offset, and the version rule makes the replay idempotent.
#include "origin/rocks_origin.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "common/mutex.h"
#include "origin/coding.h"
#include "origin/outbox.h"
#include "origin/record_rows.h"
#include "origin/rocks_keys.h"
#include "origin/schema_version.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/snapshot.h"
#include "rocksdb/sst_file_reader.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace tempo::origin {
namespace {

using events::Event;
using events::Kind;
using events::Op;
using rocks::DecodeRecordEntry;
using rocks::DecodeRecordKey;
using rocks::EncodeRecordEntry;
using rocks::KindFromStoredName;
using rocks::kOutboxKey;
using rocks::kRecordTag;
using rocks::kSchemaVersionKey;
using rocks::kTenantTag;
using rocks::OwnedRowKeys;
using rocks::PartitionPrefix;
using rocks::RecordEntry;
using rocks::RecordEntryKey;
using rocks::SliceOfRowKey;
using rocks::TenantCountKey;

// 10 bits per key gives about 1% false positives on record-entry and tenant
// point lookups (RocksDB's recommended default).
constexpr double kBloomBitsPerKey = 10;
constexpr size_t kWriteBufferBytes = size_t{16} << 20;

// The info LOG's size past which an open starts a new one (RocksInfoLog).
constexpr uintmax_t kMaxInfoLogBytes = 16 << 20;

// The check of a store before a secondary opens it (ListedTableFiles): a
// read-only open that stats every table file but opens only a few (RocksDB
// opens up to a quarter of the table cache, max_open_files - 10, at open;
// 20 is the least it accepts), so it stays cheap for a large store.
constexpr int kCheckMaxOpenFiles = 20;
// A live primary may replace a file between two reads of the check; a
// damaged store fails every attempt, a race at most one.
constexpr int kCheckAttempts = 3;
constexpr std::chrono::milliseconds kCheckRetryDelay{100};

// REQUIRES: !s.ok().
Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  std::string msg = "origin: " + std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(std::move(msg));
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return Status::Unavailable(std::move(msg));
  if (s.IsNotFound()) return Status::NotFound(std::move(msg));
  return Status::IOError(std::move(msg));
}

// FromRocks for a read of data the store must have (an iterator's status, a
// Get whose NotFound the caller has handled): a missing key or file there
// means the store lost data, which is Corruption, never NotFound, so that no
// caller can mistake a damaged store for one without the data.
// REQUIRES: !s.ok().
Status FromRocksRead(const rocksdb::Status& s, std::string_view what) {
  if (s.IsNotFound() || s.IsPathNotFound()) {
    return Status::Corruption("origin: " + std::string(what) + ": " + s.ToString());
  }
  return FromRocks(s, what);
}

// The writes of one ApplyBatch, given to RocksDB in key order with one
// write per key (the last one given): the memtable's skiplist inserts a run
// of ascending keys far faster than keys in event order (each row key, then
// the record entry, then the next event's rows elsewhere in the key space),
// and an overwritten row costs nothing.
class SortedWrites {
 public:
  // A Put of value `owned` + `shared`; `shared` must outlive Fill (the
  // event's body, so the rows of one event need no copy of it).
  void Put(std::string key, std::string owned, std::string_view shared) {
    writes_.push_back({std::move(key), false, std::move(owned), shared});
  }
  void Delete(std::string key) { writes_.push_back({std::move(key), true, {}, {}}); }

  // The writes as one WriteBatch, sized up front so that it is not copied as it grows.
  rocksdb::WriteBatch Build() const {
    // By key, then by the order given: the last write of a key ends its run.
    std::vector<const Write*> order;
    order.reserve(writes_.size());
    size_t bytes = 0;
    for (const Write& w : writes_) {
      order.push_back(&w);
      bytes += w.key.size() + w.owned.size() + w.shared.size() + kPerWriteOverhead;
    }
    std::sort(order.begin(), order.end(), [](const Write* a, const Write* b) {
      const int c = a->key.compare(b->key);
      return c < 0 || (c == 0 && a < b);
    });
    rocksdb::WriteBatch batch(kBatchHeader + bytes);
    for (size_t i = 0; i < order.size(); ++i) {
      const Write& w = *order[i];
      if (i + 1 < order.size() && order[i + 1]->key == w.key) continue;  // overwritten
      if (w.del) {
        batch.Delete(w.key);
        continue;
      }
      const rocksdb::Slice key(w.key);
      const rocksdb::Slice value[] = {w.owned, rocksdb::Slice(w.shared.data(), w.shared.size())};
      batch.Put(rocksdb::SliceParts(&key, 1), rocksdb::SliceParts(value, 2));
    }
    return batch;
  }

 private:
  // A WriteBatch's header (sequence number and count), and what one record's
  // tag and two varint lengths take at most.
  static constexpr size_t kBatchHeader = 12;
  static constexpr size_t kPerWriteOverhead = 11;
  struct Write {
    std::string key;
    bool del;
    std::string owned;
    std::string_view shared;
  };
  std::vector<Write> writes_;
};

// How a RocksOrigin opened its database.
enum class OpenMode {
  kPrimary,    // DB::Open: the one writer
  kSecondary,  // DB::OpenAsSecondary: reads only; CatchUp() tails the primary
  kReadOnly,   // DB::OpenForReadOnly: reads only, the store as it was at open
};

class RocksOrigin final : public Origin {
 public:
  RocksOrigin(std::unique_ptr<rocksdb::DB> db, std::map<std::string, int64_t, std::less<>> counts,
              OpenMode mode)
      : db_(std::move(db)), mode_(mode), live_counts_(std::move(counts)) {}

  ~RocksOrigin() override {
    // After a failed write RocksDB, as Debian builds it (with assertions),
    // aborts the process if the WAL writer that saw the failure is synced or
    // flushed again; what that write held is not committed, so sync reads
    // it again from Kafka. Close only.
    if (mode_ == OpenMode::kPrimary && !write_failed_.load(std::memory_order_relaxed)) {
      // Make sync=false writes survive a power loss after a clean shutdown.
      (void)db_->SyncWAL();
      // And leave nothing in the WAL: the next primary then has nothing to
      // recover, so it deletes no WAL that a secondary opened meanwhile (a
      // `tempo serve` started next to a `tempo sync` just after `tempo
      // import`) is still about to read; such a secondary saw an empty store
      // until its next catch-up. A destructor cannot report failure; the
      // data is still in the WAL file.
      (void)db_->Flush(rocksdb::FlushOptions());
    }
    (void)db_->Close();
  }

  RocksOrigin(const RocksOrigin&) = delete;
  RocksOrigin& operator=(const RocksOrigin&) = delete;

  Result<ApplyOutcome> Apply(const Event& event, std::vector<SliceKey>* touched) override;
  using Origin::ApplyBatch;
  Status ApplyBatch(std::span<const Event* const> events, std::vector<ApplyResult>* results,
                    std::vector<SliceKey>* touched, bool record_pending) override;
  Result<std::vector<SliceTouch>> PendingInvalidations() override;
  Status ClearPendingInvalidations() override;
  Status Sync() override;
  Status CatchUp() override;
  Result<std::vector<Row>> ReadScope(const PartitionKey& partition,
                                     std::string_view scope) override;
  Result<bool> TenantKnown(std::string_view tenant) override;
  Status ForEachRecord(const std::function<Status(const StoredRecord&)>& fn) override;

 private:
  // Appends the rows of `scope` in `partition_prefix` to `*rows`.
  static Status ReadScopeRows(rocksdb::Iterator* it, const std::string& partition_prefix,
                              std::string_view scope, std::vector<Row>* rows);

  // The writes a read-only instance refuses.
  Status ReadOnlyError() const {
    return Status::InvalidArgument(mode_ == OpenMode::kSecondary
                                       ? "origin: a secondary instance is read-only"
                                       : "origin: the store was opened read-only");
  }

  // Records the outcome of a write: a failed one leaves the WAL writer in a
  // state that must not be synced (~RocksOrigin) until a write succeeds
  // again (RocksDB recovered onto a new WAL). Returns `s`.
  rocksdb::Status Written(rocksdb::Status s) {
    write_failed_.store(!s.ok(), std::memory_order_relaxed);
    return s;
  }

  std::unique_ptr<rocksdb::DB> db_;
  const OpenMode mode_;
  std::atomic<bool> write_failed_{false};  // the last write failed (see Written)
  // Serialises Apply's read-modify-write and CatchUp (it guards db_'s
  // contents, not a member).
  Mutex write_mu_;

  // Live-record counts per tenant, mirroring the 't' keys (which are the
  // truth on restart). Written under write_mu_ and counts_mu_ (exclusive).
  SharedMutex counts_mu_;
  std::map<std::string, int64_t, std::less<>> live_counts_ GUARDED_BY(counts_mu_);
};

Result<ApplyOutcome> RocksOrigin::Apply(const Event& event, std::vector<SliceKey>* touched) {
  return ApplyAsBatch(event, touched);
}

Status RocksOrigin::ApplyBatch(std::span<const Event* const> events,
                               std::vector<ApplyResult>* results, std::vector<SliceKey>* touched,
                               bool record_pending) {
  results->clear();
  if (mode_ != OpenMode::kPrimary) return ReadOnlyError();
  results->resize(events.size());
  std::vector<std::string> entry_keys(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    (*results)[i].status = CheckEvent(*events[i]);
    if ((*results)[i].status.ok()) entry_keys[i] = RecordEntryKey(events[i]->key);
  }
  // The outbox needs the slices even when the caller does not.
  std::vector<SliceKey> own_touched;
  if (touched == nullptr && record_pending) touched = &own_touched;
  // Any failure below leaves the store as it was: report no event applied.
  const size_t touched_before = touched == nullptr ? 0 : touched->size();
  const auto fail = [&](Status s) {
    results->clear();
    if (touched != nullptr) touched->resize(touched_before);
    return s;
  };

  MutexLock lock(&write_mu_);
  // The stored entries of the batch's record keys, in one MultiGet.
  std::vector<rocksdb::Slice> keys;
  std::vector<size_t> key_of_event(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    if (!(*results)[i].status.ok()) continue;
    key_of_event[i] = keys.size();
    keys.emplace_back(entry_keys[i]);
  }
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> got(keys.size());
  if (!keys.empty()) {
    db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), keys.size(), keys.data(),
                  values.data(), got.data());
  }

  // Each record key's entry as of the events of the batch applied so far
  // (nullopt: none), so that the version rule sees earlier events of the
  // same batch, which are not in the store yet.
  std::unordered_map<std::string_view, std::optional<RecordEntry>> current;
  std::map<std::string_view, int64_t, std::less<>> live_delta;  // per tenant
  SortedWrites writes;
  for (size_t i = 0; i < events.size(); ++i) {
    ApplyResult& result = (*results)[i];
    if (!result.status.ok()) continue;
    const Event& event = *events[i];
    auto [it, first] = current.try_emplace(entry_keys[i]);
    std::optional<RecordEntry>& old = it->second;
    if (first) {
      const size_t k = key_of_event[i];
      if (got[k].ok()) {
        old.emplace();
        if (Status s = DecodeRecordEntry(values[k].ToStringView(), &*old); !s.ok()) return fail(s);
      } else if (!got[k].IsNotFound()) {
        return fail(FromRocksRead(got[k], "read record entry"));
      }
    }
    // Rule 14: strictly higher wins, against live records and tombstones alike.
    if (old && event.version <= old->version) continue;  // result.outcome is kStale

    RecordEntry next;
    next.version = event.version;
    next.tombstone = event.op == Op::kDelete;
    next.published_at = event.published_at;
    next.record_json = event.record_json;
    if (!next.tombstone) next.row_keys = OwnedRowKeys(event);

    // Deleting every old row then putting the new ones is exact: a later
    // write of the same key replaces the earlier one.
    if (old) {
      for (const std::string& key : old->row_keys) writes.Delete(key);
    }
    std::string version_bytes;  // a row's value: fixed64 version + body
    AppendFixed64(&version_bytes, static_cast<uint64_t>(event.version));
    for (const std::string& key : next.row_keys) {
      writes.Put(key, version_bytes, event.record_json);
    }
    writes.Put(entry_keys[i], EncodeRecordEntry(next), {});
    live_delta[event.key.tenant] += (next.tombstone ? 0 : 1) - (old && !old->tombstone ? 1 : 0);

    if (touched != nullptr) {
      const size_t before = touched->size();
      for (const auto* row_keys : {old ? &old->row_keys : nullptr, &next.row_keys}) {
        if (row_keys == nullptr) continue;
        for (const std::string& key : *row_keys) {
          SliceKey slice;
          if (Status s = SliceOfRowKey(key, &slice); !s.ok()) return fail(s);
          touched->push_back(std::move(slice));
        }
      }
      result.touched = touched->size() - before;
    }
    result.outcome = ApplyOutcome::kApplied;
    old = std::move(next);
  }

  std::vector<std::pair<std::string_view, int64_t>> new_counts;
  {
    // Only writers (who hold write_mu_, as this one does) change the map, so a
    // shared lock is enough to read it; readers of TenantKnown are not held up.
    ReaderMutexLock counts_read(&counts_mu_);
    for (const auto& [tenant, delta] : live_delta) {
      if (delta == 0) continue;
      auto it = live_counts_.find(tenant);
      const int64_t count = (it == live_counts_.end() ? 0 : it->second) + delta;
      if (count < 0) return fail(Status::Internal("origin: negative live-record count"));
      std::string count_key = TenantCountKey(tenant);
      if (count == 0) {
        writes.Delete(std::move(count_key));
      } else {
        std::string value;
        AppendFixed64(&value, static_cast<uint64_t>(count));
        writes.Put(std::move(count_key), std::move(value), {});
      }
      new_counts.emplace_back(tenant, count);
    }
  }
  if (record_pending && touched->size() > touched_before) {
    const std::span<const SliceKey> slices(touched->data() + touched_before,
                                           touched->size() - touched_before);
    writes.Put(std::string(kOutboxKey), EncodePendingInvalidations(events, *results, slices), {});
  }

  rocksdb::WriteBatch batch = writes.Build();
  if (batch.Count() > 0) {
    rocksdb::WriteOptions options;
    options.sync = false;  // see "Durability trade-off" at the top of this file
    if (rocksdb::Status s = Written(db_->Write(options, &batch)); !s.ok())
      return fail(FromRocks(s, "write"));
  }
  if (!new_counts.empty()) {
    WriterMutexLock counts_lock(&counts_mu_);
    for (const auto& [tenant, count] : new_counts) {
      auto it = live_counts_.find(tenant);
      if (count == 0) {
        live_counts_.erase(it);
      } else if (it == live_counts_.end()) {
        live_counts_.emplace(tenant, count);
      } else {
        it->second = count;
      }
    }
  }
  return Status::OK();
}

Result<std::vector<SliceTouch>> RocksOrigin::PendingInvalidations() {
  std::vector<SliceTouch> touches;
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(),
                               rocksdb::Slice(kOutboxKey.data(), kOutboxKey.size()), &value);
  if (s.IsNotFound()) return touches;
  if (!s.ok()) return FromRocksRead(s, "read pending invalidations");
  if (Status d = DecodePendingInvalidations(value.ToStringView(), &touches); !d.ok()) return d;
  return touches;
}

Status RocksOrigin::ClearPendingInvalidations() {
  if (mode_ != OpenMode::kPrimary) return ReadOnlyError();
  MutexLock lock(&write_mu_);
  rocksdb::WriteOptions options;
  options.sync = false;  // see "Durability trade-off" at the top of this file
  rocksdb::Status s =
      Written(db_->Delete(options, rocksdb::Slice(kOutboxKey.data(), kOutboxKey.size())));
  return s.ok() ? Status::OK() : FromRocks(s, "clear pending invalidations");
}

Status RocksOrigin::Sync() {
  if (mode_ != OpenMode::kPrimary) return Status::OK();
  if (write_failed_.load(std::memory_order_relaxed)) {  // see ~RocksOrigin
    return Status::IOError("origin: sync WAL: the last write failed");
  }
  rocksdb::Status s = db_->SyncWAL();
  return s.ok() ? Status::OK() : FromRocks(s, "sync WAL");
}

Status RocksOrigin::ReadScopeRows(rocksdb::Iterator* it, const std::string& partition_prefix,
                                  std::string_view scope, std::vector<Row>* rows) {
  std::string prefix = partition_prefix;
  AppendTupleElement(&prefix, scope);
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (!key.starts_with(prefix)) break;
    std::string_view rest(key.data() + prefix.size(), key.size() - prefix.size());
    Row row;
    std::string kind_name;
    if (!ReadTupleElement(&rest, &kind_name) || !ReadTupleElement(&rest, &row.id) ||
        !rest.empty() || !KindFromStoredName(kind_name, &row.kind)) {
      return Status::Corruption("origin: malformed row key");
    }
    std::string_view value(it->value().data(), it->value().size());
    uint64_t version = 0;
    if (!ReadFixed64(&value, &version)) return Status::Corruption("origin: malformed row value");
    row.scope = scope;
    row.version = static_cast<int64_t>(version);
    row.body = value;
    rows->push_back(std::move(row));
  }
  if (!it->status().ok()) return FromRocksRead(it->status(), "read page");
  return Status::OK();
}

Result<std::vector<Row>> RocksOrigin::ReadScope(const PartitionKey& partition,
                                                std::string_view scope) {
  std::vector<Row> rows;
  if (scope.empty()) return rows;  // "" never has rows (rule 16)
  const std::string prefix =
      PartitionPrefix(partition.tenant, partition.channel, partition.page_type);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  if (Status s = ReadScopeRows(it.get(), prefix, scope, &rows); !s.ok()) return s;
  return rows;
}

// From the counts loaded at open and at each CatchUp, whose reads fail the
// open or the catch-up when the store is damaged: no read here can fail.
Result<bool> RocksOrigin::TenantKnown(std::string_view tenant) {
  ReaderMutexLock lock(&counts_mu_);
  return live_counts_.find(tenant) != live_counts_.end();
}

Status RocksOrigin::ForEachRecord(const std::function<Status(const StoredRecord&)>& fn) {
  const std::string prefix(1, kRecordTag);
  // One view for the scan and the rows it reads, so that a concurrent write
  // cannot pair an entry with a newer row: a snapshot on the primary; a
  // secondary (which has no snapshots) changes only in CatchUp, under
  // write_mu_; a read-only instance never changes.
  rocksdb::ReadOptions read;
  std::optional<rocksdb::ManagedSnapshot> snapshot;
  std::optional<MutexLock> frozen;
  if (mode_ == OpenMode::kSecondary) {
    frozen.emplace(&write_mu_);
  } else if (mode_ == OpenMode::kPrimary) {
    snapshot.emplace(db_.get());
    read.snapshot = snapshot->snapshot();
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (!key.starts_with(prefix)) break;
    StoredRecord record;
    if (Status s = DecodeRecordKey(std::string_view(key.data(), key.size()), &record.key);
        !s.ok()) {
      return s;
    }
    RecordEntry entry;
    if (Status s =
            DecodeRecordEntry(std::string_view(it->value().data(), it->value().size()), &entry);
        !s.ok()) {
      return s;
    }
    record.version = entry.version;
    record.tombstone = entry.tombstone;
    record.published_at = entry.published_at;  // copied while the iterator holds the bytes
    record.record_json = entry.record_json;
    if (entry.json_in_rows) {
      // Every row of the record holds its JSON after the version.
      std::string row;
      rocksdb::Status got = db_->Get(read, entry.row_keys.front(), &row);
      if (!got.ok()) return FromRocksRead(got, "read the row of a record");
      std::string_view body(row);
      uint64_t row_version = 0;
      if (!ReadFixed64(&body, &row_version) ||
          row_version != static_cast<uint64_t>(entry.version)) {
        return Status::Corruption("origin: a record's row does not match its entry");
      }
      record.record_json = body;
    }
    if (Status s = fn(record); !s.ok()) return s;
  }
  if (!it->status().ok()) return FromRocksRead(it->status(), "list records");
  return Status::OK();
}

// Reads every 't' key into a map.
Status LoadLiveCounts(rocksdb::DB* db, std::map<std::string, int64_t, std::less<>>* counts);

// The schema version `db` records ('v'); nullopt when it records none.
Result<std::optional<int64_t>> ReadSchemaVersion(rocksdb::DB* db) {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), kSchemaVersionKey, &value);
  if (s.IsNotFound()) return std::optional<int64_t>();
  if (!s.ok()) return FromRocksRead(s, "read the schema version");
  std::string_view rest(value);
  uint64_t version = 0;
  if (!ReadFixed64(&rest, &version) || !rest.empty() ||
      version > static_cast<uint64_t>(INT64_MAX)) {
    return Status::Corruption("origin: malformed schema version");
  }
  return std::optional<int64_t>(static_cast<int64_t>(version));
}

// OK when this release reads the layout `db` holds (schema_version.h);
// `what` names the operation in the message.
Status CheckSchemaVersion(rocksdb::DB* db, const std::string& what) {
  auto recorded = ReadSchemaVersion(db);
  if (!recorded.ok()) return recorded.status();
  return CheckStoreSchemaVersion(recorded->value_or(kUnrecordedStoreSchemaVersion), what);
}

Status RocksOrigin::CatchUp() {
  if (mode_ != OpenMode::kSecondary) return Status::OK();
  MutexLock lock(&write_mu_);
  if (rocksdb::Status s = db_->TryCatchUpWithPrimary(); !s.ok()) {
    return FromRocks(s, "catch up with primary");
  }
  // The primary may be a newer tempo now: what it wrote is not read then.
  if (Status s = CheckSchemaVersion(db_.get(), "catch up with primary"); !s.ok()) return s;
  std::map<std::string, int64_t, std::less<>> counts;
  if (Status s = LoadLiveCounts(db_.get(), &counts); !s.ok()) return s;
  WriterMutexLock counts_lock(&counts_mu_);
  live_counts_ = std::move(counts);
  return Status::OK();
}

Status LoadLiveCounts(rocksdb::DB* db, std::map<std::string, int64_t, std::less<>>* counts) {
  const std::string prefix(1, kTenantTag);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (!key.starts_with(prefix)) break;
    std::string_view rest(key.data() + prefix.size(), key.size() - prefix.size());
    std::string tenant;
    std::string_view value(it->value().data(), it->value().size());
    uint64_t count = 0;
    if (!ReadTupleElement(&rest, &tenant) || !rest.empty() || !ReadFixed64(&value, &count) ||
        !value.empty() || count == 0 || count > static_cast<uint64_t>(INT64_MAX)) {
      return Status::Corruption("origin: malformed tenant count");
    }
    (*counts)[std::move(tenant)] = static_cast<int64_t>(count);
  }
  if (!it->status().ok()) return FromRocksRead(it->status(), "load tenant counts");
  return Status::OK();
}

}  // namespace

namespace {

// RocksDB's info LOG (DIR/LOG, appended to; moved to DIR/LOG.old at an open
// that finds it over kMaxInfoLogBytes), written with stdio and without error
// checks: RocksDB 7.8 as packaged (built with assertions) aborts
// the process when its own LOG writer is used after a failed write, and on a
// full disk the LOG is often the first write to fail, which took `tempo sync`
// down (docs/reliability.md, the disk-full row). Thread-safe (stdio locks).
class RocksInfoLog final : public rocksdb::Logger {
 public:
  explicit RocksInfoLog(const std::string& dir) : file_(Open(dir)) {}
  ~RocksInfoLog() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  RocksInfoLog(const RocksInfoLog&) = delete;
  RocksInfoLog& operator=(const RocksInfoLog&) = delete;

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    if (file_ == nullptr) return;
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            now.time_since_epoch() % std::chrono::seconds(1))
                            .count();
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y/%m/%d-%H:%M:%S", &utc);
    std::fprintf(file_, "%s.%06lld ", stamp, static_cast<long long>(micros));
    std::vfprintf(file_, format, ap);
    std::fputc('\n', file_);
    std::fflush(file_);  // errors (a full disk) are ignored: the log is best effort
  }

 private:
  static std::FILE* Open(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);  // as RocksDB's own logger does
    const std::string path = dir + "/LOG";
    if (std::filesystem::file_size(path, ec) > kMaxInfoLogBytes && !ec) {
      std::filesystem::rename(path, path + ".old", ec);
    }
    return std::fopen(path.c_str(), "a");
  }

  std::FILE* const file_;
};

rocksdb::Options StoreOptions() {
  rocksdb::Options options;
  options.create_if_missing = true;
  // No compression in L0 and L1 (RocksDB's tuning guide): they hold little
  // of the data but are rewritten most often, and compressing every memtable
  // flush and L0->L1 compaction took ~12% of the CPU while syncing a backlog.
  // The rest keeps the default (Snappy).
  options.compression_per_level.assign(static_cast<size_t>(options.num_levels),
                                       rocksdb::kSnappyCompression);
  options.compression_per_level[0] = rocksdb::kNoCompression;
  options.compression_per_level[1] = rocksdb::kNoCompression;
  // Let the kernel write the WAL and new tables back as they grow, so the
  // sync loop's fsync after each batch (on its critical path) finds little
  // left to write (RocksDB's tuning guide; BM_SyncLog: 54-55 K events/s
  // against 42-51 K without, interleaved runs on the idle 2-core VM).
  options.wal_bytes_per_sync = 1 << 20;
  options.bytes_per_sync = 1 << 20;
  // 16 MiB memtables, not RocksDB's 64: every tempo serve reading the store
  // as a secondary replays sync's WAL into a memtable of its own until sync
  // flushes, so this bound is paid by each serve instance, for nothing it
  // serves faster. At a publish stream of 100 events/s a 64 MiB memtable took
  // 6-7 minutes to fill and the serve's RSS followed it up and down by about
  // 60 MiB (docs/reliability.md, "Soak").
  options.write_buffer_size = kWriteBufferBytes;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(kBloomBitsPerKey));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

// NotFound unless `path` is a directory holding a RocksDB store (its CURRENT
// file): a reader must not take a typo for an empty store, nor create one.
Status CheckIsStore(const std::string& path, std::string_view what) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) {
    return Status::NotFound("origin: " + std::string(what) + ": no such directory");
  }
  if (!std::filesystem::is_regular_file(std::filesystem::path(path) / "CURRENT", error)) {
    return Status::NotFound("origin: " + std::string(what) +
                            ": not a store (the directory has no CURRENT file)");
  }
  return Status::OK();
}

// The table files (as LiveFileMetaData names them: "/000009.sst") that the
// store's MANIFEST lists, as a read-only open sees them. Unlike a secondary's,
// a read-only open fails with Corruption when a listed table is missing or
// its size differs from the recorded one (a stat per file), or when one of
// the few tables it opens is damaged, so it is the check a secondary needs.
Result<std::set<std::string>> ListedTableFiles(const std::string& path) {
  rocksdb::Options options = StoreOptions();
  options.create_if_missing = false;
  options.max_open_files = kCheckMaxOpenFiles;
  Status last;
  for (int attempt = 0; attempt < kCheckAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(kCheckRetryDelay);
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::OpenForReadOnly(options, path, &raw);
    if (!s.ok()) {
      last = FromRocksRead(s, "check " + path + " (the store is damaged)");
      continue;  // perhaps a live primary replaced a file as it was read
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    std::vector<rocksdb::LiveFileMetaData> files;
    db->GetLiveFilesMetaData(&files);
    std::set<std::string> names;
    for (const rocksdb::LiveFileMetaData& file : files) names.insert(file.name);
    return names;
  }
  return last;
}

// The Corruption of a secondary of `path` that could not use the existing
// table files `unseen`: it names the one that fails to open when there is
// one (the secondary leaves out every file added with or after it, healthy
// ones too), else all of them.
Status UnusableTablesError(const std::string& path, const std::vector<std::string>& unseen) {
  std::string why;
  for (const std::string& file : unseen) {
    rocksdb::SstFileReader reader(StoreOptions());
    if (rocksdb::Status s = reader.Open(file); !s.ok()) {
      why = "table file " + file + " cannot be opened: " + s.ToString();
      break;
    }
  }
  if (why.empty()) {
    why = "table files it lists cannot all be read:";
    for (const std::string& file : unseen) why += " " + file;
  }
  return Status::Corruption("origin: open " + path +
                            " as a secondary (the store is damaged): " + why);
}

// Corruption when the secondary `db` of the store in `path` does not list a
// table file of `listed` (ListedTableFiles before it opened) that still
// exists: a secondary's recovery silently stops at the last state whose
// files it can all open, so a missing, truncated or damaged table would
// otherwise leave it serving an older (often empty) store as if it were the
// store. A table the primary has compacted away since is gone from the
// directory; one it has replaced but not yet deleted is told apart by
// checking again after a catch-up.
Status CheckSecondarySeesEveryTable(rocksdb::DB* db, const std::string& path,
                                    std::set<std::string> listed) {
  Status last;
  for (int attempt = 0; attempt < kCheckAttempts; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(kCheckRetryDelay);
      auto again = ListedTableFiles(path);
      if (!again.ok()) return again.status();
      listed = *std::move(again);
      // After the listing, so that the secondary's view is at least as recent.
      if (rocksdb::Status s = db->TryCatchUpWithPrimary(); !s.ok()) {
        return FromRocks(s, "catch up with primary");
      }
    }
    std::vector<rocksdb::LiveFileMetaData> files;
    db->GetLiveFilesMetaData(&files);
    std::set<std::string> seen;
    for (const rocksdb::LiveFileMetaData& file : files) seen.insert(file.name);
    std::vector<std::string> unseen;
    for (const std::string& name : listed) {
      std::error_code error;
      if (seen.count(name) == 0 && std::filesystem::exists(path + name, error)) {
        unseen.push_back(path + name);
      }
    }
    if (unseen.empty()) return Status::OK();
    last = UnusableTablesError(path, unseen);
  }
  return last;
}

// Checks the schema version of the store a primary opened, and records
// kStoreSchemaVersion when it records an older one or none (schema_version.h).
// Synced: it is written once per store.
Status RecordSchemaVersion(rocksdb::DB* db, const std::string& path) {
  auto recorded = ReadSchemaVersion(db);
  if (!recorded.ok()) return recorded.status();
  if (*recorded == kStoreSchemaVersion) return Status::OK();
  const int64_t version = recorded->value_or(kUnrecordedStoreSchemaVersion);
  if (Status s = CheckStoreSchemaVersion(version, "open " + path); !s.ok()) return s;
  std::string value;
  AppendFixed64(&value, static_cast<uint64_t>(kStoreSchemaVersion));
  rocksdb::WriteOptions options;
  options.sync = true;
  rocksdb::Status s = db->Put(options, kSchemaVersionKey, value);
  return s.ok() ? Status::OK() : FromRocks(s, "record the schema version");
}

}  // namespace

Result<std::unique_ptr<Origin>> OpenRocksOrigin(const std::string& path) {
  rocksdb::Options options = StoreOptions();
  options.info_log = std::make_shared<RocksInfoLog>(path);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) {
    std::string what = "open " + path;
    // RocksDB reports a held LOCK file as an IOError mentioning "lock".
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      what += " (directory in use by another origin; only one process may open it)";
    }
    return FromRocks(s, what);
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  if (Status recorded = RecordSchemaVersion(db.get(), path); !recorded.ok()) return recorded;
  std::map<std::string, int64_t, std::less<>> counts;
  if (Status load = LoadLiveCounts(db.get(), &counts); !load.ok()) return load;
  return std::unique_ptr<Origin>(
      std::make_unique<RocksOrigin>(std::move(db), std::move(counts), OpenMode::kPrimary));
}

Result<std::unique_ptr<Origin>> OpenRocksSecondary(const std::string& path,
                                                   const std::string& secondary_dir) {
  const std::string what = "open " + path + " as a secondary";
  if (Status s = CheckIsStore(path, what); !s.ok()) return s;
  // What the MANIFEST lists, checked by a read-only open, before the
  // secondary opens: its view must then be at least as recent.
  auto listed = ListedTableFiles(path);
  if (!listed.ok()) return listed.status();
  rocksdb::Options options = StoreOptions();
  options.create_if_missing = false;
  // A secondary must keep every table file open: the primary may delete one
  // that this instance still lists until its next catch-up.
  options.max_open_files = -1;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenAsSecondary(options, path, secondary_dir, &raw);
  if (!s.ok()) return FromRocks(s, what);
  std::unique_ptr<rocksdb::DB> db(raw);
  if (Status v = CheckSecondarySeesEveryTable(db.get(), path, *std::move(listed)); !v.ok()) {
    return v;
  }
  if (Status v = CheckSchemaVersion(db.get(), what); !v.ok()) return v;
  std::map<std::string, int64_t, std::less<>> counts;
  if (Status load = LoadLiveCounts(db.get(), &counts); !load.ok()) return load;
  return std::unique_ptr<Origin>(
      std::make_unique<RocksOrigin>(std::move(db), std::move(counts), OpenMode::kSecondary));
}

Result<std::unique_ptr<Origin>> OpenRocksReadOnly(const std::string& path) {
  const std::string what = "open " + path + " read-only";
  if (Status s = CheckIsStore(path, what); !s.ok()) return s;
  rocksdb::Options options = StoreOptions();
  options.create_if_missing = false;
  // Every table is opened (footer, index and filter read and checksummed)
  // at open, so a damaged one fails here: the reader reads them all anyway.
  options.max_open_files = -1;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(options, path, &raw);
  if (!s.ok()) return FromRocksRead(s, what);
  std::unique_ptr<rocksdb::DB> db(raw);
  if (Status v = CheckSchemaVersion(db.get(), what); !v.ok()) return v;
  std::map<std::string, int64_t, std::less<>> counts;
  if (Status load = LoadLiveCounts(db.get(), &counts); !load.ok()) return load;
  return std::unique_ptr<Origin>(
      std::make_unique<RocksOrigin>(std::move(db), std::move(counts), OpenMode::kReadOnly));
}

}  // namespace tempo::origin
