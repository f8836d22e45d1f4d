// Decodes the shared golden event file (SPEC §6, §11.15): every line is
// decoded by the rules alone; the file is known to hold exactly 10 invalid
// events among 929.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <string>
#include <variant>

#include "events/events.h"

namespace tempo::events {
namespace {

constexpr int kGoldenEvents = 929;
constexpr int kGoldenInvalidEvents = 10;

TEST(GoldenData, ExactlyTheInvalidEventsAreRejected) {
  const std::string path = std::string(TEMPO_SHARED_DIR) + "/golden/data.ndjson";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "cannot open " << path;
  std::string line;
  int lines = 0, invalid = 0, deletes = 0;
  while (std::getline(in, line)) {
    ++lines;
    auto event = DecodeEvent(line);
    if (!event.ok()) {
      ++invalid;
      std::cout << "line " << lines << ": " << event.status().message() << "\n";
      continue;
    }
    // What the origin stores must read back with the same rules and key.
    if (event->op == Op::kDelete) {
      ++deletes;
      EXPECT_FALSE(event->record.has_value());
    } else {
      auto stored = DecodeRecord(event->kind, event->record_json);
      ASSERT_TRUE(stored.ok()) << "line " << lines << ": " << stored.status().message();
      EXPECT_EQ(stored->index(), event->record->index()) << "line " << lines;
    }
    auto again = DecodeEvent(
        EncodeEnvelope(event->kind, event->op, event->published_at, event->record_json));
    ASSERT_TRUE(again.ok()) << "line " << lines;
    EXPECT_EQ(again->record_json, event->record_json) << "line " << lines;
    EXPECT_EQ(again->key, event->key) << "line " << lines;
  }
  EXPECT_EQ(lines, kGoldenEvents);
  EXPECT_EQ(invalid, kGoldenInvalidEvents);
  EXPECT_GT(deletes, 0);
}

}  // namespace
}  // namespace tempo::events
