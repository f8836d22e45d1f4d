// OpenStore: --store argument → Origin.
#include "serve/store_uri.h"

#include "origin/pg_origin.h"
#include "origin/rocks_origin.h"

namespace tempo::serve {
namespace {

bool IsPostgres(const std::string& uri) {
  return uri.starts_with("postgres://") || uri.starts_with("postgresql://");
}

// The directory of a RocksDB store URI.
Result<std::string> RocksPath(const std::string& uri) {
  constexpr std::string_view kRocks = "rocksdb://";
  std::string path = uri;
  if (uri.starts_with(kRocks)) {
    path = uri.substr(kRocks.size());
  } else if (uri.find("://") != std::string::npos) {
    return Status::InvalidArgument(
        "unsupported store URI (use a directory, rocksdb:///path or postgres://...): " + uri);
  }
  if (path.empty()) return Status::InvalidArgument("empty store path");
  return path;
}

}  // namespace

Result<std::unique_ptr<origin::Origin>> OpenStore(const std::string& uri) {
  if (IsPostgres(uri)) return origin::OpenPostgresOrigin(uri);
  auto path = RocksPath(uri);
  if (!path.ok()) return path.status();
  return origin::OpenRocksOrigin(*path);
}

Result<std::unique_ptr<origin::Origin>> OpenStoreReadOnly(const std::string& uri) {
  if (IsPostgres(uri)) {
    origin::PostgresOptions pg;
    pg.create_schema = false;  // a reader does not own the schema
    return origin::OpenPostgresOrigin(uri, pg);
  }
  auto path = RocksPath(uri);
  if (!path.ok()) return path.status();
  return origin::OpenRocksReadOnly(*path);
}

Result<std::unique_ptr<origin::Origin>> OpenStoreForReading(const std::string& uri,
                                                            const std::string& scratch_dir,
                                                            const ReadingOptions& options) {
  if (IsPostgres(uri)) {  // every reader sees the latest: nothing to catch up
    origin::PostgresOptions pg;
    pg.pool_size = options.connections;
    pg.statement_timeout_ms = static_cast<int>(options.statement_timeout.count());
    pg.create_schema = false;  // a reader does not own the schema
    pg.connect_all = true;
    return origin::OpenPostgresOrigin(uri, pg);
  }
  auto path = RocksPath(uri);
  if (!path.ok()) return path.status();
  return origin::OpenRocksSecondary(*path, scratch_dir);
}

}  // namespace tempo::serve
