// LoadPage: origin rows → decoded records → compiled slices.
#include "api/page_loader.h"

#include <vector>

#include "events/events.h"

namespace tempo::api {

Result<LoadedPage> LoadPage(origin::Origin& origin, const origin::PartitionKey& partition,
                            std::optional<std::string_view> page_id) {
  if (page_id && *page_id == "*") page_id.reset();
  auto rows = origin.ReadPage(partition, page_id);
  if (!rows.ok()) return rows.status();
  std::vector<events::Record> type_records;
  std::vector<events::Record> page_records;
  for (const origin::Row& row : *rows) {
    auto record = events::DecodeRecord(row.kind, row.body);
    if (!record.ok()) continue;
    (row.scope == "*" ? type_records : page_records).push_back(std::move(record).value());
  }
  LoadedPage page;
  page.type_slice = select::CompileSlice("*", type_records);
  if (page_id) page.page_slice = select::CompileSlice(std::string(*page_id), page_records);
  return page;
}

}  // namespace tempo::api
