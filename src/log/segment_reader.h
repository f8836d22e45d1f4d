// Sequential reading of one segment file while writers may append to it,
// and the judgement of a damaged record: torn tail or corruption.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "log/file.h"

namespace tempo::log {

// Reads the records of one segment in order with large buffered reads (one
// read(2) per kReadChunkBytes, not per record). After the end of the file
// it can be called again to pick up what was appended since. Move-only.
class SegmentReader {
 public:
  // Opens `path` for reading from `position`, which must be a record start.
  static Result<SegmentReader> Open(std::string path, uint64_t position);

  enum class Step {
    kRecord,   // a whole, checked record; its payload is in *payload
    kEnd,      // the file ends at position()
    kPartial,  // the file ends inside the record at position()
    kBad,      // the record at position() is damaged; *problem says how
  };

  // Reads the next record. After kRecord, *payload views the payload until
  // the next call; otherwise position() is unchanged. After kPartial the
  // bytes read are dropped and the next call reads them afresh: a writer
  // may yet complete them, or truncate a torn tail and write others.
  Result<Step> Next(std::string_view* payload, const char** problem);

  // The byte position of the next record.
  uint64_t position() const { return buffer_position_ + head_; }

  // Drops the buffer and reads from position() again (the bytes there have
  // changed: a writer truncated a torn tail and appended).
  Status Rewind();

  // Whether the file was deleted (by retention) since it was opened; what
  // it held can still be read to its end.
  Result<bool> Unlinked() const;

  const std::string& path() const { return path_; }

 private:
  SegmentReader(std::string path, UniqueFd fd, uint64_t position);

  // Reads more of the file after the buffered bytes, keeping the partial
  // record at head_ and making room for `need` bytes from it. false at EOF.
  Result<bool> Fill(size_t need);

  std::string path_;
  UniqueFd fd_;
  std::vector<char> buffer_;
  uint64_t buffer_position_;  // file position of buffer_[0]
  size_t head_ = 0;           // start of the next record in buffer_
  size_t tail_ = 0;           // end of the bytes read
};

// What InspectBadRecord found.
enum class Damage {
  kGone,      // the record now reads fine: a writer replaced a torn tail
  kTornTail,  // nothing valid follows: the end of a crashed write
  kCorrupt,   // a valid record follows: the damage is in the middle
};

// Reads `path` from `position` (where a record was found bad) to its end
// afresh and says which kind of damage it is.
Result<Damage> InspectBadRecord(const std::string& path, uint64_t position);

// Corruption "<path> at byte <position>: <problem>".
Status CorruptionAt(const std::string& path, uint64_t position, std::string_view problem);

}  // namespace tempo::log
