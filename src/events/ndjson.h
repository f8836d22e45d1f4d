// Reading NDJSON input line by line: the event files of `tempo import` and
// `tempo publish`, and the lines `tempo eval` reads on stdin.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tempo::events {

// Reads the lines of an NDJSON stream, one at a time. Drops a UTF-8
// byte-order mark at the start of the stream (Windows editors write one)
// and the '\r' of a CRLF line end, so that the first line of such a file
// decodes like any other. Not thread-safe.
class NdjsonReader {
 public:
  // Reads from `in`, which must outlive the reader.
  explicit NdjsonReader(std::istream& in) : in_(in) {}
  NdjsonReader(const NdjsonReader&) = delete;
  NdjsonReader& operator=(const NdjsonReader&) = delete;

  // Reads the next line, without its line end, into *line. False at the end
  // of the input or when reading failed (status() tells which).
  bool Next(std::string* line);

  // The number of the line Next returned last, counting from 1 (0 before).
  uint64_t line_number() const { return line_number_; }

  // IOError when reading the input failed; OK at its end or before.
  Status status() const;

 private:
  std::istream& in_;
  uint64_t line_number_ = 0;
};

// True when `line` holds nothing but spaces, tabs and '\r': such lines
// between events are skipped, not invalid.
bool IsBlankLine(std::string_view line);

}  // namespace tempo::events
