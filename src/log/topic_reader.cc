// Following a topic across segments (topic_reader.h).
#include "log/topic_reader.h"

#include <algorithm>

#include "log/layout.h"
#include "log/record.h"

namespace tempo::log {
namespace {

// Tries of OpenFirstSegment: each retry means a retention pass deleted the
// segment it listed, so a few suffice.
constexpr int kMaxOpenAttempts = 4;

}  // namespace

TopicReader::TopicReader(std::string topic_dir, int64_t start_offset)
    : topic_dir_(std::move(topic_dir)), start_offset_(start_offset) {}

Result<bool> TopicReader::OpenFirstSegment() {
  // Retention may delete the segment chosen before it is opened: then the
  // listing has changed, so look again.
  for (int attempt = 1;; ++attempt) {
    auto bases = ListSegments(topic_dir_);
    if (!bases.ok()) return bases.status();
    if (bases->empty()) return false;
    // The last segment whose base is at or below the start; the first one
    // when the start lies before all of them (retention deleted the
    // segments that held it).
    auto it = std::upper_bound(bases->begin(), bases->end(), start_offset_);
    int64_t base = it == bases->begin() ? *it : *(it - 1);
    auto segment = SegmentReader::Open(SegmentPath(topic_dir_, base), 0);
    if (!segment.ok()) {
      if (attempt < kMaxOpenAttempts && !SegmentExists(topic_dir_, base)) continue;
      return segment.status();
    }
    segment_.emplace(std::move(*segment));
    segment_base_ = base;
    expected_offset_ = base;
    sealed_ = false;
    return true;
  }
}

Result<bool> TopicReader::Deleted() {
  auto unlinked = segment_->Unlinked();
  if (!unlinked.ok() || !*unlinked) return unlinked;
  // Reading on would need the successors that retention deleted with it:
  // start over from the earliest segment that remains.
  segment_.reset();
  return true;
}

Result<bool> TopicReader::LaterSegmentExists() {
  auto bases = ListSegments(topic_dir_);
  if (!bases.ok()) return bases.status();
  return !bases->empty() && bases->back() > segment_base_;
}

Result<bool> TopicReader::NextPayload(std::string_view* payload, uint64_t* position) {
  for (;;) {
    if (!segment_) {
      auto opened = OpenFirstSegment();
      if (!opened.ok() || !*opened) return opened;
    }
    *position = segment_->position();
    const char* problem = "";
    auto step = segment_->Next(payload, &problem);
    if (!step.ok()) return step.status();
    switch (*step) {
      case SegmentReader::Step::kRecord: {
        int64_t offset = 0;
        if (!PayloadOffset(*payload, &offset) || offset != expected_offset_) {
          // Reopen next time, so that the reader stays at the damage.
          Status s = CorruptionAt(segment_->path(), *position,
                                  "record has offset " + std::to_string(offset) + ", expected " +
                                      std::to_string(expected_offset_));
          segment_.reset();
          return s;
        }
        ++expected_offset_;
        if (offset < start_offset_) continue;
        start_offset_ = offset + 1;
        return true;
      }
      case SegmentReader::Step::kEnd:
        if (!sealed_) {
          // A writer starts the next segment, named by the next offset, only
          // after its last write to this one: once it exists, one more read
          // finds everything. An empty segment has no successor (it would
          // have the same name): the file found is this one, still open for
          // its first write.
          // A deleted segment was sealed (retention keeps the last one),
          // though its successor may have gone with it.
          if (expected_offset_ == segment_base_ || !SegmentExists(topic_dir_, expected_offset_)) {
            auto unlinked = segment_->Unlinked();
            if (!unlinked.ok() || !*unlinked) return unlinked;
          }
          sealed_ = true;
          continue;
        }
        {
          auto next = SegmentReader::Open(SegmentPath(topic_dir_, expected_offset_), 0);
          if (!next.ok()) {
            if (SegmentExists(topic_dir_, expected_offset_)) return next.status();
            // Retention deletes the oldest segments first, so a successor
            // can be missing only when this segment was deleted too.
            auto deleted = Deleted();
            if (!deleted.ok()) return deleted.status();
            if (*deleted) continue;
            return CorruptionAt(segment_->path(), *position,
                                "segment ends before offset " + std::to_string(expected_offset_) +
                                    ", but no segment starts there");
          }
          segment_.emplace(std::move(*next));
          segment_base_ = expected_offset_;
          sealed_ = false;
        }
        continue;
      case SegmentReader::Step::kPartial: {
        if (!sealed_) {
          auto later = LaterSegmentExists();
          if (!later.ok() || !*later) return later;
          sealed_ = true;  // read once more, now that the segment is complete
          continue;
        }
        return CorruptionAt(segment_->path(), *position,
                            "incomplete record at the end of a segment that has a successor");
      }
      case SegmentReader::Step::kBad: {
        // Looked at before the damage is: a successor made after a repair
        // guarantees that InspectBadRecord sees the repaired bytes.
        auto later = sealed_ ? Result<bool>(true) : LaterSegmentExists();
        if (!later.ok()) return later;
        bool successor = *later;
        auto damage = InspectBadRecord(segment_->path(), *position);
        if (!damage.ok()) return damage.status();
        if (*damage == Damage::kGone) {
          Status s = segment_->Rewind();
          if (!s.ok()) return s;
          continue;
        }
        if (*damage == Damage::kCorrupt || successor) {
          return CorruptionAt(segment_->path(), *position,
                              std::string(problem) + (*damage == Damage::kCorrupt
                                                          ? ", and valid records follow"
                                                          : ", and a later segment exists"));
        }
        // A torn tail: not written yet, as far as readers know, until a
        // writer cuts it off and appends.
        return false;
      }
    }
  }
}

Result<bool> TopicReader::Next(stream::Message* out) {
  std::string_view payload;
  uint64_t position = 0;
  auto got = NextPayload(&payload, &position);
  if (!got.ok() || !*got) return got;
  Status s = DecodePayload(payload, out);
  if (!s.ok()) {
    Status error = CorruptionAt(segment_->path(), position, s.message());
    // Reopen next time and stop at this record again rather than skip it.
    start_offset_ = expected_offset_ - 1;
    segment_.reset();
    return error;
  }
  return true;
}

Result<int64_t> TopicReader::SkipToEnd() {
  std::string_view payload;
  uint64_t position = 0;
  for (;;) {
    auto got = NextPayload(&payload, &position);
    if (!got.ok()) return got.status();
    if (!*got) return segment_ ? expected_offset_ : 0;
  }
}

}  // namespace tempo::log
