// Tests of CompactJson: strict RFC 8259 validation and byte-preserving compaction.
#include "events/json_compact.h"

#include <gtest/gtest.h>

#include <string>

namespace tempo::events {
namespace {

// The compact form of `text`, or "ERROR: <message>".
std::string Compact(std::string_view text) {
  std::string out;
  Status s = CompactJson(text, &out);
  return s.ok() ? out : "ERROR: " + s.message();
}

bool Valid(std::string_view text) {
  std::string out;
  return CompactJson(text, &out).ok();
}

TEST(CompactJson, RemovesWhitespaceOutsideStringsOnly) {
  EXPECT_EQ(Compact(" { \"a b\" : [ 1 , \"x  y\" ,\n\t{ } , [ ] ] ,\r\n \"c\" : null } \n"),
            R"({"a b":[1,"x  y",{},[]],"c":null})");
}

TEST(CompactJson, KeepsNumberSpellingsAndEscapesByteForByte) {
  const std::string doc =
      R"([1E-2,-2.50,12345678901234567890,-0,0.0e+00,1e400,"\u00e9\n\"\\\/","é"])";
  EXPECT_EQ(Compact(doc), doc);
}

TEST(CompactJson, AcceptsScalarsAtTheRoot) {
  EXPECT_EQ(Compact(" 12 "), "12");
  EXPECT_EQ(Compact("\"s\""), "\"s\"");
  EXPECT_EQ(Compact("true"), "true");
  EXPECT_EQ(Compact("false"), "false");
  EXPECT_EQ(Compact("null"), "null");
}

TEST(CompactJson, RejectsGrammarViolations) {
  const char* bad[] = {
      "",           " ",      "{",        "}",         "[1,]",
      "{\"a\":1,}", "[,1]",   "{,}",      "[1 2]",     "{\"a\" 1}",
      "{\"a\":}",   "{1:2}",  "{a:1}",    "01",        "-01",
      "1.",         ".5",     "+1",       "-",         "1e",
      "1e+",        "0x10",   "NaN",      "Infinity",  "-Infinity",
      "'a'",        "tru",    "nul",      "truex",     "nullnull",
      "1 2",        "{} {}",  "[]]",      "[1]x",      "/*c*/1",
      "[1]//c",     "\"abc",  "\"\\x\"",  "\"\\u12\"", "\"\\u12g4\"",
      "\"\\",       "[\"a\"", "{\"a\":1", "{\"a\"",    "{\"a\":1 \"b\":2}",
      "True",       "[1,,2]",
  };
  for (const char* text : bad) EXPECT_FALSE(Valid(text)) << text;
}

// String bodies are scanned eight bytes at a time: put every kind of special
// byte at every offset of strings of every length around that stride.
TEST(CompactJson, StringsOfEveryLengthAndSpecialBytePosition) {
  const std::string valid_specials[] = {"\\\"",     "\\\\", "\\/", "\\n", "\\u00e9",
                                        "\xc3\xa9", "\x7f", " ",   "!",   "\xe2\x82\xac"};
  const std::string invalid_specials[] = {
      std::string(1, '\0'), "\x01", "\x1f", "\n", "\\x", "\\u00g0", "\""};
  for (size_t length = 1; length <= 26; ++length) {
    for (size_t at = 0; at < length; ++at) {
      const std::string before(at, 'a');
      const std::string after(length - at - 1, 'b');
      for (const std::string& special : valid_specials) {
        const std::string doc = "[ \"" + before + special + after + "\" , 1 ]";
        const std::string want = "[\"" + before + special + after + "\",1]";
        EXPECT_EQ(Compact(doc), want) << doc;
      }
      for (const std::string& special : invalid_specials) {
        const std::string doc = "[\"" + before + special + after + "\"]";
        EXPECT_FALSE(Valid(doc)) << doc;
      }
    }
  }
}

TEST(CompactJson, RejectsUnescapedControlCharacters) {
  EXPECT_FALSE(Valid(std::string("\"a\x01z\"")));
  EXPECT_FALSE(Valid(std::string("\"a\nz\"")));
  EXPECT_FALSE(Valid(std::string("\"a\tz\"")));
  EXPECT_FALSE(Valid(std::string("[1,\0]", 5)));
  EXPECT_TRUE(Valid("\"a\\u0001\\t\""));
  // DEL (0x7f) need not be escaped.
  EXPECT_TRUE(Valid("\"\x7f\""));
}

TEST(CompactJson, RejectsInvalidUtf8) {
  EXPECT_EQ(Compact("\"\xff\""), "ERROR: not valid UTF-8");
  EXPECT_FALSE(Valid("\"\xc0\xaf\""));          // overlong '/'
  EXPECT_FALSE(Valid("\"\xed\xa0\x80\""));      // UTF-16 surrogate encoded in UTF-8
  EXPECT_FALSE(Valid("\"\xe2\x82\""));          // truncated sequence
  EXPECT_FALSE(Valid("\"\xf4\x90\x80\x80\""));  // beyond U+10FFFF
  EXPECT_TRUE(Valid("\"\xe2\x82\xac \xf0\x9f\x98\x80\""));
}

TEST(CompactJson, ReportsWhatAndWhere) {
  EXPECT_EQ(Compact("[1,]"), "ERROR: not valid JSON (unexpected character at byte 3)");
  EXPECT_EQ(Compact("{\"a\":1"), "ERROR: not valid JSON (unexpected end of input at byte 6)");
}

TEST(CompactJson, NestingUpToTheLimit) {
  const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_EQ(Compact(ok), ok);
  const std::string deep =
      std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  EXPECT_FALSE(Valid(deep));
}

TEST(CompactJson, VeryDeepGarbageDoesNotCrash) {
  EXPECT_FALSE(Valid(std::string(1'000'000, '[')));
  std::string objects;
  for (int i = 0; i < 200'000; ++i) objects += "{\"a\":";
  EXPECT_FALSE(Valid(objects));
}

TEST(CompactJson, EveryTruncationOfAnObjectIsInvalid) {
  const std::string doc = R"({"a":[1,-2.5e3,"x\"y",{"b":null,"c":true}],"d":false})";
  ASSERT_TRUE(Valid(doc));
  for (size_t n = 0; n < doc.size(); ++n) EXPECT_FALSE(Valid(doc.substr(0, n))) << n;
}

}  // namespace
}  // namespace tempo::events
