// Number <-> string conversions, checked against what JavaScript prints.
#include "cond/js_number.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace tempo::cond {
namespace {

std::string Format(double v) {
  std::string out;
  AppendJsNumber(v, &out);
  return out;
}

TEST(CondFormatJsNumberTest, MatchesNumberToString) {
  EXPECT_EQ(Format(0), "0");
  EXPECT_EQ(Format(-0.0), "0");
  EXPECT_EQ(Format(1), "1");
  EXPECT_EQ(Format(-1), "-1");
  EXPECT_EQ(Format(0.1), "0.1");
  EXPECT_EQ(Format(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(Format(123.456), "123.456");
  EXPECT_EQ(Format(100), "100");
  EXPECT_EQ(Format(4294967295.0), "4294967295");
  EXPECT_EQ(Format(9007199254740994.0), "9007199254740994");
}

TEST(CondFormatJsNumberTest, SwitchesToExponentsAt1e21AndBelow1e6) {
  EXPECT_EQ(Format(1e20), "100000000000000000000");
  EXPECT_EQ(Format(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(Format(1e21), "1e+21");
  EXPECT_EQ(Format(-1.5e300), "-1.5e+300");
  EXPECT_EQ(Format(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(Format(1e-6), "0.000001");
  EXPECT_EQ(Format(0.000001234), "0.000001234");
  EXPECT_EQ(Format(1.25e-5), "0.0000125");
  EXPECT_EQ(Format(1e-7), "1e-7");
  EXPECT_EQ(Format(-2.5e-7), "-2.5e-7");
  EXPECT_EQ(Format(5e-324), "5e-324");
}

TEST(CondFormatJsNumberTest, NonFiniteValues) {
  EXPECT_EQ(Format(std::nan("")), "NaN");
  EXPECT_EQ(Format(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(Format(-std::numeric_limits<double>::infinity()), "-Infinity");
}

TEST(CondJsStringToNumberTest, DecimalForms) {
  EXPECT_EQ(JsStringToNumber("1e2"), 100);
  EXPECT_EQ(JsStringToNumber(".5"), 0.5);
  EXPECT_EQ(JsStringToNumber("5."), 5);
  EXPECT_EQ(JsStringToNumber("+5"), 5);
  EXPECT_EQ(JsStringToNumber("-5"), -5);
  EXPECT_EQ(JsStringToNumber("00012"), 12);
  EXPECT_TRUE(std::isnan(JsStringToNumber(".")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("+-5")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("1_0")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("12abc")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("1e")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("e5")));
}

TEST(CondJsStringToNumberTest, WhitespaceIsTrimmedAndEmptyIsZero) {
  EXPECT_EQ(JsStringToNumber(""), 0);
  EXPECT_EQ(JsStringToNumber("  "), 0);
  EXPECT_EQ(JsStringToNumber(" 42 "), 42);
  EXPECT_EQ(JsStringToNumber("\u00a0 7"), 7);
  EXPECT_EQ(JsStringToNumber("\ufeff8"), 8);
  EXPECT_EQ(JsStringToNumber("\u2028 9"), 9);
  EXPECT_EQ(JsStringToNumber("\n5\t"), 5);
  EXPECT_TRUE(std::isnan(JsStringToNumber("\u200b5")));  // ZWSP is not whitespace
}

TEST(CondJsStringToNumberTest, RadixPrefixes) {
  EXPECT_EQ(JsStringToNumber("0x1A"), 26);
  EXPECT_EQ(JsStringToNumber("0X1a"), 26);
  EXPECT_EQ(JsStringToNumber("0b11"), 3);
  EXPECT_EQ(JsStringToNumber("0o17"), 15);
  EXPECT_TRUE(std::isnan(JsStringToNumber("0B2")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("-0x1A")));  // no sign with a prefix
  EXPECT_TRUE(std::isnan(JsStringToNumber("+0x1A")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("0x")));
  // Correctly rounded beyond 2^53.
  EXPECT_EQ(JsStringToNumber("0x1fffffffffffff1"), 144115188075855860.0);
  EXPECT_EQ(JsStringToNumber("0b" + std::string(60, '1')), 1152921504606847000.0);
  EXPECT_EQ(JsStringToNumber("0o777777777777777777777"), 9223372036854776000.0);
}

TEST(CondJsStringToNumberTest, InfinityAndRange) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(JsStringToNumber("Infinity"), inf);
  EXPECT_EQ(JsStringToNumber("+Infinity"), inf);
  EXPECT_EQ(JsStringToNumber("-Infinity"), -inf);
  EXPECT_TRUE(std::isnan(JsStringToNumber("infinity")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("inf")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("nan")));
  EXPECT_EQ(JsStringToNumber("1e400"), inf);
  EXPECT_EQ(JsStringToNumber("-1e400"), -inf);
  EXPECT_EQ(JsStringToNumber("1.7976931348623159e308"), inf);
  EXPECT_EQ(JsStringToNumber("1e-400"), 0);
  EXPECT_EQ(JsStringToNumber("2.4703282292062328e-324"), 5e-324);
}

TEST(CondJsNumberRoundTripTest, FormatThenParseIsIdentity) {
  for (double v : {0.1, 1.0 / 3, 2.5e-7, 1e21, 123456.789, -9.87e-300, 6.02214076e23}) {
    EXPECT_EQ(JsStringToNumber(Format(v)), v) << Format(v);
  }
}

}  // namespace
}  // namespace tempo::cond
