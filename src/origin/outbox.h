// The outbox of origin.h, as every backend derives and stores it: the
// pending invalidations of an applied batch, encoded as one value per store
// (the same bytes in RocksDB and PostgreSQL). Internal to src/origin/.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "events/record.h"
#include "origin/origin.h"

namespace tempo::origin {

// The pending invalidations of one ApplyBatch, encoded: each slice in
// `touched` once, with the highest version of the events that touched it.
// `results` are the batch's, and `touched` holds exactly the slices its
// events appended, in event order (results[i].touched of them for
// events[i]). Format: u8 format, varint count, then per slice the
// length-prefixed tenant, channel, page type and scope and the fixed64
// version, in no particular order (sorting is left to the rare reader).
std::string EncodePendingInvalidations(std::span<const events::Event* const> events,
                                       std::span<const ApplyResult> results,
                                       std::span<const SliceKey> touched);

// Decodes what EncodePendingInvalidations wrote into `*touches`, in SliceKey
// order; Corruption when `in` is not such an encoding.
Status DecodePendingInvalidations(std::string_view in, std::vector<SliceTouch>* touches);

}  // namespace tempo::origin
