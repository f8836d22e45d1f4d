// The PostgreSQL origin's schema: the tables, the apply function and its
// migration, and the statements the origin runs against them.
//
// Schema (created by MigratePostgres; every string is bytea, see pg_origin.h):
//
//   tempo_rows (tenant, channel, page_type, page_scope, kind, id, version,
//       body), PRIMARY KEY (tenant, channel, page_type, page_scope, kind, id),
//       PARTITION BY HASH (tenant, channel, page_type) into kRowPartitions.
//       kind is a smallint whose order is the kind-name order of SPEC §11
//       (experiment 0 < module 1 < template 2, see pg_codec.h), so ORDER BY
//       kind, id is the RocksDB origin's row order.
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
//   tempo_schema_version: at most one row, the store's schema version
//       (schema_version.h). MigratePostgres reads it under the migration
//       lock before it changes anything, refuses a newer one, and records
//       kStoreSchemaVersion in the same transaction as the DDL. Stores
//       migrated by tempo 0.15 or earlier have no such table (version 1).
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
// Internal to src/origin/ (see pg_origin.h).
#pragma once

#include <span>

#include "origin/pg_pool.h"

namespace tempo::origin::pg {

// Names of the prepared statements (PreparedStatements()).
//   kApplyStmt(tenant, kind, id, version, tombstone, published_at,
//       record_json, row id, page_type, channels, scopes)
//       -> applied, old_page_type, old_channels, old_scopes
//   kReadScopeStmt(tenant, channel, page_type, scope)
//       -> page_scope, kind, id, version, body in (kind, id) order
//   kTenantKnownStmt(tenant) -> whether a live record of the tenant exists
inline constexpr char kApplyStmt[] = "tempo_apply";
inline constexpr char kReadScopeStmt[] = "tempo_read_scope";
inline constexpr char kTenantKnownStmt[] = "tempo_tenant_known";

// The statements every pooled connection prepares.
std::span<const Statement> PreparedStatements();

// OK when this release can read the store at config.uri: its schema version
// (read on a connection of its own, before any statement is prepared against
// a layout that may not be this release's) passes CheckStoreSchemaVersion.
Status CheckSchemaVersion(const ConnectionConfig& config);

// The schema version the store on `conn` records (tempo_schema_version), or
// kUnrecordedStoreSchemaVersion when it records none (no table, or no row).
Result<int64_t> ReadSchemaVersion(Connection* conn, Clock::time_point deadline);

// The records in export order, read through a cursor named tempo_export
// inside one REPEATABLE READ transaction (one snapshot however long the
// export takes): tenant, kind, id, version, tombstone, published_at,
// record_json.
inline constexpr char kExportBegin[] =
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
    "DECLARE tempo_export BINARY NO SCROLL CURSOR FOR "
    "SELECT tenant, kind, id, version, tombstone, published_at, record_json "
    "FROM tempo_records ORDER BY tenant, kind, id";

// The outbox (see tempo_outbox above), one statement each, not prepared.
inline constexpr char kRecordPendingSql[] =
    "INSERT INTO tempo_outbox (pending) VALUES ($1::bytea) "
    "ON CONFLICT (singleton) DO UPDATE SET pending = EXCLUDED.pending";
inline constexpr char kReadPendingSql[] = "SELECT pending FROM tempo_outbox";
inline constexpr char kClearPendingSql[] = "DELETE FROM tempo_outbox";

// A committed write with synchronous_commit on flushes the WAL up to its
// commit record, which covers every earlier asynchronous commit.
inline constexpr char kSyncSql[] =
    "BEGIN; SET LOCAL synchronous_commit = on; UPDATE tempo_meta SET synced_at = now(); COMMIT";

}  // namespace tempo::origin::pg
