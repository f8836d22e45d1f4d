// libFuzzer target for the event decoder: arbitrary bytes as an NDJSON line
// and as a stored record body. Beyond "no crash", it checks that whatever
// decodes re-encodes to an envelope that decodes to the same record bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "events/events.h"
#include "testing/fuzz_check.h"

using tempo::testing::FuzzCheck;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tempo::events;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto event = DecodeEvent(input);
  if (event.ok()) {
    auto again = DecodeEvent(
        EncodeEnvelope(event->kind, event->op, event->published_at, event->record_json));
    FuzzCheck(again.ok());
    FuzzCheck(again->record_json == event->record_json);
    FuzzCheck(again->key == event->key && again->version == event->version);
    FuzzCheck(event->record.has_value() == (event->op == Op::kUpsert));
    if (event->op == Op::kUpsert) FuzzCheck(DecodeRecord(event->kind, event->record_json).ok());
  }
  for (Kind kind : {Kind::kModule, Kind::kExperiment, Kind::kTemplate}) {
    (void)DecodeRecord(kind, input);
  }
  return 0;
}
