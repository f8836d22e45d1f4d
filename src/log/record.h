// The on-disk record of the embedded log.
//
//   header (kRecordHeaderBytes, little-endian):
//     magic     4 bytes  "TLG" and the format byte 0x01
//     length    u32      payload bytes, at most kMaxPayloadBytes
//     checksum  u64      XXH3-64 of the payload seeded with its length, so
//                        that a damaged length fails the check too
//   payload:
//     offset    i64
//     key       u32 length + bytes
//     value     u32 length + bytes
//     headers   u32 count, then per header u32 length + name, u32 length + value
//
// A producer encodes a record before it knows its offset (that is decided
// under the topic's LOCK), then seals it: writes the offset, then the
// checksum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "log/log.h"
#include "stream/stream.h"

namespace tempo::log {

inline constexpr size_t kRecordHeaderBytes = 16;
inline constexpr uint32_t kRecordMagic = 0x01474C54;  // "TLG\x01" little-endian
// Offset, three lengths and a header count around the message bytes.
inline constexpr size_t kPayloadOverheadBytes = 8 + 4 + 4 + 4;
// Headers add 8 length bytes each; they count against kMaxMessageBytes too.
inline constexpr size_t kMaxPayloadBytes = kMaxMessageBytes + kPayloadOverheadBytes;

// Appends an unsealed record to `*out`. REQUIRES: the payload fits
// kMaxPayloadBytes (see PayloadBytes).
void AppendRecord(std::string* out, std::string_view key, std::string_view value,
                  const std::vector<stream::Header>& headers);

// The payload size AppendRecord would write.
size_t PayloadBytes(std::string_view key, std::string_view value,
                    const std::vector<stream::Header>& headers);

// Writes `offset` and the checksum into the record that starts at `record`.
// REQUIRES: `record` points at a whole record made by AppendRecord.
void SealRecord(char* record, int64_t offset);

// The total size of the record starting at `record`, from its header.
// REQUIRES: a record made by AppendRecord.
size_t RecordBytes(const char* record);

// What ParseRecord found at the front of a byte range.
struct ParsedRecord {
  enum class Kind {
    kRecord,      // a whole record with a valid checksum
    kIncomplete,  // the bytes end inside the record: `bytes` are needed in all
    kBad,         // wrong magic, impossible length or checksum mismatch
  };
  Kind kind = Kind::kBad;
  size_t bytes = 0;          // kRecord: the record's size; kIncomplete: bytes needed
  std::string_view payload;  // kRecord: a view into the input
  const char* problem = "";  // kBad: what is wrong, for error messages
};
ParsedRecord ParseRecord(std::string_view bytes);

// The offset a checked payload carries; false when the payload is too short.
bool PayloadOffset(std::string_view payload, int64_t* offset);

// Decodes a checked payload into `*out` (all fields but topic and
// partition). Corruption when its fields do not add up.
Status DecodePayload(std::string_view payload, stream::Message* out);

}  // namespace tempo::log
