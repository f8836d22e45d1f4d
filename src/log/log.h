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
// Retention (EnforceRetention below) deletes a topic's oldest sealed
// segments, whole files, once every group has read them; offsets never
// change, so a topic may then start at an offset above 0.
//
// Crash safety: Flush fsyncs, so a confirmed message survives a power loss.
// A crash can leave a torn record at the end of a topic. Readers take such a
// tail for a record still being written and wait; the next writer truncates
// it before appending. A bad record followed by valid ones cannot come from
// a crash, and is reported as Corruption (file and byte position), by
// readers and writers alike.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/logging.h"
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
  // to wake it; one look costs three syscalls per topic.
  std::chrono::milliseconds poll_interval{2};
};

// The segment_bytes that --log-segment-bytes accepts: small segments are for
// tests and tight disks (retention deletes whole segments), large ones cost
// readers a longer skip to an offset.
inline constexpr size_t kMinSegmentBytes = size_t{1} << 10;
inline constexpr size_t kMaxSegmentBytes = size_t{1} << 30;

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
// position) for damaged data, and stays at the damage. A position whose
// records retention deleted (a group that never committed and lagged, or
// one that starts at offset 0 of a trimmed topic) is no error: the consumer
// goes on from the earliest record that remains, as Kafka's
// auto.offset.reset=earliest does, and logs the skipped offsets (warn).
// Commit writes each
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

// What EnforceRetention may delete. Limits apply per topic, as Kafka's
// retention.bytes applies per partition.
struct RetentionOptions {
  // While a topic's segments add up to more than this many bytes, its
  // oldest sealed segment goes. 0: no size limit. Default: 0.
  uint64_t max_bytes = 0;
  // A sealed segment whose last write is older than this goes. Its age is
  // its file's mtime, the time its newest record was appended: the records
  // of a segment expire together, with the newest of them. 0: no age
  // limit. Default: 0.
  std::chrono::seconds max_age{0};
  // Topics whose readers keep no offset (the invalidation topic: every
  // `tempo serve` reads it from its end and never commits). Without any
  // group's offset these are trimmed by size and age alone; any other topic
  // that no group has committed an offset for is kept whole, since a
  // consumer that has not committed yet may still come for it (the DLQ,
  // which a person reads). Default: none.
  std::vector<std::string> uncommitted_topics;
  // How often PeriodicRetention runs a pass. A pass lists each topic's
  // segments and reads its groups' offsets, and takes the topic's LOCK only
  // when it has something to delete; between passes a topic can grow past
  // max_bytes by what is appended in the interval. Default: 1 s.
  std::chrono::milliseconds interval{1000};
};

// True when `options` set a limit (max_bytes or max_age).
bool RetentionEnabled(const RetentionOptions& options);

// What retention deleted.
struct RetentionStats {
  uint64_t deleted_segments = 0;
  uint64_t deleted_bytes = 0;
};

// Deletes, in each topic of the log in `dir`, the oldest segments while the
// topic is over options.max_bytes or the oldest is older than
// options.max_age, stopping at the first segment that is not both:
//  - sealed: never the topic's last segment, the one writers append to;
//  - read by every group: each committed offset in groups/ is at or past
//    the next segment's base offset. A topic without committed offsets is
//    kept whole unless it is one of options.uncommitted_topics.
// Oldest first, so the segments left are always a contiguous run, even
// after a crash in the middle. Deletes under the topic's LOCK (taken only
// when there is something to delete; Unavailable after kLockWaitMs), so
// writers never race it; readers take no lock and go on as OpenLogConsumer
// says. Logs one line per topic it trims (info) and adds to `*stats` (may be
// null). The first error (an unreadable offset file, a LOCK held too long)
// is returned after the other topics were done. A no-op without limits.
Status EnforceRetention(const std::string& dir, const RetentionOptions& options,
                        RetentionStats* stats);

// EnforceRetention at most once per options.interval, for the thread of a
// long-running consumer of the log (the sync loop calls RunIfDue after each
// batch, off any request path), with the totals for /metrics. RunIfDue is
// for one thread; Stats is safe from any.
class PeriodicRetention final {
 public:
  PeriodicRetention(std::string dir, RetentionOptions options);
  PeriodicRetention(const PeriodicRetention&) = delete;
  PeriodicRetention& operator=(const PeriodicRetention&) = delete;

  // Runs a pass when none ran in the last interval (the first call always
  // does). A failed pass is logged (warn, at most once per
  // kFailureLogInterval) and tried again in the next interval: a consumer
  // must not stop for housekeeping.
  void RunIfDue();

  // The totals of all passes so far.
  RetentionStats Stats() const;

 private:
  const std::string dir_;
  const RetentionOptions options_;
  static constexpr std::chrono::minutes kFailureLogInterval{1};

  std::chrono::steady_clock::time_point next_run_{};
  LogLimiter failure_log_{kFailureLogInterval};
  std::atomic<uint64_t> deleted_segments_{0};
  std::atomic<uint64_t> deleted_bytes_{0};
};

}  // namespace tempo::log
