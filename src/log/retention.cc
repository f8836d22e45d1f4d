// Retention: deleting a topic's oldest sealed segments once every group has
// read them (EnforceRetention and PeriodicRetention in log.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/logging.h"
#include "log/file.h"
#include "log/layout.h"
#include "log/log.h"

namespace tempo::log {
namespace {

struct Segment {
  int64_t base;
  uint64_t bytes;
  std::chrono::system_clock::time_point last_write;
};

// The topic's segments, oldest first. One deleted by another retention
// pass between the listing and its stat is left out.
Result<std::vector<Segment>> StatSegments(const std::string& topic_dir) {
  auto bases = ListSegments(topic_dir);
  if (!bases.ok()) return bases.status();
  std::vector<Segment> segments;
  segments.reserve(bases->size());
  for (int64_t base : *bases) {
    std::string path = SegmentPath(topic_dir, base);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoStatus("stat", path);
    }
    auto mtime =
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
    segments.push_back(
        {base, static_cast<uint64_t>(st.st_size),
         std::chrono::system_clock::time_point(
             std::chrono::duration_cast<std::chrono::system_clock::duration>(mtime))});
  }
  return segments;
}

// The lowest offset committed by a group of the topic: every record below
// it was read by all. -1 when no group has committed.
Result<int64_t> SlowestCommitted(const std::string& topic_dir) {
  auto groups = ListGroups(topic_dir);
  if (!groups.ok()) return groups.status();
  int64_t slowest = -1;
  for (const std::string& group : *groups) {
    auto committed = ReadCommittedOffset(topic_dir, group);
    if (!committed.ok()) return committed.status();
    if (*committed < 0) continue;  // its file went away since the listing
    slowest = slowest < 0 ? *committed : std::min(slowest, *committed);
  }
  return slowest;
}

// How many of `segments`, from the oldest, retention deletes (see
// EnforceRetention in log.h). `readable_below`: every group has read the
// records below this offset.
size_t CountExpired(const std::vector<Segment>& segments, int64_t readable_below,
                    const RetentionOptions& options, std::chrono::system_clock::time_point now) {
  uint64_t total = 0;
  for (const Segment& s : segments) total += s.bytes;
  size_t expired = 0;
  // Never the last segment: writers append to it.
  while (expired + 1 < segments.size()) {
    const Segment& oldest = segments[expired];
    // Every record of a segment is below the next one's base.
    if (segments[expired + 1].base > readable_below) break;
    bool over_size = options.max_bytes > 0 && total > options.max_bytes;
    bool too_old = options.max_age.count() > 0 && now - oldest.last_write > options.max_age;
    if (!over_size && !too_old) break;
    total -= oldest.bytes;
    ++expired;
  }
  return expired;
}

// Which of `segments` retention deletes in the topic: how many, from the
// oldest; 0 for a topic nobody has committed for unless `uncommitted`.
Result<size_t> Expired(const std::string& topic_dir, const std::vector<Segment>& segments,
                       bool uncommitted, const RetentionOptions& options) {
  if (segments.size() < 2) return size_t{0};
  auto slowest = SlowestCommitted(topic_dir);
  if (!slowest.ok()) return slowest.status();
  int64_t readable_below = *slowest;
  if (readable_below < 0) {
    if (!uncommitted) return size_t{0};
    readable_below = INT64_MAX;
  }
  return CountExpired(segments, readable_below, options, std::chrono::system_clock::now());
}

// Applies retention to one topic.
Status TrimTopic(const std::string& dir, const std::string& topic, const RetentionOptions& options,
                 RetentionStats* stats) {
  const std::string topic_dir = TopicDir(dir, topic);
  const bool uncommitted =
      std::find(options.uncommitted_topics.begin(), options.uncommitted_topics.end(), topic) !=
      options.uncommitted_topics.end();
  // A look without the LOCK first: most passes find nothing to delete, and
  // writers should not wait for them.
  auto segments = StatSegments(topic_dir);
  if (!segments.ok()) return segments.status();
  auto expired = Expired(topic_dir, *segments, uncommitted, options);
  if (!expired.ok() || *expired == 0) return expired.status();

  // Again under the LOCK: a writer may have rolled (the last segment is no
  // longer the one seen), another pass may have deleted some.
  auto lock = OpenFile(LockPath(topic_dir), O_RDWR | O_CREAT);
  if (!lock.ok()) return lock.status();
  Status s =
      LockExclusive(lock->get(), LockPath(topic_dir),
                    std::chrono::steady_clock::now() + std::chrono::milliseconds(kLockWaitMs));
  if (!s.ok()) return s;
  ScopedUnlock unlock(lock->get());
  segments = StatSegments(topic_dir);
  if (!segments.ok()) return segments.status();
  expired = Expired(topic_dir, *segments, uncommitted, options);
  if (!expired.ok() || *expired == 0) return expired.status();

  RetentionStats deleted;
  for (size_t i = 0; i < *expired; ++i) {
    // Oldest first: a crash in the middle leaves a contiguous run.
    std::string path = SegmentPath(topic_dir, (*segments)[i].base);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      s = ErrnoStatus("delete", path);
      break;
    }
    ++deleted.deleted_segments;
    deleted.deleted_bytes += (*segments)[i].bytes;
  }
  // Makes the deletions durable: space freed for sure after a power loss.
  if (s.ok()) s = SyncDir(topic_dir);
  if (deleted.deleted_segments > 0) {
    Log(LogLevel::kInfo, "log",
        "retention: topic " + topic + ": deleted " + std::to_string(deleted.deleted_segments) +
            " segments (" + std::to_string(deleted.deleted_bytes) +
            " bytes); the topic now starts at offset " +
            std::to_string((*segments)[deleted.deleted_segments].base));
    if (stats != nullptr) {
      stats->deleted_segments += deleted.deleted_segments;
      stats->deleted_bytes += deleted.deleted_bytes;
    }
  }
  return s;
}

}  // namespace

bool RetentionEnabled(const RetentionOptions& options) {
  return options.max_bytes > 0 || options.max_age.count() > 0;
}

Status EnforceRetention(const std::string& dir, const RetentionOptions& options,
                        RetentionStats* stats) {
  if (!RetentionEnabled(options)) return Status::OK();
  Status s = CheckLogDirExists(dir);
  if (!s.ok()) return s;
  auto topics = ListTopics(dir);
  if (!topics.ok()) return topics.status();
  Status first_error;
  for (const std::string& topic : *topics) {
    s = TrimTopic(dir, topic, options, stats);
    if (!s.ok() && first_error.ok()) first_error = std::move(s);
  }
  return first_error;
}

PeriodicRetention::PeriodicRetention(std::string dir, RetentionOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {}

void PeriodicRetention::RunIfDue() {
  if (!RetentionEnabled(options_)) return;
  auto now = std::chrono::steady_clock::now();
  if (now < next_run_) return;
  next_run_ = now + options_.interval;
  RetentionStats stats;
  Status s = EnforceRetention(dir_, options_, &stats);
  deleted_segments_ += stats.deleted_segments;
  deleted_bytes_ += stats.deleted_bytes;
  if (!s.ok()) {
    failure_log_.Log("log", "retention of " + dir_ + " failed (tried again in " +
                                std::to_string(options_.interval.count()) +
                                " ms): " + s.ToString());
  }
}

RetentionStats PeriodicRetention::Stats() const {
  return RetentionStats{deleted_segments_.load(), deleted_bytes_.load()};
}

}  // namespace tempo::log
