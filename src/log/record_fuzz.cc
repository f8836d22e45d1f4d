// libFuzzer target for the record codec: arbitrary bytes as a segment.
// Beyond "no crash", every record that parses and decodes must re-encode to
// the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "log/record.h"
#include "testing/fuzz_check.h"

using tempo::testing::FuzzCheck;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tempo::log;
  std::string_view segment(reinterpret_cast<const char*>(data), size);
  while (!segment.empty()) {
    ParsedRecord r = ParseRecord(segment);
    if (r.kind != ParsedRecord::Kind::kRecord) break;
    FuzzCheck(r.bytes <= segment.size());
    tempo::stream::Message m;
    if (DecodePayload(r.payload, &m).ok()) {
      std::string again;
      AppendRecord(&again, m.key, m.value, m.headers);
      SealRecord(again.data(), m.offset);
      FuzzCheck(again == segment.substr(0, r.bytes));
    }
    segment.remove_prefix(r.bytes);
  }
  return 0;
}
