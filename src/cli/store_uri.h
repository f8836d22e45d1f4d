// Opening an origin store from the --store argument (a directory or a URI).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "origin/origin.h"

namespace tempo::cli {

// Opens "DIR" or "rocksdb:///DIR" as the embedded RocksDB origin. Other
// schemes are InvalidArgument until their backend exists.
Result<std::unique_ptr<origin::Origin>> OpenStore(const std::string& uri);

}  // namespace tempo::cli
