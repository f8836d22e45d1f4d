// OpenStore: --store argument → Origin.
#include "cli/store_uri.h"

namespace tempo::cli {

Result<std::unique_ptr<origin::Origin>> OpenStore(const std::string& uri) {
  constexpr std::string_view kRocks = "rocksdb://";
  std::string path = uri;
  if (uri.starts_with(kRocks)) {
    path = uri.substr(kRocks.size());
  } else if (uri.find("://") != std::string::npos) {
    return Status::InvalidArgument("unsupported store URI (use a directory or rocksdb:///path): " +
                                   uri);
  }
  if (path.empty()) return Status::InvalidArgument("empty store path");
  return origin::OpenRocksOrigin(path);
}

}  // namespace tempo::cli
