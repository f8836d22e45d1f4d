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

}  // namespace
}  // namespace tempo
