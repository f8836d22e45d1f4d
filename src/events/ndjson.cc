// NDJSON lines (ndjson.h).
#include "events/ndjson.h"

namespace tempo::events {
namespace {

constexpr std::string_view kUtf8ByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

bool NdjsonReader::Next(std::string* line) {
  if (!std::getline(in_, *line)) return false;
  if (++line_number_ == 1 && line->starts_with(kUtf8ByteOrderMark)) {
    line->erase(0, kUtf8ByteOrderMark.size());
  }
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

Status NdjsonReader::status() const {
  if (!in_.bad()) return Status::OK();
  return Status::IOError("read error after line " + std::to_string(line_number_));
}

bool IsBlankLine(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace tempo::events
