// The input of the event-reading commands (event_input.h).
#include "cli/event_input.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "events/events.h"

namespace tempo::cli {

void AddMaxRecordBytesOption(CLI::App* cmd, size_t* max_record_bytes) {
  *max_record_bytes = events::DecodeOptions().max_record_bytes;
  cmd->add_option("--max-record-bytes", *max_record_bytes,
                  "Largest record (its compact JSON) accepted; a larger one is invalid "
                  "like any other invalid event")
      ->default_val(*max_record_bytes)
      ->check(CLI::Range(size_t{1}, kMaxRecordBytesCeiling));
}

Status InputFile::Open(const std::string& path) {
  if (path == "-") {
    in_ = &std::cin;
    return Status::OK();
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::IOError("cannot read " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return Status::IOError("cannot read " + path + ": is a directory");
  file_.open(path, std::ios::binary);
  if (!file_) return Status::IOError("cannot read " + path + ": " + std::strerror(errno));
  in_ = &file_;
  return Status::OK();
}

}  // namespace tempo::cli
