// The PostgreSQL origin (see pg_origin.h): schema, connection pool with
// deadlines, and the Origin implementation.
//
// Schema (created by MigratePostgres; every string is bytea, see pg_origin.h):
//
//   tempo_rows (tenant, channel, page_type, page_scope, kind, id, version,
//       body), PRIMARY KEY (tenant, channel, page_type, page_scope, kind, id),
//       PARTITION BY HASH (tenant, channel, page_type) into kRowPartitions.
//       kind is a smallint whose order is the kind-name order of SPEC §11
//       (experiment 0 < module 1 < template 2), so ORDER BY kind, id is the
//       RocksDB origin's row order.
//   tempo_records (tenant, kind, id) -> version, tombstone, published_at,
//       record_json, and the rows the record owns: every (channel, scope) of
//       row_channels x row_scopes in partition (tenant, channel,
//       row_page_type). Any record's rows are such a product (a module: its
//       channels x its pageIds or "*"; an experiment: channels x "*"; a
//       template: its channel x "*"). prev_* hold the set before the last
//       applied write: PostgreSQL 15's RETURNING sees only new values, and the
//       conditional upsert must name the rows it replaces.
//       A partial index on tenant WHERE NOT tombstone answers TenantKnown.
//   tempo_meta: one row, rewritten by Sync() to force a WAL flush.
//   tempo_outbox: at most one row, the outbox of origin.h (the pending
//       invalidations, encoded as in outbox.h), written by ApplyBatch in the
//       batch's transaction. Its statements are not prepared on every
//       connection like the others: a reader opened without create_schema on
//       a store migrated by an older binary has no such table, and preparing
//       them would fail its every connection. Only writers use it, and
//       opening a writer creates it.
//
// Apply calls tempo_apply(), whose first statement is the conditional upsert
// (INSERT ... ON CONFLICT DO UPDATE ... WHERE version < EXCLUDED.version).
// It locks the record entry, so a racing writer of the same key waits, then
// re-evaluates the rule against the committed winner. Its later statements
// run with fresh snapshots (a VOLATILE function's), so they see the rows of
// whoever held the lock before.
//
// Every network wait goes through poll() with a deadline; libpq's blocking
// calls are not used, so no call outlives its timeout.
#include "origin/pg_origin.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "libpq-fe.h"
#include "origin/outbox.h"
#include "origin/record_rows.h"

namespace tempo::origin {
namespace {

using Clock = std::chrono::steady_clock;
using events::Event;
using events::Kind;
using events::Op;

// 16 partitions keep each partition's index shallow up to ~10^8 rows while a
// query that cannot prune (none of ours) still touches few tables.
constexpr int kRowPartitions = 16;

// Added to statement_timeout for the client-side deadline: the server's own
// timeout should fire first and report a clean error on a live connection.
constexpr int kNetworkMarginMs = 500;

// Rows per FETCH while listing records: bounds memory during export.
constexpr int kExportBatchRows = 1000;

// Serialises concurrent migrations (any constant unique to this schema).
constexpr int64_t kMigrationLockId = 0x74656d706f31;  // "tempo1"

// The scope of type-wide rows; also the pageId that never matches (rule 16).

// Built-in type OIDs (fixed in PostgreSQL's catalog, pg_type.dat).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kByteaArrayOid = 1001;

// Stored kind codes: their order is the kind-name order.
constexpr int16_t kExperimentCode = 0;
constexpr int16_t kModuleCode = 1;
constexpr int16_t kTemplateCode = 2;

int16_t KindCode(Kind kind) {
  switch (kind) {
    case Kind::kExperiment:
      return kExperimentCode;
    case Kind::kModule:
      return kModuleCode;
    case Kind::kTemplate:
      return kTemplateCode;
  }
  return kModuleCode;  // unreachable: every enumerator is handled above
}

bool KindFromCode(int16_t code, Kind* kind) {
  switch (code) {
    case kExperimentCode:
      *kind = Kind::kExperiment;
      return true;
    case kModuleCode:
      *kind = Kind::kModule;
      return true;
    case kTemplateCode:
      *kind = Kind::kTemplate;
      return true;
  }
  return false;
}

// ---- schema -----------------------------------------------------------------

std::string SchemaSql() {
  std::string sql = "BEGIN;\n";
  sql += "SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockId) + ");\n";
  sql += R"sql(
CREATE TABLE IF NOT EXISTS tempo_meta (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  synced_at timestamptz NOT NULL DEFAULT now());
INSERT INTO tempo_meta DEFAULT VALUES ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS tempo_rows (
  tenant bytea NOT NULL,
  channel bytea NOT NULL,
  page_type bytea NOT NULL,
  page_scope bytea NOT NULL,
  kind smallint NOT NULL,
  id bytea NOT NULL,
  version bigint NOT NULL,
  body bytea NOT NULL,
  PRIMARY KEY (tenant, channel, page_type, page_scope, kind, id)
) PARTITION BY HASH (tenant, channel, page_type);
)sql";
  for (int i = 0; i < kRowPartitions; ++i) {
    sql += "CREATE TABLE IF NOT EXISTS tempo_rows_p" + std::to_string(i) +
           " PARTITION OF tempo_rows FOR VALUES WITH (MODULUS " + std::to_string(kRowPartitions) +
           ", REMAINDER " + std::to_string(i) + ");\n";
  }
  sql += R"sql(
CREATE TABLE IF NOT EXISTS tempo_records (
  tenant bytea NOT NULL,
  kind smallint NOT NULL,
  id bytea NOT NULL,
  version bigint NOT NULL,
  tombstone boolean NOT NULL,
  published_at bytea NOT NULL,
  record_json bytea NOT NULL,
  row_page_type bytea NOT NULL,
  row_channels bytea[] NOT NULL,
  row_scopes bytea[] NOT NULL,
  prev_page_type bytea,
  prev_channels bytea[],
  prev_scopes bytea[],
  PRIMARY KEY (tenant, kind, id));
CREATE INDEX IF NOT EXISTS tempo_records_live_tenant ON tempo_records (tenant)
  WHERE NOT tombstone;
CREATE TABLE IF NOT EXISTS tempo_outbox (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  pending bytea NOT NULL);
CREATE OR REPLACE FUNCTION tempo_apply(
    p_tenant bytea, p_kind smallint, p_id bytea, p_version bigint, p_tombstone boolean,
    p_published_at bytea, p_record_json bytea, p_row_id bytea, p_page_type bytea,
    p_channels bytea[], p_scopes bytea[],
    OUT applied boolean, OUT old_page_type bytea, OUT old_channels bytea[],
    OUT old_scopes bytea[])
VOLATILE LANGUAGE plpgsql AS $fn$
DECLARE
  v_channel bytea;
BEGIN
  -- SPEC 11.14: strictly higher wins, against live records and tombstones.
  INSERT INTO tempo_records AS r (tenant, kind, id, version, tombstone, published_at,
      record_json, row_page_type, row_channels, row_scopes)
    VALUES (p_tenant, p_kind, p_id, p_version, p_tombstone, p_published_at, p_record_json,
      p_page_type, p_channels, p_scopes)
  ON CONFLICT (tenant, kind, id) DO UPDATE SET
      version = EXCLUDED.version, tombstone = EXCLUDED.tombstone,
      published_at = EXCLUDED.published_at, record_json = EXCLUDED.record_json,
      row_page_type = EXCLUDED.row_page_type, row_channels = EXCLUDED.row_channels,
      row_scopes = EXCLUDED.row_scopes, prev_page_type = r.row_page_type,
      prev_channels = r.row_channels, prev_scopes = r.row_scopes
    WHERE r.version < EXCLUDED.version
  RETURNING r.prev_page_type, r.prev_channels, r.prev_scopes
    INTO old_page_type, old_channels, old_scopes;
  applied := FOUND;
  IF NOT applied THEN
    RETURN;
  END IF;
  -- One DELETE per channel: with the whole partition key given, each touches
  -- one partition instead of probing all of them.
  IF cardinality(old_scopes) > 0 THEN
    FOREACH v_channel IN ARRAY old_channels LOOP
      DELETE FROM tempo_rows
        WHERE tenant = p_tenant AND channel = v_channel AND page_type = old_page_type
          AND page_scope = ANY (old_scopes) AND kind = p_kind AND id = p_row_id;
    END LOOP;
  END IF;
  INSERT INTO tempo_rows (tenant, channel, page_type, page_scope, kind, id, version, body)
    SELECT p_tenant, c, p_page_type, s, p_kind, p_row_id, p_version, p_record_json
    FROM unnest(p_channels) AS c, unnest(p_scopes) AS s;
END
$fn$;
COMMIT;
)sql";
  return sql;
}

// ---- prepared statements ----------------------------------------------------

struct Statement {
  const char* name;
  const char* sql;
  std::vector<Oid> param_types;
};

constexpr char kApplyStmt[] = "tempo_apply";
constexpr char kReadPageStmt[] = "tempo_read_page";
constexpr char kReadScopeStmt[] = "tempo_read_scope";
constexpr char kTenantKnownStmt[] = "tempo_tenant_known";

const std::vector<Statement>& Statements() {
  static const std::vector<Statement> statements = {
      {kApplyStmt,
       "SELECT applied, old_page_type, old_channels, old_scopes "
       "FROM tempo_apply($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
       {kByteaOid, kInt2Oid, kByteaOid, kInt8Oid, kBoolOid, kByteaOid, kByteaOid, kByteaOid,
        kByteaOid, kByteaArrayOid, kByteaArrayOid}},
      // Scope "*" first, then the page's scope ("*" again when there is none).
      {kReadPageStmt,
       "SELECT page_scope, kind, id, version, body FROM tempo_rows "
       "WHERE tenant = $1 AND channel = $2 AND page_type = $3 "
       "AND page_scope IN ('*'::bytea, $4) "
       "ORDER BY page_scope <> '*'::bytea, kind, id",
       {kByteaOid, kByteaOid, kByteaOid, kByteaOid}},
      {kReadScopeStmt,
       "SELECT page_scope, kind, id, version, body FROM tempo_rows "
       "WHERE tenant = $1 AND channel = $2 AND page_type = $3 AND page_scope = $4 "
       "ORDER BY kind, id",
       {kByteaOid, kByteaOid, kByteaOid, kByteaOid}},
      {kTenantKnownStmt,
       "SELECT EXISTS (SELECT 1 FROM tempo_records WHERE tenant = $1 AND NOT tombstone)",
       {kByteaOid}},
  };
  return statements;
}

// The records in export order, read through a cursor inside one
// REPEATABLE READ transaction (one snapshot however long the export takes).
constexpr char kExportBegin[] =
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
    "DECLARE tempo_export BINARY NO SCROLL CURSOR FOR "
    "SELECT tenant, kind, id, version, tombstone, published_at, record_json "
    "FROM tempo_records ORDER BY tenant, kind, id";

// The outbox (see tempo_outbox above), one statement each.
constexpr char kRecordPendingSql[] =
    "INSERT INTO tempo_outbox (pending) VALUES ($1::bytea) "
    "ON CONFLICT (singleton) DO UPDATE SET pending = EXCLUDED.pending";
constexpr char kReadPendingSql[] = "SELECT pending FROM tempo_outbox";
constexpr char kClearPendingSql[] = "DELETE FROM tempo_outbox";

// A committed write with synchronous_commit on flushes the WAL up to its
// commit record, which covers every earlier asynchronous commit.
constexpr char kSyncSql[] =
    "BEGIN; SET LOCAL synchronous_commit = on; UPDATE tempo_meta SET synced_at = now(); COMMIT";

// ---- binary parameters and results -----------------------------------------

void AppendBigEndian32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t ReadBigEndian(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// Parameters of one statement, all in binary format. Strings are referenced,
// not copied: they must outlive the call.
class Params {
 public:
  void Bytes(std::string_view v) { Add(v.data(), v.size()); }
  void Int16(int16_t v) { Encoded(ToBigEndian(static_cast<uint16_t>(v), 2)); }
  void Int64(int64_t v) { Encoded(ToBigEndian(static_cast<uint64_t>(v), 8)); }
  void Bool(bool v) { Encoded(std::string(1, v ? 1 : 0)); }
  // A one-dimensional bytea[] in array_recv's format.
  void ByteaArray(const std::vector<std::string>& items) {
    std::string out;
    AppendBigEndian32(&out, items.empty() ? 0 : 1);  // dimensions
    AppendBigEndian32(&out, 0);                      // no NULL elements
    AppendBigEndian32(&out, kByteaOid);
    if (!items.empty()) {
      AppendBigEndian32(&out, static_cast<uint32_t>(items.size()));
      AppendBigEndian32(&out, 1);  // lower bound
    }
    for (const std::string& item : items) {
      AppendBigEndian32(&out, static_cast<uint32_t>(item.size()));
      out += item;
    }
    Encoded(std::move(out));
  }

  int count() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  static std::string ToBigEndian(uint64_t v, int bytes) {
    std::string out(bytes, '\0');
    for (int i = bytes - 1; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xFF);
    return out;
  }
  void Encoded(std::string bytes) {
    owned_.push_back(std::move(bytes));  // a deque never moves its elements
    Add(owned_.back().data(), owned_.back().size());
  }
  void Add(const char* data, size_t size) {
    values_.push_back(data);
    lengths_.push_back(static_cast<int>(size));
    formats_.push_back(1);
  }

  std::deque<std::string> owned_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// Typed access to the binary cells of a result; every read checks the wire
// size, so bytes that are not what the schema says become Corruption.
class Cells {
 public:
  explicit Cells(const PGresult* r) : r_(r) {}

  bool IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  Status Bytes(int row, int col, std::string* out) const {
    if (IsNull(row, col)) return Bad();
    out->assign(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
    return Status::OK();
  }
  Status Int64(int row, int col, int64_t* out) const {
    if (IsNull(row, col) || PQgetlength(r_, row, col) != 8) return Bad();
    *out = static_cast<int64_t>(ReadBigEndian(PQgetvalue(r_, row, col), 8));
    return Status::OK();
  }
  Status Int16(int row, int col, int16_t* out) const {
    if (IsNull(row, col) || PQgetlength(r_, row, col) != 2) return Bad();
    *out = static_cast<int16_t>(ReadBigEndian(PQgetvalue(r_, row, col), 2));
    return Status::OK();
  }
  Status Bool(int row, int col, bool* out) const {
    if (IsNull(row, col) || PQgetlength(r_, row, col) != 1) return Bad();
    *out = PQgetvalue(r_, row, col)[0] != 0;
    return Status::OK();
  }
  Status Kind(int row, int col, events::Kind* out) const {
    int16_t code = 0;
    if (Status s = Int16(row, col, &code); !s.ok()) return s;
    if (!KindFromCode(code, out)) return Status::Corruption("origin: unknown stored kind code");
    return Status::OK();
  }
  // A bytea[] of at most one dimension without NULLs.
  Status ByteaArray(int row, int col, std::vector<std::string>* out) const {
    if (IsNull(row, col)) return Bad();
    std::string_view in(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
    auto next32 = [&in](uint32_t* v) {
      if (in.size() < 4) return false;
      *v = static_cast<uint32_t>(ReadBigEndian(in.data(), 4));
      in.remove_prefix(4);
      return true;
    };
    uint32_t dims = 0, has_nulls = 0, elem_type = 0, count = 0, lower_bound = 0;
    if (!next32(&dims) || !next32(&has_nulls) || !next32(&elem_type) || dims > 1 ||
        has_nulls != 0 || elem_type != kByteaOid) {
      return Bad();
    }
    if (dims == 1 && (!next32(&count) || !next32(&lower_bound))) return Bad();
    // Each element takes at least its 4-byte length, which bounds the reservation.
    if (count > in.size() / 4) return Bad();
    out->clear();
    out->reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t size = 0;
      if (!next32(&size) || size > in.size()) return Bad();
      out->emplace_back(in.substr(0, size));
      in.remove_prefix(size);
    }
    return in.empty() ? Status::OK() : Bad();
  }

 private:
  static Status Bad() { return Status::Corruption("origin: stored value has an unexpected form"); }
  const PGresult* r_;
};

// ---- errors -----------------------------------------------------------------

std::string Trimmed(const char* message) {
  std::string out = message == nullptr ? "" : message;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// Maps a failed statement to a Status by its SQLSTATE class.
Status FromSqlState(std::string_view what, const char* sqlstate, const std::string& message) {
  std::string msg = "origin: " + std::string(what) + ": " + message;
  const std::string_view state = sqlstate == nullptr ? "" : sqlstate;
  // 08 connection, 53 resources, 57 operator intervention (incl. statement
  // timeout and shutdown), 40 serialization/deadlock, 55P03 lock timeout:
  // retrying later may succeed.
  for (std::string_view transient : {"08", "53", "57", "40", "55P03"}) {
    if (state.starts_with(transient)) return Status::Unavailable(std::move(msg));
  }
  // Undefined table or function: the schema is missing.
  if (state == "42P01" || state == "42883") {
    return Status::IOError(msg + " (schema missing: run `tempo migrate --store URI`)");
  }
  if (state == "XX001" || state == "XX002") return Status::Corruption(std::move(msg));
  return Status::IOError(std::move(msg));
}

// ---- connections --------------------------------------------------------------

Status ValidateOptions(const std::string& uri, const PostgresOptions& options) {
  if (options.pool_size < 1 || options.connect_timeout_ms < 1 || options.statement_timeout_ms < 1) {
    return Status::InvalidArgument(
        "origin: PostgresOptions need pool_size >= 1 and positive timeouts");
  }
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(uri.c_str(), &error);
  if (parsed == nullptr) {
    std::string why = error != nullptr ? Trimmed(error) : "out of memory";
    PQfreemem(error);
    return Status::InvalidArgument("origin: bad PostgreSQL URI: " + why);
  }
  PQconninfoFree(parsed);
  return Status::OK();
}

struct ConnectionConfig {
  std::string uri;
  PostgresOptions options;
  std::chrono::milliseconds StatementBudget() const {
    return std::chrono::milliseconds(options.statement_timeout_ms + kNetworkMarginMs);
  }
};

// One libpq connection in non-blocking mode. Not thread-safe: the pool lends
// it to one caller at a time. Any failure that leaves the protocol state
// unknown (timeout, lost socket) closes it; the next Ensure() reconnects.
class Connection {
 public:
  Connection() = default;
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects and sets up the session (no prepared statements: the schema
  // may not exist yet). Bounded by the connect timeout.
  Status Connect(const ConnectionConfig& config);
  // Connects and prepares every statement, unless connected and healthy.
  Status Ensure(const ConnectionConfig& config);

  // Runs a prepared statement; results in binary format.
  Result<PgResult> Prepared(const char* name, const Params& params, Clock::time_point deadline);
  // Runs one statement that is not prepared; results in binary format.
  Result<PgResult> Unprepared(const char* sql, const Params& params, Clock::time_point deadline);
  // Runs one or more ';'-separated statements (simple protocol, no parameters).
  Result<PgResult> Simple(const char* sql, Clock::time_point deadline);

  void Close() {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
  }

 private:
  // Waits until the socket is readable (or writable); false on timeout or error.
  bool WaitSocket(bool for_write, Clock::time_point deadline);
  // Flushes the sent command and collects its results (the first error wins,
  // else the last result).
  Result<PgResult> Finish(std::string_view what, Clock::time_point deadline);
  Status Lost(std::string_view what, const std::string& why) {
    std::string message = "origin: " + std::string(what) + ": " + why;
    Close();
    return Status::Unavailable(std::move(message));
  }

  PGconn* conn_ = nullptr;
};

bool Connection::WaitSocket(bool for_write, Clock::time_point deadline) {
  const int fd = PQsocket(conn_);
  if (fd < 0) return false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;  // ready, or an error libpq will report
    if (n < 0 && errno != EINTR) return false;
  }
}

Status Connection::Connect(const ConnectionConfig& config) {
  Close();
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(config.options.connect_timeout_ms);
  // Defaults first: values in the URI (expanded from dbname) override them.
  const char* keywords[] = {"application_name", "dbname", nullptr};
  const char* values[] = {"tempo", config.uri.c_str(), nullptr};
  conn_ = PQconnectStartParams(keywords, values, /*expand_dbname=*/1);
  if (conn_ == nullptr) return Status::Unavailable("origin: connect: out of memory");
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (PQstatus(conn_) != CONNECTION_BAD && state != PGRES_POLLING_OK &&
         state != PGRES_POLLING_FAILED) {
    if (!WaitSocket(state == PGRES_POLLING_WRITING, deadline)) {
      return Lost("connect",
                  "no answer within " + std::to_string(config.options.connect_timeout_ms) + " ms");
    }
    state = PQconnectPoll(conn_);
  }
  if (state != PGRES_POLLING_OK || PQstatus(conn_) != CONNECTION_OK) {
    return Lost("connect", Trimmed(PQerrorMessage(conn_)));
  }
  if (PQsetnonblocking(conn_, 1) != 0) return Lost("connect", Trimmed(PQerrorMessage(conn_)));

  // Session settings: a bounded statement time, asynchronous commit (see
  // "Durability" in pg_origin.h), and no NOTICEs from idempotent DDL on stderr.
  const std::string setup =
      "SET statement_timeout = " + std::to_string(config.options.statement_timeout_ms) +
      "; SET synchronous_commit = off; SET client_min_messages = warning";
  if (auto r = Simple(setup.c_str(), deadline); !r.ok()) return r.status();
  return Status::OK();
}

Status Connection::Ensure(const ConnectionConfig& config) {
  if (conn_ != nullptr) {
    // An idle connection has nothing to read unless the server closed it
    // (restart, idle timeout): notice that now instead of failing a request.
    // One left inside a transaction (a multi-statement query that failed
    // half-way) would fail every later statement: start afresh.
    pollfd p{PQsocket(conn_), POLLIN, 0};
    if (p.fd < 0 || (poll(&p, 1, 0) > 0 && PQconsumeInput(conn_) == 0) ||
        PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) != PQTRANS_IDLE) {
      Close();
    }
  }
  if (conn_ != nullptr) return Status::OK();
  if (Status s = Connect(config); !s.ok()) return s;
  const Clock::time_point deadline = Clock::now() + config.StatementBudget();
  for (const Statement& stmt : Statements()) {
    if (!PQsendPrepare(conn_, stmt.name, stmt.sql, static_cast<int>(stmt.param_types.size()),
                       stmt.param_types.data())) {
      return Lost("prepare", Trimmed(PQerrorMessage(conn_)));
    }
    if (auto r = Finish("prepare", deadline); !r.ok()) {
      Close();  // a half-prepared connection must not be reused
      return r.status();
    }
  }
  return Status::OK();
}

Result<PgResult> Connection::Finish(std::string_view what, Clock::time_point deadline) {
  for (;;) {  // PQflush: 0 sent, 1 more to send, -1 failed
    int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0) return Lost(what, Trimmed(PQerrorMessage(conn_)));
    if (!WaitSocket(/*for_write=*/true, deadline)) return Lost(what, "timed out sending");
  }
  PgResult result, error;
  for (;;) {
    while (PQisBusy(conn_)) {
      if (!WaitSocket(/*for_write=*/false, deadline)) return Lost(what, "timed out");
      if (!PQconsumeInput(conn_)) return Lost(what, Trimmed(PQerrorMessage(conn_)));
    }
    PgResult next(PQgetResult(conn_));
    if (!next) break;
    const ExecStatusType status = PQresultStatus(next.get());
    if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE ||
        status == PGRES_NONFATAL_ERROR) {
      if (!error) error = std::move(next);
    } else {
      result = std::move(next);
    }
  }
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Lost(
        what, error ? Trimmed(PQresultErrorMessage(error.get())) : Trimmed(PQerrorMessage(conn_)));
  }
  if (error) {
    return FromSqlState(what, PQresultErrorField(error.get(), PG_DIAG_SQLSTATE),
                        Trimmed(PQresultErrorMessage(error.get())));
  }
  if (!result) return Status::Internal("origin: " + std::string(what) + ": no result");
  return result;
}

Result<PgResult> Connection::Prepared(const char* name, const Params& params,
                                      Clock::time_point deadline) {
  if (!PQsendQueryPrepared(conn_, name, params.count(), params.values(), params.lengths(),
                           params.formats(), /*resultFormat=*/1)) {
    return Lost(name, Trimmed(PQerrorMessage(conn_)));
  }
  return Finish(name, deadline);
}

Result<PgResult> Connection::Unprepared(const char* sql, const Params& params,
                                        Clock::time_point deadline) {
  if (!PQsendQueryParams(conn_, sql, params.count(), /*paramTypes=*/nullptr, params.values(),
                         params.lengths(), params.formats(), /*resultFormat=*/1)) {
    return Lost("query", Trimmed(PQerrorMessage(conn_)));
  }
  return Finish("query", deadline);
}

Result<PgResult> Connection::Simple(const char* sql, Clock::time_point deadline) {
  if (!PQsendQuery(conn_, sql)) return Lost("query", Trimmed(PQerrorMessage(conn_)));
  return Finish("query", deadline);
}

// A fixed set of connections lent to one caller at a time.
class ConnectionPool {
 public:
  explicit ConnectionPool(ConnectionConfig config) : config_(std::move(config)) {
    for (int i = 0; i < config_.options.pool_size; ++i) {
      free_.push_back(std::make_unique<Connection>());
    }
  }

  // A connection lent until the Lease is destroyed.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (conn_) pool_->Return(std::move(conn_));
    }
    Connection* get() { return conn_.get(); }
    Connection* operator->() { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // Waits (bounded by the statement budget) for a free connection and makes
  // sure it is connected.
  Result<Lease> Acquire() {
    std::unique_ptr<Connection> conn;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!available_.wait_for(lock, config_.StatementBudget(), [&] { return !free_.empty(); })) {
        return Status::Unavailable("origin: every pooled connection stayed busy");
      }
      conn = std::move(free_.back());
      free_.pop_back();
    }
    Lease lease(this, std::move(conn));
    if (Status s = lease->Ensure(config_); !s.ok()) return s;
    return lease;
  }

  Clock::time_point StatementDeadline() const { return Clock::now() + config_.StatementBudget(); }

  // Connects every idle connection now (at open, before any caller waits).
  Status ConnectAll() {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::unique_ptr<Connection>& conn : free_) {
      if (Status s = conn->Ensure(config_); !s.ok()) return s;
    }
    return Status::OK();
  }

 private:
  void Return(std::unique_ptr<Connection> conn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      free_.push_back(std::move(conn));
    }
    available_.notify_one();
  }

  const ConnectionConfig config_;
  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> free_;
};

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
  Result<std::vector<Row>> ReadPage(const PartitionKey& partition,
                                    std::optional<std::string_view> page_id) override;
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
    auto r = conn->Unprepared(kRecordPendingSql, params, pool_.StatementDeadline());
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
  params.Int16(KindCode(event.kind));
  params.Bytes(event.key.id);
  params.Int64(event.version);
  params.Bool(tombstone);
  params.Bytes(event.published_at);
  params.Bytes(event.record_json);
  params.Bytes(row_id);
  params.Bytes(next.page_type);
  params.ByteaArray(next.channels);
  params.ByteaArray(next.scopes);

  auto result = conn->Prepared(kApplyStmt, params, pool_.StatementDeadline());
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
  auto result = (*lease)->Unprepared(kReadPendingSql, Params(), pool_.StatementDeadline());
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
  auto result = (*lease)->Simple(kClearPendingSql, pool_.StatementDeadline());
  return result.ok() ? Status::OK() : result.status();
}

Status PostgresOrigin::Sync() {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  auto result = (*lease)->Simple(kSyncSql, pool_.StatementDeadline());
  return result.ok() ? Status::OK() : result.status();
}

Result<std::vector<Row>> PostgresOrigin::ReadRows(const char* stmt, const PartitionKey& partition,
                                                  std::string_view scope) {
  Params params;
  params.Bytes(partition.tenant);
  params.Bytes(partition.channel);
  params.Bytes(partition.page_type);
  params.Bytes(scope);
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  auto result = (*lease)->Prepared(stmt, params, pool_.StatementDeadline());
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

Result<std::vector<Row>> PostgresOrigin::ReadPage(const PartitionKey& partition,
                                                  std::optional<std::string_view> page_id) {
  // "" never has rows (rule 16) and "*" is the type-wide scope itself.
  const std::string_view scope =
      page_id && !page_id->empty() ? *page_id : std::string_view(kTypeWideScope);
  return ReadRows(kReadPageStmt, partition, scope);
}

Result<std::vector<Row>> PostgresOrigin::ReadScope(const PartitionKey& partition,
                                                   std::string_view scope) {
  if (scope.empty()) return std::vector<Row>{};  // "" never has rows (rule 16)
  return ReadRows(kReadScopeStmt, partition, scope);
}

Result<bool> PostgresOrigin::TenantKnown(std::string_view tenant) {
  Params params;
  params.Bytes(tenant);
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  auto result = (*lease)->Prepared(kTenantKnownStmt, params, pool_.StatementDeadline());
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
  if (auto begun = conn->Simple(kExportBegin, pool_.StatementDeadline()); !begun.ok()) {
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

Status MigratePostgres(const std::string& uri, const PostgresOptions& options) {
  if (Status s = ValidateOptions(uri, options); !s.ok()) return s;
  Connection conn;
  const ConnectionConfig config{uri, options};
  if (Status s = conn.Connect(config); !s.ok()) return s;
  // DDL may wait for the migration lock of a concurrent migrator: allow it
  // the connect budget on top of one statement's.
  auto done =
      conn.Simple(SchemaSql().c_str(), Clock::now() + config.StatementBudget() +
                                           std::chrono::milliseconds(options.connect_timeout_ms));
  return done.ok() ? Status::OK() : done.status();
}

Result<std::unique_ptr<Origin>> OpenPostgresOrigin(const std::string& uri,
                                                   const PostgresOptions& options) {
  if (Status s = ValidateOptions(uri, options); !s.ok()) return s;
  if (options.create_schema) {
    if (Status s = MigratePostgres(uri, options); !s.ok()) return s;
  }
  auto origin = std::make_unique<PostgresOrigin>(ConnectionConfig{uri, options});
  if (Status s = origin->Check(); !s.ok()) return s;
  if (options.connect_all) {
    if (Status s = origin->ConnectAll(); !s.ok()) return s;
  }
  return std::unique_ptr<Origin>(std::move(origin));
}

}  // namespace tempo::origin
