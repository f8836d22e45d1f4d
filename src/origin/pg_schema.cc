// The PostgreSQL origin's schema and its migration (see pg_schema.h).
#include "origin/pg_schema.h"

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "origin/pg_codec.h"
#include "origin/pg_origin.h"
#include "origin/pg_pool.h"
#include "origin/schema_version.h"

namespace tempo::origin {
namespace pg {
namespace {

// 16 partitions keep each partition's index shallow up to ~10^8 rows while a
// query that cannot prune (none of ours) still touches few tables.
constexpr int kRowPartitions = 16;

// Serialises concurrent migrations (any constant unique to this schema).
constexpr int64_t kMigrationLockId = 0x74656d706f31;  // "tempo1"

// The start of a migration: its transaction, the lock that serialises
// migrations, and the version table, which MigratePostgres then reads before
// it changes anything else.
std::string BeginMigrationSql() {
  return "BEGIN;\nSELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockId) +
         ");\n"
         "CREATE TABLE IF NOT EXISTS tempo_schema_version (\n"
         "  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),\n"
         "  version bigint NOT NULL);\n";
}

// The rest of a migration, inside its transaction: every table, index and
// function (each created only if missing, the function replaced), then the
// version recorded, then COMMIT.
std::string SchemaSql() {
  std::string sql = R"sql(
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
)sql";
  sql += "INSERT INTO tempo_schema_version (version) VALUES (" +
         std::to_string(kStoreSchemaVersion) +
         ")\n"
         "  ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version\n"
         "  WHERE tempo_schema_version.version < EXCLUDED.version;\n"
         "COMMIT;\n";
  return sql;
}

}  // namespace

std::span<const Statement> PreparedStatements() {
  static const std::vector<Statement> statements = {
      {kApplyStmt,
       "SELECT applied, old_page_type, old_channels, old_scopes "
       "FROM tempo_apply($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
       {kByteaOid, kInt2Oid, kByteaOid, kInt8Oid, kBoolOid, kByteaOid, kByteaOid, kByteaOid,
        kByteaOid, kByteaArrayOid, kByteaArrayOid}},
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

Result<int64_t> ReadSchemaVersion(Connection* conn, Clock::time_point deadline) {
  // Two statements: one naming a missing table would fail to plan.
  auto table = conn->Unprepared("SELECT to_regclass('tempo_schema_version') IS NOT NULL", Params(),
                                deadline);
  if (!table.ok()) return table.status();
  bool exists = false;
  if (PQntuples(table->get()) != 1) return Status::Corruption("origin: schema lookup shape");
  if (Status s = Cells(table->get()).Bool(0, 0, &exists); !s.ok()) return s;
  if (!exists) return kUnrecordedStoreSchemaVersion;
  auto row = conn->Unprepared("SELECT version FROM tempo_schema_version", Params(), deadline);
  if (!row.ok()) return row.status();
  if (PQntuples(row->get()) == 0) return kUnrecordedStoreSchemaVersion;
  if (PQntuples(row->get()) != 1 || PQnfields(row->get()) != 1) {
    return Status::Corruption("origin: schema version has an unexpected shape");
  }
  int64_t version = 0;
  if (Status s = Cells(row->get()).Int64(0, 0, &version); !s.ok()) return s;
  return version;
}

Status CheckSchemaVersion(const ConnectionConfig& config) {
  Connection conn;
  if (Status s = conn.Connect(config); !s.ok()) return s;
  auto version = ReadSchemaVersion(&conn, Clock::now() + config.StatementBudget());
  if (!version.ok()) return version.status();
  return CheckStoreSchemaVersion(*version, "open the PostgreSQL store");
}

}  // namespace pg

Status MigratePostgres(const std::string& uri, const PostgresOptions& options) {
  if (Status s = pg::ValidateOptions(uri, options); !s.ok()) return s;
  pg::Connection conn;
  const pg::ConnectionConfig config{uri, options, /*prepared=*/{}};  // the schema may not exist
  if (Status s = conn.Connect(config); !s.ok()) return s;
  // DDL may wait for the migration lock of a concurrent migrator: allow it
  // the connect budget on top of one statement's.
  const pg::Clock::time_point deadline = pg::Clock::now() + config.StatementBudget() +
                                         std::chrono::milliseconds(options.connect_timeout_ms);
  // A failure below closes the connection (Connection's destructor), which
  // rolls the transaction back: a refused store is left as it was.
  if (auto begun = conn.Simple(pg::BeginMigrationSql().c_str(), deadline); !begun.ok()) {
    return begun.status();
  }
  auto version = pg::ReadSchemaVersion(&conn, deadline);
  if (!version.ok()) return version.status();
  if (Status s = CheckStoreSchemaVersion(*version, "migrate the PostgreSQL store"); !s.ok()) {
    return s;
  }
  auto done = conn.Simple(pg::SchemaSql().c_str(), deadline);
  return done.ok() ? Status::OK() : done.status();
}

}  // namespace tempo::origin
