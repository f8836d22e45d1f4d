// Export files as a side of a reconciliation (export_file.h).
#include "reconcile/export_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "events/ndjson.h"

namespace tempo::reconcile {
namespace {

// Bytes asked of each read(2): big enough that the system call is noise
// next to decoding the lines it brings.
constexpr size_t kReadChunkBytes = size_t{1} << 20;

constexpr std::string_view kUtf8ByteOrderMark = "\xEF\xBB\xBF";

// Closes a file descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The lines of a file, each at most max_line_bytes, read into one buffer
// that never grows past max_line_bytes + kReadChunkBytes.
class LineReader {
 public:
  LineReader(int fd, size_t max_line_bytes) : fd_(fd), max_line_bytes_(max_line_bytes) {
    buffer_.resize(max_line_bytes + kReadChunkBytes);
  }

  // Sets *line to the next line without its '\n' (valid until the next
  // call). False at the end of the file or on failure (status()).
  bool Next(std::string_view* line) {
    while (true) {
      const char* newline =
          static_cast<const char*>(std::memchr(buffer_.data() + begin_, '\n', end_ - begin_));
      if (newline != nullptr) {
        const size_t length = static_cast<size_t>(newline - (buffer_.data() + begin_));
        return Take(length, length + 1, line);
      }
      if (end_ - begin_ > max_line_bytes_) return TooLong();
      if (eof_) {
        if (begin_ == end_) return false;
        return Take(end_ - begin_, end_ - begin_, line);  // the last line has no '\n'
      }
      if (begin_ > 0) {  // keep the partial line, at the front
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      const size_t want = std::min(kReadChunkBytes, buffer_.size() - end_);
      const ssize_t got = ::read(fd_, buffer_.data() + end_, want);
      if (got < 0) {
        if (errno == EINTR) continue;
        status_ = Status::IOError("read error after line " + std::to_string(line_number_) + ": " +
                                  std::strerror(errno));
        return false;
      }
      if (got == 0) eof_ = true;
      end_ += static_cast<size_t>(got);
    }
  }

  // The number of the line Next returned last, from 1.
  uint64_t line_number() const { return line_number_; }
  const Status& status() const { return status_; }

 private:
  bool Take(size_t length, size_t consumed, std::string_view* line) {
    if (length > max_line_bytes_) return TooLong();
    *line = std::string_view(buffer_.data() + begin_, length);
    begin_ += consumed;
    if (++line_number_ == 1 && line->starts_with(kUtf8ByteOrderMark)) {
      line->remove_prefix(kUtf8ByteOrderMark.size());
    }
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    return true;
  }

  bool TooLong() {
    status_ =
        Status::InvalidArgument("line " + std::to_string(line_number_ + 1) + ": longer than " +
                                std::to_string(max_line_bytes_) + " bytes");
    return false;
  }

  const int fd_;
  const size_t max_line_bytes_;
  std::vector<char> buffer_;
  size_t begin_ = 0;  // the unread bytes are [begin_, end_)
  size_t end_ = 0;
  bool eof_ = false;
  uint64_t line_number_ = 0;
  Status status_;
};

Status ReadExportFile(const std::string& path, const ExportFileOptions& options,
                      const RecordSink& sink) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::IOError("cannot read " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return Status::IOError("cannot read " + path + ": is a directory");
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Status::IOError("cannot read " + path + ": " + std::strerror(errno));
  LineReader reader(fd.get(), options.max_line_bytes);
  origin::StoredRecord record;
  bool has_previous = false;
  std::string_view line;
  while (reader.Next(&line)) {
    if (events::IsBlankLine(line)) continue;
    const auto where = [&reader] { return "line " + std::to_string(reader.line_number()) + ": "; };
    auto event = events::DecodeEvent(line, options.decode);
    if (!event.ok()) return Status::InvalidArgument(where() + event.status().message());
    if (has_previous && CompareRecordKeys(record.key, event->key) >= 0) {
      return Status::InvalidArgument(
          where() + "record " + RecordKeyName(event->key) + " is not after " +
          RecordKeyName(record.key) +
          " on the line before: an export file lists each record once, in record-key order "
          "(tenant, kind, id), as tempo export writes it");
    }
    record.key = std::move(event->key);
    record.version = event->version;
    record.tombstone = event->op == events::Op::kDelete;
    record.published_at = std::move(event->published_at);
    record.record_json = std::move(event->record_json);
    has_previous = true;
    if (Status s = sink(record); !s.ok()) return s;
  }
  return reader.status();
}

}  // namespace

RecordSource ExportFileRecords(std::string path, ExportFileOptions options) {
  return [path = std::move(path), options](const RecordSink& sink) {
    return ReadExportFile(path, options, sink);
  };
}

}  // namespace tempo::reconcile
