// `tempo publish`: validate, key and produce event lines.
#include "sync/publish.h"

#include <string>

#include "events/events.h"
#include "events/ndjson.h"

namespace tempo::sync {
namespace {

std::string LinePrefix(uint64_t line_no) { return "line " + std::to_string(line_no) + ": "; }

}  // namespace

std::string ContentKey(const events::RecordKey& key) {
  std::string out;
  out.reserve(key.tenant.size() + key.id.size() + 12);
  out.append(key.tenant).append("/").append(events::KindName(key.kind)).append("/").append(key.id);
  return out;
}

Result<PublishReport> Publish(std::istream& in, stream::Producer& producer, std::string_view topic,
                              const events::DecodeOptions& decode) {
  PublishReport report;
  events::NdjsonReader reader(in);
  std::string line;
  while (reader.Next(&line)) {
    const uint64_t line_no = reader.line_number();
    if (events::IsBlankLine(line)) continue;
    ++report.lines;
    Result<events::Event> event = events::DecodeEvent(line, decode);
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
  if (Status s = reader.status(); !s.ok()) return Status::IOError("publish: " + s.message());
  if (Status flushed = producer.Flush(kPublishFlushTimeoutMs); !flushed.ok()) return flushed;
  return report;
}

}  // namespace tempo::sync
