// The store schema version: which layout of the origin's data (rocks_keys.h
// for RocksDB, pg_schema.h for PostgreSQL) a store holds, recorded in the
// store itself, so that a binary never reads or writes a layout it does not
// know (docs/deploy.md, "Upgrading").
//
// The rule, the same for both backends:
//   - A store records the version of the newest tempo that opened it for
//     writing (RocksDB: the key 'v'; PostgreSQL: the table
//     tempo_schema_version). A store with no recorded version was written
//     before versions were recorded (tempo 0.15 and earlier) and holds
//     version 1: the layout those releases wrote, which this one still uses.
//   - Every open, for reading or writing, checks the recorded version first:
//     newer than kStoreSchemaVersion is refused (InvalidArgument naming both
//     versions: upgrade tempo); older than kOldestStoreSchemaVersion too
//     (nothing is that old yet). A RocksDB secondary checks again on each
//     catch-up, as its primary may be a newer tempo by then.
//   - Opening for writing (a RocksDB primary, a PostgreSQL migration, which
//     every writer's open runs) records kStoreSchemaVersion when the store
//     records an older version or none. A reader records nothing.
// Recording version 1 in a store of tempo 0.15 is safe: those releases never
// read the key or the table, so they still open it (a downgrade works). A
// release that changes the layout raises kStoreSchemaVersion and converts
// older stores when it opens them for writing; from then on older releases
// refuse the store, which is why readers (tempo serve) are upgraded before
// the writer (tempo sync).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace tempo::origin {

// The layout this release writes.
inline constexpr int64_t kStoreSchemaVersion = 1;
// The oldest layout this release reads (and converts when it writes).
inline constexpr int64_t kOldestStoreSchemaVersion = 1;
// The version of a store that records none (written by tempo 0.15 or earlier).
inline constexpr int64_t kUnrecordedStoreSchemaVersion = 1;

// OK when this release can open a store that records `version`. `store`
// names the store in the message (never a URI with a password). Otherwise
// InvalidArgument: "origin: <store>: store schema version N is newer than
// this tempo supports (M); upgrade tempo", or the same for one older than it
// reads; Corruption for a version below 1, which no tempo writes.
Status CheckStoreSchemaVersion(int64_t version, std::string_view store);

}  // namespace tempo::origin
