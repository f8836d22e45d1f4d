// Tests for ParseRfc3339 (SPEC §11.12).
#include "common/time.h"

#include <gtest/gtest.h>

namespace tempo {
namespace {

TEST(Rfc3339, Rule12_UtcAndFractions) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:01.5Z"), 1'500'000'000);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.000000001Z"), 1);
  EXPECT_EQ(ParseRfc3339("2026-11-22T12:00:00Z"), ParseRfc3339("2026-11-22T07:00:00-05:00"));
  EXPECT_EQ(ParseRfc3339("2026-11-22T12:00:00Z"), ParseRfc3339("2026-11-22T14:00:00+02:00"));
}

TEST(Rfc3339, Rule12_Rejects) {
  for (const char* bad :
       {"yesterday", "2026-11-22t12:00:00Z", "2026-11-22T12:00:00z", "2026-11-22T12:00:00",
        "2026-11-22T12:00:00.Z", "2026-11-22T12:00:00.1234567890Z", "2026-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T12:60:00Z",
        "2026-11-22T12:00:60Z", "2026-11-22T12:00:00+0200", "2026-11-22T12:00:00Z ",
        "2026-11-22 12:00:00Z", ""}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z").has_value());
}

TEST(FormatRfc3339, UtcWithTheFractionItNeeds) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1'000'000), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatRfc3339(951'782'400'000'000'000), "2000-02-29T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(FormatRfc3339(INT64_MIN), "1677-09-21T00:12:43.145224192Z");
  std::string out = "at=";
  AppendRfc3339(1'795'348'800'120'000'000, &out);
  EXPECT_EQ(out, "at=2026-11-22T12:00:00.12Z");
}

TEST(FormatRfc3339, ParsesBackToTheSameInstant) {
  for (UnixNanos at :
       {UnixNanos{0}, UnixNanos{-1}, UnixNanos{1}, UnixNanos{1'795'348'800'123'456'789},
        UnixNanos{7'258'118'400'000'000'000}, UnixNanos{-2'208'988'800'000'000'001}}) {
    const std::string text = FormatRfc3339(at);
    const auto parsed = ParseRfc3339(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(*parsed, at) << text;
  }
}

}  // namespace
}  // namespace tempo
