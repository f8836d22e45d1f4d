// Decoding of record objects (SPEC §3, §11.13-16, §11.24) from a document
// that passed CompactJson, with simdjson On-Demand. Internal to tempo_events.
//
// Each record object is read in one forward pass over its fields. Field
// names are compared after unescaping and case-sensitively; unknown fields
// are skipped; null means absent for optional fields. A key given twice is
// read twice and the later value wins (as JSON.parse does), but an invalid
// earlier value still makes the record invalid.
#pragma once

#include <simdjson.h>

#include <cstdint>

#include "common/status.h"
#include "events/field_path.h"
#include "events/record.h"

namespace tempo::events {

// Decodes the record of an upsert of `kind` and sets `*key` and `*version`
// from it. Errors name fields below `path` ("record.zone: ...").
Status DecodeUpsertRecord(Kind kind, simdjson::ondemand::object& object, const FieldPath& path,
                          Record* record, RecordKey* key, int64_t* version);

// Decodes only what a delete needs (rule 13): the key fields and `version`;
// every other field is ignored unread.
Status DecodeDeleteRecord(Kind kind, simdjson::ondemand::object& object, const FieldPath& path,
                          RecordKey* key, int64_t* version);

}  // namespace tempo::events
