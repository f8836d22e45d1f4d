// Opening an origin store from the --store argument (a directory or a URI).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "origin/origin.h"

namespace tempo::serve {

// A PostgreSQL store URI is handed to libpq as it is, so every libpq URI
// parameter works, among them TLS:
//
//   postgres://tempo@db.internal:5432/tempo?sslmode=verify-full
//       &sslrootcert=/etc/tempo/pg-ca.pem&sslcert=/etc/tempo/pg-client.pem
//       &sslkey=/etc/tempo/pg-client.key
//
// (one line; sslmode=verify-full checks the server's certificate against
// sslrootcert and its name against the host; sslcert/sslkey present a client
// certificate). A password, in the URI or as ?password=, never appears in a
// message of these functions (see RedactStoreUri); libpq also reads
// PGPASSWORD and ~/.pgpass, which keep it off the command line.
//
// Opens "DIR" or "rocksdb:///DIR" as the embedded RocksDB origin, for
// writing (one process at a time), or "postgres://USER@HOST:PORT/DB" as the
// PostgreSQL origin (creating its schema on first use). Other schemes are
// InvalidArgument.
Result<std::unique_ptr<origin::Origin>> OpenStore(const std::string& uri);

// Opens a store to read it once as it is (`tempo export`), changing nothing
// in it: a RocksDB store read-only as of this moment (origin::
// OpenRocksReadOnly: no lock taken, so it works while `tempo import` or
// `tempo sync` writes it, and on a copy this process cannot write); a
// PostgreSQL store without creating its schema. NotFound when a RocksDB path
// is not a store (nothing is created there); Corruption when it is damaged.
Result<std::unique_ptr<origin::Origin>> OpenStoreReadOnly(const std::string& uri);

// How a reading process uses a networked store.
struct ReadingOptions {
  int connections = 4;                                // PostgreSQL connections, opened at once
  std::chrono::milliseconds statement_timeout{2000};  // bound on each statement
};

// Opens a store for a process that only reads it while another one (`tempo
// sync`, `tempo import`) may write it: a RocksDB store as a secondary
// instance keeping its state in `scratch_dir` (see origin::OpenRocksSecondary):
// NotFound when the path is not a store, Corruption when a table file is
// missing, truncated or damaged (refuse to start). A PostgreSQL store must have its schema (`tempo
// migrate`, or any writer, creates it); its connections are all opened here.
Result<std::unique_ptr<origin::Origin>> OpenStoreForReading(const std::string& uri,
                                                            const std::string& scratch_dir,
                                                            const ReadingOptions& options = {});

// `uri` with its secrets replaced by "***", for messages: the password of
// postgres://USER:PASSWORD@HOST..., and the values of the password and
// sslpassword query parameters. Any other URI or path is returned as it is.
std::string RedactStoreUri(const std::string& uri);

}  // namespace tempo::serve
