// The input of the commands that read NDJSON events (`tempo import`,
// `tempo publish`, `tempo sync`): the file named on the command line and the
// record size limit.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <fstream>
#include <istream>
#include <string>

#include "common/status.h"

namespace tempo::cli {

// The largest --max-record-bytes accepted (a record is bounded by what one
// message of the stream may carry anyway).
inline constexpr size_t kMaxRecordBytesCeiling = size_t{1} << 30;

// Adds --max-record-bytes to `cmd`, stored in *max_record_bytes, with the
// default of events::DecodeOptions.
void AddMaxRecordBytesOption(CLI::App* cmd, size_t* max_record_bytes);

// A file named on the command line, or stdin for "-".
class InputFile {
 public:
  InputFile() = default;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Opens `path` for reading ("-": stdin). IOError "cannot read PATH:
  // reason" when it does not exist, is a directory or cannot be opened.
  // Commands call it before they open or create anything else, so that a
  // mistyped path leaves nothing behind.
  Status Open(const std::string& path);

  // REQUIRES: Open returned OK.
  std::istream& stream() { return *in_; }

 private:
  std::ifstream file_;
  std::istream* in_ = nullptr;
};

}  // namespace tempo::cli
