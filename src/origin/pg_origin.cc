// The PostgreSQL origin (see pg_origin.h): the Origin implementation on the
// schema of pg_schema.h, over the connection pool of pg_pool.h, reading and
// writing cells with the codec of pg_codec.h.
#include "origin/pg_origin.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libpq-fe.h"
#include "origin/outbox.h"
#include "origin/pg_codec.h"
#include "origin/pg_pool.h"
#include "origin/pg_schema.h"
#include "origin/record_rows.h"

namespace tempo::origin {
namespace {

using events::Event;
using events::Kind;
using events::Op;
using pg::Cells;
using pg::Connection;
using pg::ConnectionConfig;
using pg::ConnectionPool;
using pg::Params;
using pg::PgResult;
using Clock = pg::Clock;

// Rows per FETCH while listing records: bounds memory during export.
constexpr int kExportBatchRows = 1000;

// ---- events to rows -----------------------------------------------------------

void AppendSlices(std::string_view tenant, const RecordRows& rows, std::vector<SliceKey>* out) {
  for (const std::string& channel : rows.channels) {
    for (const std::string& scope : rows.scopes) {
      out->push_back(SliceKey{{std::string(tenant), channel, rows.page_type}, scope});
    }
  }
}

// ---- the store ------------------------------------------------------------------

class PostgresOrigin final : public Origin {
 public:
  explicit PostgresOrigin(ConnectionConfig config) : pool_(std::move(config)) {}

  Status ConnectAll() { return pool_.ConnectAll(); }

  // Opens one connection so that a bad URI, a down server or a missing
  // schema is reported by Open.
  Status Check() {
    auto lease = pool_.Acquire();
    return lease.ok() ? Status::OK() : lease.status();
  }

  Result<ApplyOutcome> Apply(const Event& event, std::vector<SliceKey>* touched) override;
  using Origin::ApplyBatch;
  Status ApplyBatch(std::span<const Event* const> events, std::vector<ApplyResult>* results,
                    std::vector<SliceKey>* touched, bool record_pending) override;
  Result<std::vector<SliceTouch>> PendingInvalidations() override;
  Status ClearPendingInvalidations() override;
  Status Sync() override;
  Result<std::vector<Row>> ReadScope(const PartitionKey& partition,
                                     std::string_view scope) override;
  Result<bool> TenantKnown(std::string_view tenant) override;
  Status ForEachRecord(const std::function<Status(const StoredRecord&)>& fn) override;

 private:
  // One tempo_apply call on `conn` for a checked event.
  Result<ApplyOutcome> ApplyOne(Connection* conn, const Event& event,
                                std::vector<SliceKey>* touched);
  Result<std::vector<Row>> ReadRows(const char* stmt, const PartitionKey& partition,
                                    std::string_view scope);
  // Runs prepared read `stmt` (no side effects) on a pooled connection. When
  // it fails on a session opened before this call, because the server had
  // closed it (a restart, a terminated backend), at once and not after a
  // wait, runs it once more on a new session, so that the first read after
  // a database restart is not an error.
  Result<PgResult> Read(const char* stmt, const Params& params);

  ConnectionPool pool_;
};

Result<ApplyOutcome> PostgresOrigin::Apply(const Event& event, std::vector<SliceKey>* touched) {
  return ApplyAsBatch(event, touched);
}

Status PostgresOrigin::ApplyBatch(std::span<const Event* const> events,
                                  std::vector<ApplyResult>* results, std::vector<SliceKey>* touched,
                                  bool record_pending) {
  results->clear();
  results->resize(events.size());
  size_t valid = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    (*results)[i].status = CheckEvent(*events[i]);
    if ((*results)[i].status.ok()) ++valid;
  }
  if (valid == 0) return Status::OK();
  // The outbox needs the slices even when the caller does not.
  std::vector<SliceKey> own_touched;
  if (touched == nullptr && record_pending) touched = &own_touched;
  const size_t touched_before = touched == nullptr ? 0 : touched->size();
  auto lease = pool_.Acquire();
  if (!lease.ok()) {
    results->clear();
    return lease.status();
  }
  Connection* conn = lease->get();
  // A failure leaves nothing of the batch: the transaction is rolled back (a
  // single tempo_apply call is its own transaction, unless the outbox is
  // written with it).
  const bool transaction = valid > 1 || record_pending;
  const auto fail = [&](Status s) {
    results->clear();
    if (touched != nullptr) touched->resize(touched_before);
    // Best effort: a connection left inside the transaction is replaced on its next use.
    if (transaction) (void)conn->Simple("ROLLBACK", pool_.StatementDeadline());
    return s;
  };
  if (transaction) {
    if (auto r = conn->Simple("BEGIN", pool_.StatementDeadline()); !r.ok()) return fail(r.status());
  }
  for (size_t i = 0; i < events.size(); ++i) {
    ApplyResult& result = (*results)[i];
    if (!result.status.ok()) continue;
    const size_t before = touched == nullptr ? 0 : touched->size();
    Result<ApplyOutcome> outcome = ApplyOne(conn, *events[i], touched);
    if (!outcome.ok()) return fail(outcome.status());
    result.outcome = *outcome;
    result.touched = (touched == nullptr ? 0 : touched->size()) - before;
  }
  if (record_pending && touched->size() > touched_before) {
    const std::span<const SliceKey> slices(touched->data() + touched_before,
                                           touched->size() - touched_before);
    const std::string pending = EncodePendingInvalidations(events, *results, slices);
    Params params;
    params.Bytes(pending);
    auto r = conn->Unprepared(pg::kRecordPendingSql, params, pool_.StatementDeadline());
    if (!r.ok()) return fail(r.status());
  }
  if (transaction) {
    if (auto r = conn->Simple("COMMIT", pool_.StatementDeadline()); !r.ok()) {
      return fail(r.status());
    }
  }
  return Status::OK();
}

Result<ApplyOutcome> PostgresOrigin::ApplyOne(Connection* conn, const Event& event,
                                              std::vector<SliceKey>* touched) {
  const bool tombstone = event.op == Op::kDelete;
  const RecordRows next = tombstone ? RecordRows{} : OwnedRows(*event.record);
  const std::string row_id = event.kind == Kind::kTemplate ? "" : event.key.id;

  Params params;
  params.Bytes(event.key.tenant);
  params.Int16(pg::KindCode(event.kind));
  params.Bytes(event.key.id);
  params.Int64(event.version);
  params.Bool(tombstone);
  params.Bytes(event.published_at);
  params.Bytes(event.record_json);
  params.Bytes(row_id);
  params.Bytes(next.page_type);
  params.ByteaArray(next.channels);
  params.ByteaArray(next.scopes);

  auto result = conn->Prepared(pg::kApplyStmt, params, pool_.StatementDeadline());
  if (!result.ok()) return result.status();
  const PGresult* r = result->get();
  if (PQntuples(r) != 1 || PQnfields(r) != 4) {
    return Status::Corruption("origin: apply returned an unexpected shape");
  }
  Cells cells(r);
  bool applied = false;
  if (Status s = cells.Bool(0, 0, &applied); !s.ok()) return s;
  if (!applied) return ApplyOutcome::kStale;
  if (touched != nullptr) {
    if (!cells.IsNull(0, 1)) {  // NULL: the record is new
      RecordRows old;
      if (Status s = cells.Bytes(0, 1, &old.page_type); !s.ok()) return s;
      if (Status s = cells.ByteaArray(0, 2, &old.channels); !s.ok()) return s;
      if (Status s = cells.ByteaArray(0, 3, &old.scopes); !s.ok()) return s;
      AppendSlices(event.key.tenant, old, touched);
    }
    AppendSlices(event.key.tenant, next, touched);
  }
  return ApplyOutcome::kApplied;
}

Result<std::vector<SliceTouch>> PostgresOrigin::PendingInvalidations() {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  auto result = (*lease)->Unprepared(pg::kReadPendingSql, Params(), pool_.StatementDeadline());
  if (!result.ok()) return result.status();
  const PGresult* r = result->get();
  std::vector<SliceTouch> touches;
  if (PQntuples(r) == 0) return touches;
  if (PQntuples(r) != 1 || PQnfields(r) != 1) {
    return Status::Corruption("origin: pending invalidations have an unexpected shape");
  }
  std::string pending;
  if (Status s = Cells(r).Bytes(0, 0, &pending); !s.ok()) return s;
  if (Status s = DecodePendingInvalidations(pending, &touches); !s.ok()) return s;
  return touches;
}

Status PostgresOrigin::ClearPendingInvalidations() {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  auto result = (*lease)->Simple(pg::kClearPendingSql, pool_.StatementDeadline());
  return result.ok() ? Status::OK() : result.status();
}

Status PostgresOrigin::Sync() {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  auto result = (*lease)->Simple(pg::kSyncSql, pool_.StatementDeadline());
  return result.ok() ? Status::OK() : result.status();
}

Result<std::vector<Row>> PostgresOrigin::ReadRows(const char* stmt, const PartitionKey& partition,
                                                  std::string_view scope) {
  Params params;
  params.Bytes(partition.tenant);
  params.Bytes(partition.channel);
  params.Bytes(partition.page_type);
  params.Bytes(scope);
  auto result = Read(stmt, params);
  if (!result.ok()) return result.status();
  const PGresult* r = result->get();
  if (PQnfields(r) != 5) return Status::Corruption("origin: read returned an unexpected shape");
  Cells cells(r);
  std::vector<Row> rows(PQntuples(r));
  for (int i = 0; i < PQntuples(r); ++i) {
    Row& row = rows[i];
    for (Status s :
         {cells.Bytes(i, 0, &row.scope), cells.Kind(i, 1, &row.kind), cells.Bytes(i, 2, &row.id),
          cells.Int64(i, 3, &row.version), cells.Bytes(i, 4, &row.body)}) {
      if (!s.ok()) return s;
    }
  }
  return rows;
}

Result<PgResult> PostgresOrigin::Read(const char* stmt, const Params& params) {
  for (int attempt = 0;; ++attempt) {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.status();
    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline = pool_.StatementDeadline();
    Result<PgResult> result = (*lease)->Prepared(stmt, params, deadline);
    // A lost connection is closed (pg_pool.h); one still open saw an error
    // from the server itself, which a retry would only repeat. A session
    // the server had ended fails at once; one that took half the budget to
    // fail was hung or slow, and waiting as long again helps no one.
    if (result.ok() || attempt > 0 || !lease->reused() || (*lease)->connected() ||
        Clock::now() - start >= (deadline - start) / 2) {
      return result;
    }
  }
}

Result<std::vector<Row>> PostgresOrigin::ReadScope(const PartitionKey& partition,
                                                   std::string_view scope) {
  if (scope.empty()) return std::vector<Row>{};  // "" never has rows (rule 16)
  return ReadRows(pg::kReadScopeStmt, partition, scope);
}

Result<bool> PostgresOrigin::TenantKnown(std::string_view tenant) {
  Params params;
  params.Bytes(tenant);
  auto result = Read(pg::kTenantKnownStmt, params);
  if (!result.ok()) return result.status();
  if (PQntuples(result->get()) != 1) return Status::Corruption("origin: tenant lookup shape");
  bool known = false;
  if (Status s = Cells(result->get()).Bool(0, 0, &known); !s.ok()) return s;
  return known;
}

Status PostgresOrigin::ForEachRecord(const std::function<Status(const StoredRecord&)>& fn) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  Connection* conn = lease->get();
  if (auto begun = conn->Simple(pg::kExportBegin, pool_.StatementDeadline()); !begun.ok()) {
    conn->Close();  // the transaction may be open
    return begun.status();
  }
  const std::string fetch = "FETCH " + std::to_string(kExportBatchRows) + " FROM tempo_export";
  Status status;
  for (bool more = true; more && status.ok();) {
    auto batch = conn->Simple(fetch.c_str(), pool_.StatementDeadline());
    if (!batch.ok()) {
      status = batch.status();
      break;
    }
    const PGresult* r = batch->get();
    if (PQnfields(r) != 7) {
      status = Status::Corruption("origin: record listing has an unexpected shape");
      break;
    }
    Cells cells(r);
    more = PQntuples(r) == kExportBatchRows;
    for (int i = 0; i < PQntuples(r) && status.ok(); ++i) {
      StoredRecord record;
      for (Status s : {cells.Bytes(i, 0, &record.key.tenant), cells.Kind(i, 1, &record.key.kind),
                       cells.Bytes(i, 2, &record.key.id), cells.Int64(i, 3, &record.version),
                       cells.Bool(i, 4, &record.tombstone), cells.Bytes(i, 5, &record.published_at),
                       cells.Bytes(i, 6, &record.record_json)}) {
        if (!s.ok()) {
          status = s;
          break;
        }
      }
      if (status.ok()) status = fn(record);
    }
  }
  // Read-only: ending it either way loses nothing.
  if (!conn->Simple("ROLLBACK", pool_.StatementDeadline()).ok()) conn->Close();
  return status;
}

}  // namespace

Result<std::unique_ptr<Origin>> OpenPostgresOrigin(const std::string& uri,
                                                   const PostgresOptions& options) {
  if (Status s = pg::ValidateOptions(uri, options); !s.ok()) return s;
  // The schema version is checked first (schema_version.h): by the
  // migration, or, for a reader that does not own the schema, on its own.
  if (options.create_schema) {
    if (Status s = MigratePostgres(uri, options); !s.ok()) return s;
  } else if (Status s = pg::CheckSchemaVersion({uri, options, /*prepared=*/{}}); !s.ok()) {
    return s;
  }
  auto origin =
      std::make_unique<PostgresOrigin>(ConnectionConfig{uri, options, pg::PreparedStatements()});
  if (Status s = origin->Check(); !s.ok()) return s;
  if (options.connect_all) {
    if (Status s = origin->ConnectAll(); !s.ok()) return s;
  }
  return std::unique_ptr<Origin>(std::move(origin));
}

}  // namespace tempo::origin
