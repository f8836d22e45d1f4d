// Follows one topic of the embedded log across its segments, in offset
// order, while writers append: the read side of consumers, Lag and
// EndOffset.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "log/segment_reader.h"
#include "stream/stream.h"

namespace tempo::log {

class TopicReader {
 public:
  // Reads the topic in `topic_dir` from `start_offset`: records below it are
  // skipped. The directory need not exist yet. When retention deleted the
  // records at the reader's position (before it opened, or while it read a
  // segment), it goes on from the earliest record that remains: the offsets
  // it returns then jump.
  TopicReader(std::string topic_dir, int64_t start_offset);

  // Reads the next record. true: *out holds it (all fields but topic and
  // partition). false: there is none yet (the topic ends here, or in a torn
  // record a writer will repair). Corruption with file and byte position
  // for damage; the reader stays at the damage, so later calls fail again.
  Result<bool> Next(stream::Message* out);

  // Reads past every whole record and returns the offset the next one will
  // get. Cheap when called again: it reads only what was appended since.
  Result<int64_t> SkipToEnd();

 private:
  // Reads the next record at or after start_offset_ without decoding it:
  // *payload views it until the next call, *position is where it starts.
  Result<bool> NextPayload(std::string_view* payload, uint64_t* position);
  // Opens the segment that holds start_offset_; false when there is none.
  Result<bool> OpenFirstSegment();
  // Whether a segment after segment_ exists (lists the directory).
  Result<bool> LaterSegmentExists();
  // When retention deleted segment_: drops it (the next read opens the
  // first segment that remains) and returns true.
  Result<bool> Deleted();

  std::string topic_dir_;
  int64_t start_offset_;  // of the next record to return; moves on with each

  std::optional<SegmentReader> segment_;
  int64_t segment_base_ = 0;
  int64_t expected_offset_ = 0;  // of the next record in segment_
  bool sealed_ = false;          // a later segment exists: segment_ is complete
};

}  // namespace tempo::log
