// Loading the compiled slices of one page from the origin.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "origin/origin.h"
#include "select/slice.h"

namespace tempo::api {

struct LoadedPage {
  std::shared_ptr<const select::PageSlice> type_slice;  // scope "*", never null
  std::shared_ptr<const select::PageSlice> page_slice;  // the pageId's scope, or null
};

// Reads scopes "*" and page_id of a partition in one origin read, decodes
// the rows and compiles one slice per scope. A stored row that no longer
// decodes is skipped (it was valid when written; counted by the caller).
Result<LoadedPage> LoadPage(origin::Origin& origin, const origin::PartitionKey& partition,
                            std::optional<std::string_view> page_id);

}  // namespace tempo::api
