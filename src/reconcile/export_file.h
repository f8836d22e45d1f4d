// An NDJSON export file as one side of a reconciliation: `tempo export`
// output, or a legacy system's dump written in the same envelope format.
#pragma once

#include <cstddef>
#include <string>

#include "events/events.h"
#include "reconcile/record_stream.h"

namespace tempo::reconcile {

struct ExportFileOptions {
  // Limits of the envelope decoder (events.h); a record over its
  // max_record_bytes makes the file invalid. Default: DecodeOptions' own.
  events::DecodeOptions decode;
  // The longest line read: a longer one is an error, so that a file without
  // line ends is never read whole into memory. Default: 8 MiB (a 1 MiB
  // record with generous whitespace and its envelope).
  size_t max_line_bytes = size_t{8} << 20;
};

// The records of the NDJSON file at `path` (or a pipe: it is read once,
// front to back), read line by line: one envelope
// a line (SPEC §6), an upsert for a live record and a delete for a tombstone,
// in record-key order with each key once, as `tempo export` writes them.
// Blank lines are skipped; a UTF-8 byte-order mark and CRLF line ends are
// accepted. The record's content is the envelope's `record` object compacted,
// which is byte for byte what a store holds for it.
// Errors: IOError "cannot read PATH: reason"; InvalidArgument "line N: ..."
// for a line that is too long, is not a valid envelope (the decoder's reason),
// or whose record key is not after the previous line's (the file is not
// sorted, or lists a key twice).
RecordSource ExportFileRecords(std::string path, ExportFileOptions options = {});

}  // namespace tempo::reconcile
