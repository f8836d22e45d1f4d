// Buffered line output to an ostream: the generator writes hundreds of
// megabytes, so lines are gathered into large blocks before each write.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace tempo::gen {

class LineWriter {
 public:
  explicit LineWriter(std::ostream* out) : out_(out) { buffer_.reserve(kFlushBytes + kSlackBytes); }
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  // The buffer to append the current line to (without its newline).
  std::string* line() { return &buffer_; }

  // Ends the current line; writes the buffer out once it is large.
  void EndLine() {
    buffer_.push_back('\n');
    ++lines_;
    if (buffer_.size() >= kFlushBytes) Flush();
  }

  // Writes out what is buffered. Returns false once the stream has failed.
  bool Flush() {
    if (!buffer_.empty()) {
      out_->write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
      buffer_.clear();
    }
    return out_->good();
  }

  bool ok() const { return out_->good(); }
  // Lines ended so far.
  uint64_t lines() const { return lines_; }

 private:
  // 1 MiB blocks: large enough that write calls cost nothing measurable.
  static constexpr size_t kFlushBytes = size_t{1} << 20;
  static constexpr size_t kSlackBytes = 64 * 1024;  // one more line of any realistic size

  std::ostream* out_;
  std::string buffer_;
  uint64_t lines_ = 0;
};

}  // namespace tempo::gen
