// Appends batches of records to one topic of the embedded log, safely
// alongside writers in other processes: every batch is written under an
// exclusive flock of the topic's LOCK, after catching up with what others
// appended and repairing a torn tail.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "log/file.h"

namespace tempo::log {

class TopicWriter {
 public:
  // Opens the topic in `topic_dir`, creating the directory and its LOCK
  // file. Touches no segment until the first Append.
  static Result<std::unique_ptr<TopicWriter>> Open(std::string topic_dir, size_t segment_bytes);

  TopicWriter(const TopicWriter&) = delete;
  TopicWriter& operator=(const TopicWriter&) = delete;

  // Appends the unsealed records in `*batch` (made by AppendRecord), sealing
  // them with the next offsets of the topic, and starting a new segment
  // whenever the current one has reached segment_bytes. Waits until
  // `deadline` for the LOCK (then Unavailable). On a write error the
  // records of the failed write are cut off again; those written before it
  // stay. Corruption when the topic's last segment is damaged in the
  // middle: nothing is appended then.
  Status Append(std::string* batch, std::chrono::steady_clock::time_point deadline);

  // Fsyncs the segment written by the last Appends (earlier ones were
  // fsynced when the writer moved on from them).
  Status Sync();

 private:
  TopicWriter(std::string topic_dir, size_t segment_bytes, UniqueFd lock);

  Status Lock(std::chrono::steady_clock::time_point deadline);
  // Under the lock: brings the writer's view of the last segment up to date
  // with the files (appends and rolls by others, a torn tail to cut off,
  // segments deleted by retention).
  Status CatchUp();
  // Under the lock: reads the records of the current segment, now
  // `file_size` bytes long, past size_, counting offsets, and truncates a
  // torn tail.
  Status ScanTail(uint64_t file_size);
  // Makes `base` the current segment (creating it when `create`).
  Status SwitchTo(int64_t base, bool create);
  Status WriteChunk(std::string_view chunk, int64_t first_offset);

  const std::string topic_dir_;
  const size_t segment_bytes_;
  UniqueFd lock_;
  UniqueFd segment_;  // the last segment, open for appending
  int64_t segment_base_ = -1;
  std::string segment_path_;
  uint64_t size_ = 0;        // bytes of whole records in it
  int64_t next_offset_ = 0;  // the next record's offset
  bool unsynced_ = false;    // written since the last fsync
};

}  // namespace tempo::log
