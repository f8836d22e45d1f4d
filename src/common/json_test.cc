// Tests of the JSON output helpers.
#include "common/json.h"

#include <gtest/gtest.h>

#include <string>

namespace tempo {
namespace {

std::string Quoted(std::string_view s) {
  std::string out = "x=";  // appends after what is there
  AppendJsonString(s, &out);
  return out;
}

TEST(AppendJsonString, PlainTextIsCopiedInQuotes) {
  EXPECT_EQ(Quoted(""), "x=\"\"");
  EXPECT_EQ(Quoted("hello"), "x=\"hello\"");
  EXPECT_EQ(Quoted("caf\xc3\xa9 \xf0\x9f\x98\x80"),
            "x=\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");  // UTF-8 as is
}

TEST(AppendJsonString, EveryByteThatMustBeEscapedIs) {
  EXPECT_EQ(Quoted("a\"b\\c"), R"(x="a\"b\\c")");
  EXPECT_EQ(Quoted("\n\r\t\b\f"), R"(x="\n\r\t\b\f")");
  EXPECT_EQ(Quoted(std::string_view("\x00\x01\x1f\x7f", 4)), R"(x="\u0000\u0001\u001f)"
                                                             "\x7f\"");
  EXPECT_EQ(Quoted("/"), "x=\"/\"");  // never needs escaping
}

TEST(AppendJsonString, EscapesSpreadThroughALongString) {
  std::string in, expected = "x=\"";
  for (int i = 0; i < 1000; ++i) {
    in += "{\"k\":" + std::to_string(i) + "}\n";
    expected += "{\\\"k\\\":" + std::to_string(i) + "}\\n";
  }
  EXPECT_EQ(Quoted(in), expected + "\"");
}

}  // namespace
}  // namespace tempo
