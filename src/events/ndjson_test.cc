// Tests of NdjsonReader: byte-order mark, CRLF, line numbers, blank lines.
#include "events/ndjson.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace tempo::events {
namespace {

std::vector<std::string> ReadAll(const std::string& text) {
  std::istringstream in(text);
  NdjsonReader reader(in);
  std::vector<std::string> lines;
  std::string line;
  while (reader.Next(&line)) {
    lines.push_back(line);
    EXPECT_EQ(reader.line_number(), lines.size());
  }
  EXPECT_TRUE(reader.status().ok()) << reader.status().ToString();
  return lines;
}

TEST(NdjsonReader, SkipsAByteOrderMarkAtTheStartOnly) {
  EXPECT_EQ(ReadAll("\xEF\xBB\xBF{\"a\":1}\n\xEF\xBB\xBF{}\n"),
            (std::vector<std::string>{"{\"a\":1}", "\xEF\xBB\xBF{}"}));
  EXPECT_EQ(ReadAll("\xEF\xBB\xBF"), (std::vector<std::string>{""}));
}

TEST(NdjsonReader, DropsCarriageReturnsOfCrlfLineEnds) {
  EXPECT_EQ(ReadAll("{}\r\n\r\n[1]\r\n"), (std::vector<std::string>{"{}", "", "[1]"}));
}

TEST(NdjsonReader, KeepsEveryLineAndALastOneWithoutNewline) {
  EXPECT_EQ(ReadAll("a\n\n  \nb"), (std::vector<std::string>{"a", "", "  ", "b"}));
  EXPECT_TRUE(ReadAll("").empty());
}

TEST(NdjsonReader, ReportsAReadError) {
  std::istringstream in("a\nb\n");
  NdjsonReader reader(in);
  std::string line;
  ASSERT_TRUE(reader.Next(&line));
  in.setstate(std::ios::badbit);
  EXPECT_FALSE(reader.Next(&line));
  EXPECT_EQ(reader.status().code(), Status::Code::kIOError);
  EXPECT_NE(reader.status().message().find("after line 1"), std::string::npos);
}

TEST(IsBlankLine, SpacesTabsAndCarriageReturnsOnly) {
  EXPECT_TRUE(IsBlankLine(""));
  EXPECT_TRUE(IsBlankLine(" \t\r"));
  EXPECT_FALSE(IsBlankLine(" {} "));
}

}  // namespace
}  // namespace tempo::events
