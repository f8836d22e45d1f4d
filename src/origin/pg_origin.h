// The PostgreSQL origin (SPEC §7): OpenPostgresOrigin, MigratePostgres.
//
// A networked backend of origin.h selected by a `postgres://` store URI. The
// logical table of §7 is the table `tempo_rows`, PRIMARY KEY (tenant, channel,
// page_type, page_scope, kind, id), hash-partitioned by (tenant, channel,
// page_type); `tempo_records` holds one entry per record key (live or
// tombstone) for the version rule, TenantKnown and `tempo export`. Every
// string is stored as bytea, so any bytes (a JSON "\u0000" decodes to a NUL
// byte) round-trip exactly and ORDER BY is bytewise, as in the RocksDB origin:
// `tempo export` of both stores fed the same events is byte-identical.
//
// Apply is one round trip: a server-side function whose first statement is
// the conditional upsert of the record entry (the version rule of §11.14
// enforced in SQL under the row lock), so concurrent writers on any number of
// connections or processes can never regress a record. ApplyBatch runs one
// such call per event inside one transaction (a round trip per event, one
// commit per batch; with record_pending one more statement writes the
// outbox row of origin.h, table `tempo_outbox`), so a batch is applied whole
// or not at all (when the connection is lost during the COMMIT the outcome is
// unknown and reported as Unavailable; a retry then finds the events stale if
// it had committed, and the outbox says what they touched). Each scope read
// is one prepared statement (one snapshot).
//
// Durability: Apply commits with synchronous_commit=off. A committed write is
// in the server's WAL buffers when Apply returns, so it survives a crash of
// this process (what origin.h promises); Sync() forces the WAL to disk so it
// also survives a crash of the database host. The sync service calls Sync()
// before committing its consumer offsets, so nothing acknowledged is lost,
// while bulk import is not bound by one disk flush per event.
//
// Thread-safe: a small pool of connections, each used by one call at a time.
// Every call is bounded by a client-side deadline (connect and statement
// timeouts below), so a dead or unreachable database yields Unavailable
// instead of a hung request. A broken connection is re-established on its
// next use.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "origin/origin.h"

namespace tempo::origin {

struct PostgresOptions {
  // Connections kept open; calls beyond this many wait for a free one (up to
  // the statement timeout). One per concurrent reader is plenty: a read is a
  // single short statement.
  int pool_size = 4;

  // Bound on establishing one connection (TCP + startup + prepare).
  int connect_timeout_ms = 2000;

  // Bound on one statement: set as the session's statement_timeout, and
  // (plus a small margin for the network) as the client-side deadline, so a
  // server that stops answering cannot hold a request longer than this.
  int statement_timeout_ms = 2000;

  // Create the schema (as MigratePostgres does) when opening. When false and
  // the schema is missing, opening fails with a message naming `tempo migrate`.
  bool create_schema = true;

  // Open every pooled connection when the origin is opened, instead of on
  // first use: for readers on a request path, where a connection set-up
  // (TCP, authentication, prepare) would cost a request its deadline.
  bool connect_all = false;
};

// Opens the origin stored in the PostgreSQL database named by `uri`
// (postgres://USER[:PASSWORD]@HOST:PORT/DB[?params], anything libpq accepts).
// Connects once to check the database and schema; further connections are
// made on demand. The store's schema version is checked first
// (schema_version.h), by the migration when options.create_schema, else on a
// connection of its own. Errors: InvalidArgument for a malformed URI or
// options, or a store whose schema version this release does not read
// ("store schema version N is newer than this tempo supports (M)");
// Unavailable when the server cannot be reached, IOError otherwise.
Result<std::unique_ptr<Origin>> OpenPostgresOrigin(const std::string& uri,
                                                   const PostgresOptions& options = {});

// Creates the origin's tables, partitions, index and function in the database
// named by `uri` if they do not exist yet, and records the schema version
// (schema_version.h) in the same transaction. Idempotent, and safe to run
// from several processes at once. A store of a newer schema version is
// refused (InvalidArgument) before anything in it changes.
Status MigratePostgres(const std::string& uri, const PostgresOptions& options = {});

}  // namespace tempo::origin
