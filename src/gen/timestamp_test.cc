// Tests for RFC 3339 formatting: what the generator writes must parse back.
#include "gen/timestamp.h"

#include <gtest/gtest.h>

#include "common/time.h"
#include "gen/rng.h"

namespace tempo::gen {
namespace {

std::string Format(int64_t s, uint32_t nanos, int digits, int offset, bool zulu) {
  std::string out;
  AppendRfc3339(s, nanos, digits, offset, zulu, &out);
  return out;
}

TEST(Timestamp, KnownInstants) {
  EXPECT_EQ(Format(0, 0, 0, 0, true), "1970-01-01T00:00:00Z");
  EXPECT_EQ(Format(0, 0, 0, 0, false), "1970-01-01T00:00:00+00:00");
  EXPECT_EQ(UnixSecondsOf(2026, 11, 22), 1795305600);
  EXPECT_EQ(Format(UnixSecondsOf(2026, 11, 22) + 12 * 3600, 123'000'000, 3, 0, true),
            "2026-11-22T12:00:00.123Z");
  EXPECT_EQ(Format(UnixSecondsOf(2026, 11, 22) + 12 * 3600, 0, 0, 120, true),
            "2026-11-22T14:00:00+02:00");
  EXPECT_EQ(Format(UnixSecondsOf(2026, 11, 22) + 2 * 3600, 0, 0, -330, true),
            "2026-11-21T20:30:00-05:30");
  EXPECT_EQ(Format(UnixSecondsOf(2024, 2, 29), 1, 9, 0, true), "2024-02-29T00:00:00.000000001Z");
  EXPECT_EQ(Format(UnixSecondsOf(1969, 12, 31), 0, 0, 0, true), "1969-12-31T00:00:00Z");
}

TEST(Timestamp, RoundTripsThroughTheParser) {
  Rng rng(7);
  static constexpr int kOffsets[] = {0, 60, -300, 330, -210, 840, -720};
  for (int i = 0; i < 20000; ++i) {
    const int64_t s = rng.Between(-2'000'000'000, 8'000'000'000);
    const auto nanos = static_cast<uint32_t>(rng.Below(1'000'000'000));
    const int offset = rng.Pick(kOffsets);
    const std::string text = Format(s, nanos, 9, offset, rng.Percent(50));
    const auto parsed = ParseRfc3339(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(*parsed, s * 1'000'000'000 + nanos) << text;
  }
}

}  // namespace
}  // namespace tempo::gen
