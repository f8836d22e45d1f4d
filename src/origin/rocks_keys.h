// The RocksDB origin's key layout and value encodings (see rocks_origin.h
// for the store): what each key and value holds, and how to build and
// decode them. Internal to src/origin/.
//
// Every key is a one-byte tag followed by a tuple of strings in the
// order-preserving encoding of coding.h, so bytewise key order is tuple
// order whatever bytes tenants and ids hold ("a" < "a-b"; ids with 0x00 and
// 0xFF bytes sort bytewise), and no element can run into the next one.
//
//   'p' (tenant, channel, page_type, scope, kind name, id)  -> a row:
//       fixed64 version, then the body (the record JSON as published).
//       scope is "*" or a pageId; id is "" for the template. A partition is
//       one contiguous key range and, inside it, each scope is a contiguous
//       range in (kind, id) order, so a scope read is one iterator (one
//       implicit snapshot) seeking once.
//   'r' (tenant, kind name, id)  -> the record entry of one record key (id is
//       "<channel>:<pageType>" for templates, as in events::RecordKey):
//       u8 format, fixed64 version, u8 flags (bit 0: tombstone; bit 1: the
//       record JSON is not here but in each of its rows), length-prefixed
//       publishedAt, length-prefixed record JSON (empty under bit 1), varint
//       count + length-prefixed row keys the record currently owns, so an
//       upsert that moved channels/pages, or a delete, removes exactly the
//       old rows. A record with rows keeps its JSON only there: the entry is
//       read by the version rule on every write, the JSON only by `tempo
//       export`, and a copy fewer is a quarter fewer bytes for the sync to
//       write (WAL, memtable, flushes, compactions). Kind names sort
//       "experiment" < "module" < "template", so a scan of the 'r' range is
//       already `tempo export` order.
//   't' (tenant)  -> fixed64 number of live records of the tenant; absent
//       when zero (TenantKnown, SPEC §11.14/18).
//   'o' (the tag alone)  -> the outbox of origin.h: the pending
//       invalidations of the last batch applied with record_pending, as
//       outbox.h encodes them; absent when none. No scan's prefix covers it.
//   'v' (the tag alone)  -> fixed64 schema version of the store
//       (schema_version.h), written by a primary's open; absent in a store
//       written before versions were recorded (version 1). No scan's prefix
//       covers it, so releases that do not know it never see it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "events/record.h"
#include "origin/origin.h"

namespace tempo::origin::rocks {

inline constexpr char kRowTag = 'p';
inline constexpr char kRecordTag = 'r';
inline constexpr char kTenantTag = 't';
inline constexpr std::string_view kOutboxKey = "o";
inline constexpr std::string_view kSchemaVersionKey = "v";

// The kind name a key stores for `kind` (part of the on-disk format).
std::string_view StoredKindName(events::Kind kind);
// The kind of a stored kind name; false for a name no kind has.
bool KindFromStoredName(std::string_view name, events::Kind* kind);

// The common prefix of every row key of one partition.
std::string PartitionPrefix(std::string_view tenant, std::string_view channel,
                            std::string_view page_type);
// The key of one row.
std::string RowKey(std::string_view tenant, std::string_view channel, std::string_view page_type,
                   std::string_view scope, events::Kind kind, std::string_view id);
// The key of one record key's entry.
std::string RecordEntryKey(const events::RecordKey& key);
// The key of one tenant's live-record count.
std::string TenantCountKey(std::string_view tenant);

// The row keys a live record owns (see OwnedRows in record_rows.h), in key order.
// REQUIRES: event.record is set (an upsert).
std::vector<std::string> OwnedRowKeys(const events::Event& event);

// The decoded value of an 'r' key. The two strings are views into the
// encoded value or the event it is made from, which must outlive the entry:
// applying a batch then copies each body only into the WriteBatch.
struct RecordEntry {
  int64_t version = 0;
  bool tombstone = false;
  bool json_in_rows = false;  // record_json is empty here: read a row
  std::string_view published_at;
  std::string_view record_json;
  std::vector<std::string> row_keys;
};

// The value of an 'r' key. The JSON is left out when the record has rows.
std::string EncodeRecordEntry(const RecordEntry& entry);
// Decodes an 'r' value; `entry`'s strings are views into `in`. Corruption
// when `in` is not one.
Status DecodeRecordEntry(std::string_view in, RecordEntry* entry);
// Decodes an 'r' key into the record key. Corruption when `in` is not one.
Status DecodeRecordKey(std::string_view in, events::RecordKey* key);
// The slice a row key belongs to. Corruption when `key` is not a row key.
Status SliceOfRowKey(std::string_view key, SliceKey* slice);

}  // namespace tempo::origin::rocks
