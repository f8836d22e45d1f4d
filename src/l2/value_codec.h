// The bytes of an L2 value: one slice's rows with a self-describing header.
//
// Layout (format version 1; varints are LEB128, "lp" is varint length + bytes):
//   "TPL2"                      magic, 4 bytes
//   0x01                        format version, 1 byte
//   varint schema               the slice layout version (L2Options::schema)
//   lp ns                       the key namespace
//   lp tenant, lp channel, lp page_type, lp scope   the slice the value is for
//   varint row_count
//   row_count times: kind (1 byte: 0 module, 1 experiment, 2 template),
//                    lp id, varint version (int64 as uint64), lp body
//   XXH3-64 of every byte above, 8 bytes big-endian
// Row scopes are not stored: every row of a slice has the slice's scope.
//
// The identity fields make a value stored under a colliding key, by another
// runtime generation or for another schema decode as Corruption, i.e. a miss.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "origin/origin.h"

namespace tempo::l2 {

constexpr uint8_t kValueFormatVersion = 1;

// Encodes `rows` as the value of `slice`. REQUIRES: every row's scope is
// slice.scope (it is not stored) and schema >= 0.
std::string EncodeSliceValue(std::string_view ns, int schema, const origin::SliceKey& slice,
                             const std::vector<origin::Row>& rows);

// Decodes a value written by EncodeSliceValue for exactly (ns, schema,
// slice). Corruption with the reason for anything else: truncated, bad magic,
// unknown format version, checksum mismatch, another schema, namespace or
// slice, a malformed row, trailing bytes. Safe on arbitrary input.
Result<std::vector<origin::Row>> DecodeSliceValue(std::string_view value, std::string_view ns,
                                                  int schema, const origin::SliceKey& slice);

}  // namespace tempo::l2
