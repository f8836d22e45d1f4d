// Decoding of event envelopes and records (SPEC §3, §6, §11.13-17) with simdjson.
//
// Every function here is safe on arbitrary untrusted bytes: it never throws,
// never aborts, and reports the first violated rule as "<field>: <reason>"
// (for example `record.version: must be an integer in 1..2^63-1`).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "events/record.h"

namespace tempo::events {

// Decodes one NDJSON line holding an envelope
//   {"schema":1,"kind":"module|experiment|template","op":"upsert|delete",
//    "publishedAt":"...","record":{...}}
// On failure the Status is InvalidArgument with message "<field>: <reason>",
// where field is a JSON path such as `schema`, `record.channels[2]`.
// Deletes need only the record key fields and `version` (rule 13).
Result<Event> DecodeEvent(std::string_view line);

// Decodes a stored record body (the compact "record" object of an upsert) of
// the given kind. Used by readers of the origin; same rules as DecodeEvent.
Result<Record> DecodeRecord(Kind kind, std::string_view record_json);

// Renders an envelope for export: {"schema":1,"kind":K,"op":O,
// "publishedAt":P,"record":R} with R inserted verbatim; publishedAt is
// omitted when empty.
std::string EncodeEnvelope(Kind kind, Op op, std::string_view published_at,
                           std::string_view record_json);

}  // namespace tempo::events
