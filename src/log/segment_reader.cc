// Reading a segment as it grows, and judging damage (segment_reader.h).
#include "log/segment_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "log/record.h"

namespace tempo::log {
namespace {

// Reads this big make syscalls negligible: log_bench reads its 1M-event
// backlog at 1.2-1.8M events/s with 1 MiB and with 64 KiB alike (loaded
// 2-core box); 1 MiB holds most records whole.
constexpr size_t kReadChunkBytes = size_t{1} << 20;

}  // namespace

SegmentReader::SegmentReader(std::string path, UniqueFd fd, uint64_t position)
    : path_(std::move(path)), fd_(std::move(fd)), buffer_position_(position) {}

Result<SegmentReader> SegmentReader::Open(std::string path, uint64_t position) {
  auto fd = OpenFile(path, O_RDONLY);
  if (!fd.ok()) return fd.status();
  if (::lseek(fd->get(), static_cast<off_t>(position), SEEK_SET) < 0) {
    return ErrnoStatus("seek", path);
  }
  return SegmentReader(std::move(path), std::move(*fd), position);
}

Status SegmentReader::Rewind() {
  buffer_position_ = position();
  head_ = tail_ = 0;
  if (::lseek(fd_.get(), static_cast<off_t>(buffer_position_), SEEK_SET) < 0) {
    return ErrnoStatus("seek", path_);
  }
  return Status::OK();
}

Result<bool> SegmentReader::Unlinked() const {
  struct stat st;
  if (::fstat(fd_.get(), &st) != 0) return ErrnoStatus("stat", path_);
  return st.st_nlink == 0;
}

Result<bool> SegmentReader::Fill(size_t need) {
  // Move the partial record to the front; it is less than one record.
  if (head_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + head_, tail_ - head_);
    buffer_position_ += head_;
    tail_ -= head_;
    head_ = 0;
  }
  size_t capacity = std::max(need, kReadChunkBytes);
  if (buffer_.size() < capacity) buffer_.resize(capacity);
  for (;;) {
    ssize_t n = ::read(fd_.get(), buffer_.data() + tail_, buffer_.size() - tail_);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path_);
    }
    tail_ += static_cast<size_t>(n);
    return n > 0;
  }
}

Result<SegmentReader::Step> SegmentReader::Next(std::string_view* payload, const char** problem) {
  for (;;) {
    ParsedRecord r = ParseRecord(std::string_view(buffer_.data() + head_, tail_ - head_));
    switch (r.kind) {
      case ParsedRecord::Kind::kRecord:
        *payload = r.payload;
        head_ += r.bytes;
        return Step::kRecord;
      case ParsedRecord::Kind::kBad:
        *problem = r.problem;
        return Step::kBad;
      case ParsedRecord::Kind::kIncomplete:
        break;
    }
    auto got = Fill(r.bytes);
    if (!got.ok()) return got.status();
    if (*got) continue;
    if (head_ == tail_) return Step::kEnd;
    // Keeping the partial bytes would be wrong if a writer replaced them
    // (torn tail repair); reading at most one record again is cheap.
    Status s = Rewind();
    if (!s.ok()) return s;
    return Step::kPartial;
  }
}

Result<Damage> InspectBadRecord(const std::string& path, uint64_t position) {
  auto fd = OpenFile(path, O_RDONLY);
  if (!fd.ok()) return fd.status();
  // The rest of one segment: at most about segment_bytes, read only on damage.
  std::string rest;
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = ::pread(fd->get(), chunk, sizeof chunk, static_cast<off_t>(position + rest.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path);
    }
    if (n == 0) break;
    rest.append(chunk, static_cast<size_t>(n));
  }
  std::string_view bytes = rest;
  if (ParseRecord(bytes).kind == ParsedRecord::Kind::kRecord) return Damage::kGone;
  uint32_t magic_value = kRecordMagic;
  std::string_view magic(reinterpret_cast<const char*>(&magic_value), sizeof magic_value);
  for (size_t at = bytes.find(magic, 1); at != std::string_view::npos;
       at = bytes.find(magic, at + 1)) {
    if (ParseRecord(bytes.substr(at)).kind == ParsedRecord::Kind::kRecord) return Damage::kCorrupt;
  }
  return Damage::kTornTail;
}

Status CorruptionAt(const std::string& path, uint64_t position, std::string_view problem) {
  return Status::Corruption(path + " at byte " + std::to_string(position) + ": " +
                            std::string(problem));
}

}  // namespace tempo::log
