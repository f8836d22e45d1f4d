// The RocksDB origin (SPEC §7): OpenRocksOrigin, OpenRocksSecondary,
// OpenRocksReadOnly.
//
// The embedded backend of origin.h: one directory holds the store, one
// process at a time writes it (the primary), and any number of others read
// it as secondaries (which follow the primary's writes on CatchUp) or
// read-only instances (the store as it was at their open). The key layout is
// in rocks_keys.h; the durability trade-off at the top of rocks_origin.cc.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "origin/origin.h"

namespace tempo::origin {

// Opens (creating if needed) a RocksDB-backed origin in directory `path`.
// One process at a time may open a directory this way (RocksDB's LOCK file).
// It records the store's schema version (schema_version.h) when the store
// records an older one or none.
//
// Every open below checks the store's schema version first, and fails with
// InvalidArgument ("store schema version N is newer than this tempo
// supports (M); upgrade tempo") for one this release does not read; a
// secondary checks again on each CatchUp.
Result<std::unique_ptr<Origin>> OpenRocksOrigin(const std::string& path);

// Opens the RocksDB origin in `path`, written by another process, as a
// read-only secondary instance that keeps its own small state in
// `secondary_dir` (one per process). Any number of secondaries may share one
// primary; each sees the primary's writes after CatchUp(). Apply fails with
// InvalidArgument. NotFound when `path` is not a store (no such directory,
// or one without a CURRENT file); Corruption when a table file the store
// lists is missing, has another size than recorded or cannot be opened
// (a secondary alone would silently show the store as it was before that
// file, often empty).
Result<std::unique_ptr<Origin>> OpenRocksSecondary(const std::string& path,
                                                   const std::string& secondary_dir);

// Opens the RocksDB origin in `path` read-only, as it is at the moment of
// opening (writes of a primary running meanwhile are not seen), changing
// nothing in the directory and taking no lock: it works while another
// process writes the store, and on a copy the process cannot write. Apply
// fails with InvalidArgument; CatchUp does nothing. NotFound when `path` is
// not a store; Corruption when a table file is missing, truncated or damaged.
Result<std::unique_ptr<Origin>> OpenRocksReadOnly(const std::string& path);

}  // namespace tempo::origin
