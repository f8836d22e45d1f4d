// UTF-16 views of UTF-8 strings, JavaScript whitespace and lowercase.
#include "cond/js_string.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tempo::cond {
namespace {

std::string Lower(std::string_view s) {
  std::string out;
  AppendLowercase(s, &out);
  return out;
}

TEST(CondCompareUtf16Test, AsciiAndPrefixes) {
  EXPECT_LT(CompareUtf16("a", "b"), 0);
  EXPECT_GT(CompareUtf16("ab", "a"), 0);
  EXPECT_EQ(CompareUtf16("abc", "abc"), 0);
  EXPECT_LT(CompareUtf16("", "a"), 0);
  EXPECT_GT(CompareUtf16("é", "z"), 0);
  EXPECT_GT(CompareUtf16("\uE000x", "\uE000"), 0);
}

TEST(CondCompareUtf16Test, AstralSortsBeforeHighBmpUnlikeUtf8) {
  // UTF-8 bytes put U+10000 after U+E000; UTF-16 units put it before.
  EXPECT_GT(std::string_view("\U00010000").compare("\uE000"), 0);
  EXPECT_LT(CompareUtf16("\U00010000", "\uE000"), 0);
  EXPECT_LT(CompareUtf16("😀", "\uFFFF"), 0);
  EXPECT_LT(CompareUtf16("x😀", "x\uFFFF"), 0);
  EXPECT_GT(CompareUtf16("\uFFFF", "😀"), 0);
  EXPECT_LT(CompareUtf16("😀", "😁"), 0);
}

TEST(CondCompareUtf16Test, LoneSurrogatesOrderAsUnits) {
  std::string high;
  AppendUtf8(0xD83D, &high);              // WTF-8 lone high surrogate
  EXPECT_LT(CompareUtf16(high, "😀"), 0);  // "\ud83d" is a prefix of "\ud83d\ude00"
  EXPECT_GT(CompareUtf16(high, "\uD7FF"), 0);
}

TEST(CondUtf16Test, LengthAndUnits) {
  EXPECT_EQ(Utf16Length(""), 0u);
  EXPECT_EQ(Utf16Length("😀"), 2u);
  EXPECT_EQ(Utf16Length("a😀é"), 4u);
  std::vector<std::string> units;
  ForEachUtf16Unit("a😀", [&](std::string u) { units.push_back(std::move(u)); });
  ASSERT_EQ(units.size(), 3u);
  EXPECT_EQ(units[0], "a");
  EXPECT_EQ(units[1], "\xED\xA0\xBD");  // U+D83D in WTF-8
  EXPECT_EQ(units[2], "\xED\xB8\x80");  // U+DE00
}

TEST(CondDecodeUtf8Test, InvalidBytesDecodeAsReplacement) {
  const std::string s =
      "\xFF"
      "a\xC3";
  size_t i = 0;
  EXPECT_EQ(DecodeUtf8(s, &i), 0xFFFDu);
  EXPECT_EQ(i, 1u);
  EXPECT_EQ(DecodeUtf8(s, &i), static_cast<uint32_t>('a'));
  EXPECT_EQ(DecodeUtf8(s, &i), 0xFFFDu);  // truncated sequence
  EXPECT_EQ(i, 3u);
}

TEST(CondWhitespaceTest, TrimUsesJavaScriptsSet) {
  EXPECT_EQ(TrimJsWhitespace(" \t\n a b \r"), "a b");
  EXPECT_EQ(TrimJsWhitespace("\u00A0\u3000x\uFEFF\u2029"), "x");
  EXPECT_EQ(TrimJsWhitespace("\u200Bx"), "\u200Bx");  // ZWSP is not whitespace
  EXPECT_EQ(TrimJsWhitespace("   "), "");
  EXPECT_TRUE(IsJsWhitespace(0x2005));
  EXPECT_FALSE(IsJsWhitespace(0x85));
}

TEST(CondLowercaseTest, MatchesToLowerCase) {
  EXPECT_EQ(Lower("GOLD Gold"), "gold gold");
  EXPECT_EQ(Lower("ÀÉ"), "àé");
  EXPECT_EQ(Lower("ǅ"), "ǆ");
  EXPECT_EQ(Lower("𐐀"), "𐐨");
  EXPECT_EQ(Lower("ß"), "ß");
  EXPECT_EQ(Lower("İ"), "i\u0307");  // the one multi-character mapping
}

TEST(CondLowercaseTest, FinalSigma) {
  EXPECT_EQ(Lower("ΑΣ"), "ας");
  EXPECT_EQ(Lower("Σ"), "σ");  // not preceded by a letter
  EXPECT_EQ(Lower("ΣΑ"), "σα");
  EXPECT_EQ(Lower("ΑΣ Α"), "ας α");
  EXPECT_EQ(Lower("ΑΣ'Α"), "ασ'α");  // the apostrophe is case-ignorable
}

TEST(CondLowercaseTest, LowercaseEqualsAgreesWithAppendLowercase) {
  for (std::string_view s : {"GOLD", "ΑΣ", "İx", "😀A", "", "ΣΑΣ"}) {
    EXPECT_TRUE(LowercaseEquals(s, Lower(s))) << s;
    EXPECT_FALSE(LowercaseEquals(s, Lower(s) + "x")) << s;
  }
  EXPECT_FALSE(LowercaseEquals("ab", "a"));
}

}  // namespace
}  // namespace tempo::cond
