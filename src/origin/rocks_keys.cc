// The RocksDB origin's key layout and value encodings (see rocks_keys.h).
#include "origin/rocks_keys.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "origin/coding.h"
#include "origin/record_rows.h"

namespace tempo::origin::rocks {
namespace {

using events::Event;
using events::Kind;

// Kind names as stored in keys. They equal events::KindName but are part of
// the on-disk format, so they are fixed here; their bytewise order is the
// export order of SPEC §11 ("experiment" < "module" < "template").
constexpr std::string_view kExperimentName = "experiment";
constexpr std::string_view kModuleName = "module";
constexpr std::string_view kTemplateName = "template";

constexpr uint8_t kRecordEntryFormat = 1;
constexpr uint8_t kTombstoneFlag = 0x01;
constexpr uint8_t kJsonInRowsFlag = 0x02;

}  // namespace

std::string_view StoredKindName(Kind kind) {
  switch (kind) {
    case Kind::kExperiment:
      return kExperimentName;
    case Kind::kModule:
      return kModuleName;
    case Kind::kTemplate:
      return kTemplateName;
  }
  return kModuleName;  // unreachable: every enumerator is handled above
}

bool KindFromStoredName(std::string_view name, Kind* kind) {
  if (name == kExperimentName) {
    *kind = Kind::kExperiment;
  } else if (name == kModuleName) {
    *kind = Kind::kModule;
  } else if (name == kTemplateName) {
    *kind = Kind::kTemplate;
  } else {
    return false;
  }
  return true;
}

// ---- keys -----------------------------------------------------------------

std::string PartitionPrefix(std::string_view tenant, std::string_view channel,
                            std::string_view page_type) {
  std::string key(1, kRowTag);
  AppendTupleElement(&key, tenant);
  AppendTupleElement(&key, channel);
  AppendTupleElement(&key, page_type);
  return key;
}

std::string RowKey(std::string_view tenant, std::string_view channel, std::string_view page_type,
                   std::string_view scope, Kind kind, std::string_view id) {
  std::string key = PartitionPrefix(tenant, channel, page_type);
  AppendTupleElement(&key, scope);
  AppendTupleElement(&key, StoredKindName(kind));
  AppendTupleElement(&key, id);
  return key;
}

std::string RecordEntryKey(const events::RecordKey& key) {
  std::string out(1, kRecordTag);
  AppendTupleElement(&out, key.tenant);
  AppendTupleElement(&out, StoredKindName(key.kind));
  AppendTupleElement(&out, key.id);
  return out;
}

std::string TenantCountKey(std::string_view tenant) {
  std::string key(1, kTenantTag);
  AppendTupleElement(&key, tenant);
  return key;
}

std::vector<std::string> OwnedRowKeys(const Event& event) {
  const RecordRows rows = OwnedRows(*event.record);
  const std::string_view id =
      event.kind == Kind::kTemplate ? std::string_view() : std::string_view(event.key.id);
  std::vector<std::string> keys;
  for (const std::string& channel : rows.channels) {
    for (const std::string& scope : rows.scopes) {
      keys.push_back(RowKey(event.key.tenant, channel, rows.page_type, scope, event.kind, id));
    }
  }
  return keys;  // sorted: channels and scopes are, and the tuple encoding keeps order
}

// ---- values ---------------------------------------------------------------

std::string EncodeRecordEntry(const RecordEntry& entry) {
  std::string value;
  value.push_back(static_cast<char>(kRecordEntryFormat));
  AppendFixed64(&value, static_cast<uint64_t>(entry.version));
  const bool json_in_rows = !entry.row_keys.empty();
  value.push_back(static_cast<char>((entry.tombstone ? kTombstoneFlag : 0) |
                                    (json_in_rows ? kJsonInRowsFlag : 0)));
  AppendLengthPrefixed(&value, entry.published_at);
  AppendLengthPrefixed(&value, json_in_rows ? std::string_view() : entry.record_json);
  AppendVarint64(&value, entry.row_keys.size());
  for (const std::string& key : entry.row_keys) AppendLengthPrefixed(&value, key);
  return value;
}

Status DecodeRecordEntry(std::string_view in, RecordEntry* entry) {
  const Status bad = Status::Corruption("origin: malformed record entry");
  if (in.empty() || static_cast<uint8_t>(in[0]) != kRecordEntryFormat) {
    return Status::Corruption("origin: unknown record entry format");
  }
  in.remove_prefix(1);
  uint64_t version = 0;
  if (!ReadFixed64(&in, &version) || in.empty()) return bad;
  uint8_t flags = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  std::string_view published_at, record_json;
  uint64_t row_count = 0;
  if (!ReadLengthPrefixed(&in, &published_at) || !ReadLengthPrefixed(&in, &record_json) ||
      !ReadVarint64(&in, &row_count)) {
    return bad;
  }
  // Each row key takes at least one byte, which bounds the reservation.
  if (row_count > in.size()) return bad;
  entry->version = static_cast<int64_t>(version);
  entry->tombstone = (flags & kTombstoneFlag) != 0;
  entry->json_in_rows = (flags & kJsonInRowsFlag) != 0;
  entry->published_at = published_at;
  entry->record_json = record_json;
  entry->row_keys.clear();
  entry->row_keys.reserve(row_count);
  for (uint64_t i = 0; i < row_count; ++i) {
    std::string_view key;
    if (!ReadLengthPrefixed(&in, &key)) return bad;
    entry->row_keys.emplace_back(key);
  }
  if (!in.empty() || (entry->json_in_rows && entry->row_keys.empty())) return bad;
  return Status::OK();
}

Status DecodeRecordKey(std::string_view in, events::RecordKey* key) {
  const Status bad = Status::Corruption("origin: malformed record key");
  if (in.empty() || in[0] != kRecordTag) return bad;
  in.remove_prefix(1);
  std::string kind_name;
  if (!ReadTupleElement(&in, &key->tenant) || !ReadTupleElement(&in, &kind_name) ||
      !ReadTupleElement(&in, &key->id) || !in.empty() ||
      !KindFromStoredName(kind_name, &key->kind)) {
    return bad;
  }
  return Status::OK();
}

Status SliceOfRowKey(std::string_view key, SliceKey* slice) {
  const Status bad = Status::Corruption("origin: malformed row key");
  if (key.empty() || key[0] != kRowTag) return bad;
  key.remove_prefix(1);
  if (!ReadTupleElement(&key, &slice->partition.tenant) ||
      !ReadTupleElement(&key, &slice->partition.channel) ||
      !ReadTupleElement(&key, &slice->partition.page_type) ||
      !ReadTupleElement(&key, &slice->scope)) {
    return bad;
  }
  return Status::OK();
}

}  // namespace tempo::origin::rocks
