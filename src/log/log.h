// The embedded log: the event stream (stream/stream.h) kept in files on local
// disk, for `tempo serve --embedded` and `tempo publish --embedded`. Same
// semantics as the Kafka implementation, with one partition (0) per topic.
//
// Layout under the log directory:
//   <dir>/<topic>/<base offset, 20 digits>.log   append-only segments
//   <dir>/<topic>/LOCK                           flock'ed by a writer
//   <dir>/<topic>/groups/<group>.offset          a group's committed offset
// A segment holds the records from its base offset up to the next segment's;
// each record is a 16-byte header (magic and format byte, payload length,
// XXH3-64 checksum) and a payload (offset, key, value, headers); see
// record.h. Offsets of a topic are sequential from 0.
//
// Several producers, in one process or in several, may append to one log:
// each batch is written under an exclusive flock of the topic's LOCK file.
// Consumers take no lock: they read the files as they grow.
//
// Crash safety: Flush fsyncs, so a confirmed message survives a power loss.
// A crash can leave a torn record at the end of a topic. Readers take such a
// tail for a record still being written and wait; the next writer truncates
// it before appending. A bad record followed by valid ones cannot come from
// a crash, and is reported as Corruption (file and byte position), by
// readers and writers alike.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "stream/stream.h"

namespace tempo::log {

struct LogOptions {
  // A segment that has reached this size takes no more records; the next
  // append starts a new segment. Bounds what a reader must skip to find an
  // offset and what a writer scans when it opens a topic.
  size_t segment_bytes = size_t{64} << 20;

  // Consumer: how often Poll looks at the files again while it waits for a
  // first message. Appends come from other processes, so there is nothing
  // to wake it; one look costs two syscalls per topic.
  std::chrono::milliseconds poll_interval{2};
};

// The largest key + value + headers a record may carry (Send fails with
// InvalidArgument above it; a reader takes a larger length for damage).
inline constexpr size_t kMaxMessageBytes = size_t{16} << 20;

// A producer's batch size per topic: the bytes it gathers before it writes
// them out (one write(2) and one LOCK round for all of them).
inline constexpr size_t kAppendBatchBytes = size_t{1} << 20;

// How long a producer waits for another writer's LOCK before it fails the
// batch with Unavailable. A writer holds it for one batch write only.
inline constexpr int kLockWaitMs = 10'000;

// Opens a producer on the log in `dir`, creating the directory when missing
// and a topic's directory on its first Send.
//
// Send encodes the message into a per-topic batch in memory; the batch is
// appended to the topic's segment when it reaches kAppendBatchBytes and at
// Flush. A message becomes visible to consumers when its batch is appended,
// so callers Flush after each logical batch (as they must with Kafka to
// know it was delivered). Flush appends what is pending, fsyncs the
// segments written since the last Flush and returns the first error since
// then; its timeout bounds only the wait for LOCK. Destroying the producer
// appends what is pending without an fsync.
// Send fails with InvalidArgument for a bad topic name (Kafka's rule:
// 1-249 characters of [A-Za-z0-9._-], not "." or "..") or an oversized
// message. Open fails with IOError when `dir` cannot be made a directory.
Result<std::unique_ptr<stream::Producer>> OpenLogProducer(const std::string& dir,
                                                          const LogOptions& options = {});

// Where a group starts reading a topic it has no committed offset for.
enum class StartAt {
  kEarliest,  // from offset 0
  kLatest,    // from the end of the topic when the consumer opens
};

// Opens a consumer of `topics` in the log in `dir`, as member of `group` (a
// name by the topic rule). `dir` must exist: a reader never creates it
// (NotFound "log directory DIR does not exist"; IOError when it is not a
// directory), so a mistyped path is an error, not an empty log; a process
// that also writes opens its producer first. Each topic is read from
// the group's committed offset, else from `start_at`; a topic that does not
// exist yet is read from 0 once it appears.
//
// Poll looks at the files every options.poll_interval until a message is
// there or the timeout passes; it returns Corruption (file and byte
// position) for damaged data, and stays at the damage. Commit writes each
// topic's next offset (highest given + 1) to its offset file atomically and
// durably (temp file, fsync, rename, fsync of the directory); messages of a
// topic this consumer does not read are InvalidArgument. Lag reads the new
// bytes at the end of each topic since its last call; -1 on an error.
// REQUIRES: at most one consumer per group at a time (nothing enforces it;
// two would both read every message).
Result<std::unique_ptr<stream::Consumer>> OpenLogConsumer(const std::string& dir, std::string group,
                                                          std::vector<std::string> topics,
                                                          StartAt start_at,
                                                          const LogOptions& options = {});

// The offset the next message appended to `topic` will get (0 for a topic
// that does not exist). Reads the topic's last segment.
Result<int64_t> EndOffset(const std::string& dir, std::string_view topic);

}  // namespace tempo::log
