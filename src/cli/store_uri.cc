// OpenStore: --store argument → Origin.
#include "cli/store_uri.h"

namespace tempo::cli {
namespace {

// The directory of a RocksDB store URI.
Result<std::string> RocksPath(const std::string& uri) {
  constexpr std::string_view kRocks = "rocksdb://";
  std::string path = uri;
  if (uri.starts_with(kRocks)) {
    path = uri.substr(kRocks.size());
  } else if (uri.find("://") != std::string::npos) {
    return Status::InvalidArgument("unsupported store URI (use a directory or rocksdb:///path): " +
                                   uri);
  }
  if (path.empty()) return Status::InvalidArgument("empty store path");
  return path;
}

}  // namespace

Result<std::unique_ptr<origin::Origin>> OpenStore(const std::string& uri) {
  auto path = RocksPath(uri);
  if (!path.ok()) return path.status();
  return origin::OpenRocksOrigin(*path);
}

Result<std::unique_ptr<origin::Origin>> OpenStoreForReading(const std::string& uri,
                                                            const std::string& scratch_dir) {
  auto path = RocksPath(uri);
  if (!path.ok()) return path.status();
  return origin::OpenRocksSecondary(*path, scratch_dir);
}

}  // namespace tempo::cli
