// Decoding of event envelopes and records (SPEC §3, §6, §11.13-17) with simdjson.
//
// Every function here is safe on arbitrary untrusted bytes: it never throws,
// never aborts, and reports the first violated rule as "<field>: <reason>"
// (for example `record.version: must be an integer in 1..2^63-1`).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "events/record.h"

namespace tempo::events {

// Limits of DecodeEvent on untrusted input.
struct DecodeOptions {
  // The largest `record` object accepted, counted in bytes of its compact
  // JSON (what the origin stores and a page read loads). A larger one is
  // invalid like any other rule breach ("record: ..."), so that one huge
  // module cannot make its page too costly to read. `tempo import`,
  // `publish` and `sync` take it as --max-record-bytes. Default: 1 MiB.
  size_t max_record_bytes = size_t{1} << 20;
};

// Decodes one NDJSON line holding an envelope
//   {"schema":1,"kind":"module|experiment|template","op":"upsert|delete",
//    "publishedAt":"...","record":{...}}
// On failure the Status is InvalidArgument with message "<field>: <reason>",
// where field is a JSON path such as `schema`, `record.channels[2]`.
// Deletes need only the record key fields and `version` (rule 13). A record
// larger than options.max_record_bytes is "record: ..." for both ops.
Result<Event> DecodeEvent(std::string_view line, const DecodeOptions& options = {});

// Decodes a stored record body (the compact "record" object of an upsert) of
// the given kind. Used by readers of the origin; same rules as DecodeEvent.
Result<Record> DecodeRecord(Kind kind, std::string_view record_json);

// Renders an envelope for export: {"schema":1,"kind":K,"op":O,
// "publishedAt":P,"record":R} with R inserted verbatim; publishedAt is
// omitted when empty.
std::string EncodeEnvelope(Kind kind, Op op, std::string_view published_at,
                           std::string_view record_json);

}  // namespace tempo::events
