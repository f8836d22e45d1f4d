// `tempo publish`: validate, key and produce event lines.
#include "sync/publish.h"

#include <string>

#include "events/events.h"

namespace tempo::sync {
namespace {

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

std::string LinePrefix(uint64_t line_no) { return "line " + std::to_string(line_no) + ": "; }

}  // namespace

std::string ContentKey(const events::RecordKey& key) {
  std::string out;
  out.reserve(key.tenant.size() + key.id.size() + 12);
  out.append(key.tenant).append("/").append(events::KindName(key.kind)).append("/").append(key.id);
  return out;
}

Result<PublishReport> Publish(std::istream& in, stream::Producer& producer, std::string_view topic) {
  PublishReport report;
  std::string line;
  uint64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (IsBlank(line)) continue;
    if (line.back() == '\r') line.pop_back();
    ++report.lines;
    Result<events::Event> event = events::DecodeEvent(line);
    if (!event.ok()) {
      ++report.invalid;
      if (report.errors.size() < kMaxReportedPublishErrors) {
        report.errors.push_back(LinePrefix(line_no) + event.status().message());
      }
      continue;
    }
    const std::string key = ContentKey(event->key);
    Status sent = producer.Send(topic, key, line);
    if (sent.code() == Status::Code::kUnavailable) {  // queue full: drain it, then once more
      if (Status flushed = producer.Flush(kPublishFlushTimeoutMs); !flushed.ok()) return flushed;
      sent = producer.Send(topic, key, line);
    }
    if (!sent.ok()) {
      return Status::IOError(LinePrefix(line_no) + "cannot queue the message: " + sent.ToString());
    }
    ++report.sent;
  }
  if (in.bad()) return Status::IOError("publish: read error after line " + std::to_string(line_no));
  if (Status flushed = producer.Flush(kPublishFlushTimeoutMs); !flushed.ok()) return flushed;
  return report;
}

}  // namespace tempo::sync
