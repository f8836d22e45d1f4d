// `tempo publish`: validates an NDJSON event file and produces its valid
// lines to the content topic (SPEC §6).
#pragma once

#include <chrono>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "events/events.h"
#include "events/record.h"
#include "stream/stream.h"

namespace tempo::sync {

// At most this many error lines are kept in a PublishReport; `invalid`
// still counts them all.
inline constexpr size_t kMaxReportedPublishErrors = 1000;
// How long Publish waits for the final delivery confirmation.
inline constexpr std::chrono::milliseconds kPublishFlushTimeoutMs{30000};

struct PublishReport {
  uint64_t lines = 0;    // non-blank lines read: sent + invalid
  uint64_t sent = 0;     // valid lines produced (delivered once Publish returns OK)
  uint64_t invalid = 0;  // lines rejected by events::DecodeEvent, not sent
  // "line N: <field>: <reason>" for the first kMaxReportedPublishErrors
  // invalid lines, N counting every line of the input from 1.
  std::vector<std::string> errors;
};

// The message key of an event: "<tenant>/<kind>/<id>", for templates
// "<tenant>/template/<channel>:<pageType>", so every version of one record
// lands in one partition, in order.
std::string ContentKey(const events::RecordKey& key);

// Reads NDJSON from `in` (events::NdjsonReader: a byte-order mark at the
// start is dropped). Blank (whitespace-only) lines are skipped; every other
// line is validated with events::DecodeEvent under `decode` (a record over
// decode.max_record_bytes is invalid), and a valid one is sent to `topic`
// byte for byte (without a trailing '\r') with key ContentKey.
// When the producer's queue is full (Send returns Unavailable) it flushes and
// retries the message once. Waits for delivery of everything at the end.
// Errors: the input cannot be read (IOError), a message cannot be queued, or
// delivery failed (the Flush error); lines before it may have been delivered.
Result<PublishReport> Publish(std::istream& in, stream::Producer& producer, std::string_view topic,
                              const events::DecodeOptions& decode = {});

}  // namespace tempo::sync
