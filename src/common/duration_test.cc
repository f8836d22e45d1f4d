// Tests of ParseDuration and FormatDuration.
#include "common/duration.h"

#include <gtest/gtest.h>

namespace tempo {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(DurationTest, ParsesEachUnit) {
  EXPECT_EQ(ParseDuration("250us").value(), microseconds(250));
  EXPECT_EQ(ParseDuration("500ms").value(), milliseconds(500));
  EXPECT_EQ(ParseDuration("30s").value(), seconds(30));
  EXPECT_EQ(ParseDuration("2m").value(), minutes(2));
  EXPECT_EQ(ParseDuration("1h").value(), hours(1));
  EXPECT_EQ(ParseDuration("0s").value(), seconds(0));
}

TEST(DurationTest, RejectsWhatIsNotANumberAndAUnit) {
  for (const char* bad : {"", "s", "30", "-1s", "1.5s", "30 s", "30sec", "10d", " 1s", "1s "}) {
    const auto d = ParseDuration(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(d.status().message().find(std::string("\"") + bad + "\""), std::string::npos)
        << d.status().message();
  }
  EXPECT_NE(ParseDuration("30").status().message().find("missing unit"), std::string::npos);
  EXPECT_NE(ParseDuration("99999999999999h").status().message().find("too long"),
            std::string::npos);
}

TEST(DurationTest, FormatsTheShortestExactForm) {
  EXPECT_EQ(FormatDuration(seconds(0)), "0s");
  EXPECT_EQ(FormatDuration(minutes(2)), "2m");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(FormatDuration(seconds(30)), "30s");
  EXPECT_EQ(FormatDuration(microseconds(7)), "7us");
  EXPECT_EQ(ParseDuration(FormatDuration(milliseconds(90500))).value(), milliseconds(90500));
}

}  // namespace
}  // namespace tempo
