// What every origin backend derives from an event the same way (SPEC §7,
// §11.13-16): whether the event is self-consistent, and which rows a live
// record owns. Internal to src/origin/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "events/record.h"

namespace tempo::origin {

// The scope of type-wide rows.
inline constexpr std::string_view kTypeWideScope = "*";

// Checks that an event is self-consistent before it is written: its kind
// matches its key's, and an upsert's record matches its key, so the record
// entry and the rows agree. InvalidArgument otherwise.
Status CheckEvent(const events::Event& event);

// The rows a live record owns: one per (channel, scope) in one page type.
// Modules serve scope "*" without pageIds, else each pageId except "" and
// "*" (rule 16); experiments and templates serve "*". Channels and scopes are
// sorted and unique.
struct RecordRows {
  std::string page_type;
  std::vector<std::string> channels;
  std::vector<std::string> scopes;
};
RecordRows OwnedRows(const events::Record& record);

}  // namespace tempo::origin
