// Appending to a topic under its LOCK (topic_writer.h).
#include "log/topic_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "log/layout.h"
#include "log/record.h"
#include "log/segment_reader.h"

namespace tempo::log {

TopicWriter::TopicWriter(std::string topic_dir, size_t segment_bytes, UniqueFd lock)
    : topic_dir_(std::move(topic_dir)), segment_bytes_(segment_bytes), lock_(std::move(lock)) {}

Result<std::unique_ptr<TopicWriter>> TopicWriter::Open(std::string topic_dir,
                                                       size_t segment_bytes) {
  Status s = EnsureDir(topic_dir);
  if (!s.ok()) return s;
  auto lock = OpenFile(LockPath(topic_dir), O_RDWR | O_CREAT);
  if (!lock.ok()) return lock.status();
  return std::unique_ptr<TopicWriter>(
      new TopicWriter(std::move(topic_dir), segment_bytes, std::move(*lock)));
}

Status TopicWriter::Lock(std::chrono::steady_clock::time_point deadline) {
  return LockExclusive(lock_.get(), LockPath(topic_dir_), deadline);
}

Status TopicWriter::SwitchTo(int64_t base, bool create) {
  if (unsynced_) {
    if (::fdatasync(segment_.get()) != 0) return ErrnoStatus("fsync", segment_path_);
    unsynced_ = false;
  }
  std::string path = SegmentPath(topic_dir_, base);
  auto fd = OpenFile(path, O_WRONLY | O_APPEND | (create ? O_CREAT | O_EXCL : 0));
  if (!fd.ok()) return fd.status();
  if (create) {
    Status s = SyncDir(topic_dir_);
    if (!s.ok()) return s;
  }
  segment_ = std::move(*fd);
  segment_base_ = base;
  segment_path_ = std::move(path);
  size_ = 0;
  next_offset_ = base;
  return Status::OK();
}

Status TopicWriter::ScanTail(uint64_t file_size) {
  if (file_size == size_) return Status::OK();
  if (file_size < size_) {
    return CorruptionAt(segment_path_, file_size, "segment is shorter than its records");
  }
  auto reader = SegmentReader::Open(segment_path_, size_);
  if (!reader.ok()) return reader.status();
  for (;;) {
    uint64_t position = reader->position();
    std::string_view payload;
    const char* problem = "";
    auto step = reader->Next(&payload, &problem);
    if (!step.ok()) return step.status();
    if (*step == SegmentReader::Step::kRecord) {
      int64_t offset = 0;
      if (!PayloadOffset(payload, &offset) || offset != next_offset_) {
        return CorruptionAt(segment_path_, position,
                            "record has offset " + std::to_string(offset) + ", expected " +
                                std::to_string(next_offset_));
      }
      ++next_offset_;
      size_ = reader->position();
      continue;
    }
    if (*step == SegmentReader::Step::kEnd) return Status::OK();
    if (*step == SegmentReader::Step::kBad) {
      auto damage = InspectBadRecord(segment_path_, position);
      if (!damage.ok()) return damage.status();
      if (*damage == Damage::kCorrupt) {
        return CorruptionAt(segment_path_, position,
                            std::string(problem) + ", and valid records follow");
      }
      if (*damage == Damage::kGone) {
        return Status::Internal(segment_path_ +
                                " changed under its LOCK: a writer that does "
                                "not take the LOCK is appending");
      }
    }
    // We hold the LOCK, so nobody is writing: what ends here was torn by a
    // writer that crashed. Cut it off before appending after it.
    if (::ftruncate(segment_.get(), static_cast<off_t>(size_)) != 0 ||
        ::fdatasync(segment_.get()) != 0) {
      return ErrnoStatus("truncate torn tail of", segment_path_);
    }
    return Status::OK();
  }
}

Status TopicWriter::CatchUp() {
  for (;;) {
    if (!segment_.valid()) {
      auto bases = ListSegments(topic_dir_);
      if (!bases.ok()) return bases.status();
      Status s = bases->empty() ? SwitchTo(0, /*create=*/true) : SwitchTo(bases->back(), false);
      if (!s.ok()) return s;
    }
    struct stat st;
    if (::fstat(segment_.get(), &st) != 0) return ErrnoStatus("stat", segment_path_);
    if (st.st_nlink == 0) {
      // Retention deleted it (log.h: only sealed segments, under this
      // LOCK): others rolled past it since this writer's last append. Its
      // writes were fsynced when they rolled.
      segment_ = UniqueFd();
      unsynced_ = false;
      continue;
    }
    Status s = ScanTail(static_cast<uint64_t>(st.st_size));
    if (!s.ok()) return s;
    // A writer that rolled made the next segment, named by the next offset;
    // others may have rolled again since, so start over from the listing.
    if (segment_base_ == next_offset_ || !SegmentExists(topic_dir_, next_offset_)) {
      return Status::OK();
    }
    s = Sync();
    if (!s.ok()) return s;
    segment_ = UniqueFd();
  }
}

Status TopicWriter::WriteChunk(std::string_view chunk, int64_t first_offset) {
  if (chunk.empty()) return Status::OK();
  Status s = WriteAll(segment_.get(), chunk, segment_path_);
  if (!s.ok()) {
    // Take back a partial write; should that fail too, the next writer's
    // CatchUp cuts it off as a torn tail.
    (void)!::ftruncate(segment_.get(), static_cast<off_t>(size_));
    next_offset_ = first_offset;
    return s;
  }
  size_ += chunk.size();
  unsynced_ = true;
  return Status::OK();
}

Status TopicWriter::Append(std::string* batch, std::chrono::steady_clock::time_point deadline) {
  if (batch->empty()) return Status::OK();
  Status s = Lock(deadline);
  if (!s.ok()) return s;
  ScopedUnlock unlock(lock_.get());

  s = CatchUp();
  if (!s.ok()) return s;
  size_t chunk_start = 0;
  int64_t chunk_first_offset = next_offset_;
  for (size_t at = 0; at < batch->size(); at += RecordBytes(batch->data() + at)) {
    size_t chunk_bytes = at - chunk_start;
    if (size_ + chunk_bytes >= segment_bytes_ && size_ + chunk_bytes > 0) {
      s = WriteChunk(std::string_view(*batch).substr(chunk_start, chunk_bytes), chunk_first_offset);
      if (s.ok()) s = SwitchTo(next_offset_, /*create=*/true);
      if (!s.ok()) return s;
      chunk_start = at;
      chunk_first_offset = next_offset_;
    }
    SealRecord(batch->data() + at, next_offset_++);
  }
  return WriteChunk(std::string_view(*batch).substr(chunk_start), chunk_first_offset);
}

Status TopicWriter::Sync() {
  if (!unsynced_) return Status::OK();
  if (::fdatasync(segment_.get()) != 0) return ErrnoStatus("fsync", segment_path_);
  unsynced_ = false;
  return Status::OK();
}

}  // namespace tempo::log
