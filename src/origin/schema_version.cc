// The store schema version check (see schema_version.h).
#include "origin/schema_version.h"

#include <string>

namespace tempo::origin {

Status CheckStoreSchemaVersion(int64_t version, std::string_view store) {
  const std::string prefix = "origin: " + std::string(store) + ": store schema version ";
  if (version < 1) {
    return Status::Corruption(prefix + std::to_string(version) + " is not a valid version");
  }
  if (version > kStoreSchemaVersion) {
    return Status::InvalidArgument(prefix + std::to_string(version) +
                                   " is newer than this tempo supports (" +
                                   std::to_string(kStoreSchemaVersion) + "); upgrade tempo");
  }
  if (version < kOldestStoreSchemaVersion) {
    return Status::InvalidArgument(
        prefix + std::to_string(version) + " is older than this tempo reads (the oldest is " +
        std::to_string(kOldestStoreSchemaVersion) +
        "); open it for writing with the release that last read it first");
  }
  return Status::OK();
}

}  // namespace tempo::origin
