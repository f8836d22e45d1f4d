// paddedVersionString(), against what the SDK's JavaScript returns.
#include "cond/version.h"

#include <gtest/gtest.h>

#include <string>

namespace tempo::cond {
namespace {

std::string Padded(const Value& v) {
  TextBuffer out;
  AppendPaddedVersion(v, &out);
  return std::string(out.view());
}
std::string Padded(std::string s) { return Padded(Value::String(std::move(s))); }

TEST(CondPaddedVersionTest, ReleasesGetATildePart) {
  EXPECT_EQ(Padded("1.2.3"), "    1-    2-    3-~");
  EXPECT_EQ(Padded("1-2-3"), "    1-    2-    3-~");
  EXPECT_EQ(Padded("v1.2.3+build"), "    1-    2-    3-~");
  EXPECT_EQ(Padded("1.0.0-rc.1"), "    1-    0-    0-rc-    1");
  EXPECT_EQ(Padded("1.2.3.4"), "    1-    2-    3-    4");
  EXPECT_EQ(Padded("v1.2"), "    1-    2");
}

TEST(CondPaddedVersionTest, LongAndOddParts) {
  EXPECT_EQ(Padded("123456.2.3"), "123456-    2-    3-~");
  EXPECT_EQ(Padded("10000.0.0"), "10000-    0-    0-~");
  EXPECT_EQ(Padded("1..2"), "    1--    2-~");
  EXPECT_EQ(Padded("a.b.c.d.e.f"), "a-b-c-d-e-f");
  EXPECT_EQ(Padded("v"), "");
  EXPECT_EQ(Padded("+x"), "");
}

TEST(CondPaddedVersionTest, BuildSuffixStopsAtLineTerminators) {
  // `\+.*$` cannot cross the newline, so this "+" stays.
  EXPECT_EQ(Padded("1.2.3+x\ny"), "    1-    2-3+x\ny-~");
  EXPECT_EQ(Padded("1\n2+x"), "1\n2");
}

TEST(CondPaddedVersionTest, NonStrings) {
  EXPECT_EQ(Padded(Value::String("")), "    0");
  EXPECT_EQ(Padded(Value::Number(0)), "    0");
  EXPECT_EQ(Padded(Value::Number(5)), "    5");
  EXPECT_EQ(Padded(Value::Number(1e21)), "1e");  // "1e+21" loses its "+21"
  EXPECT_EQ(Padded(Value()), "    0");
  EXPECT_EQ(Padded(Value::Array({Value::Number(1)})), "    0");
}

}  // namespace
}  // namespace tempo::cond
