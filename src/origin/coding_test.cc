// Tests of the origin's key and value encodings (coding.h).
#include "origin/coding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace tempo::origin {
namespace {

std::string EncodeTuple(const std::vector<std::string>& tuple) {
  std::string out;
  for (const std::string& element : tuple) AppendTupleElement(&out, element);
  return out;
}

// Element-wise bytewise comparison, the order the encoding must preserve.
bool TupleLess(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::lexicographical_compare(
      a.begin(), a.end(), b.begin(), b.end(), [](const std::string& x, const std::string& y) {
        return std::lexicographical_compare(
            x.begin(), x.end(), y.begin(), y.end(),
            [](char c, char d) { return static_cast<uint8_t>(c) < static_cast<uint8_t>(d); });
      });
}

TEST(TupleCoding, RoundTripsAnyBytes) {
  const std::vector<std::string> tuple = {
      "",     std::string("\0", 1),   std::string("a\0\xFF\x01", 4),
      "\xFF", std::string("\0\0", 2), "plain"};
  std::string encoded = EncodeTuple(tuple);
  std::string_view in = encoded;
  for (const std::string& expected : tuple) {
    std::string element;
    ASSERT_TRUE(ReadTupleElement(&in, &element));
    EXPECT_EQ(element, expected);
  }
  EXPECT_TRUE(in.empty());
}

TEST(TupleCoding, RejectsMalformedElements) {
  std::string element;
  for (std::string bad : {std::string("abc"), std::string("a\0", 2), std::string("a\0\x02", 3)}) {
    std::string_view in = bad;
    EXPECT_FALSE(ReadTupleElement(&in, &element)) << bad.size();
  }
}

TEST(TupleCoding, PrefixTenantsSortBeforeLongerOnes) {
  // Bytewise, "a" < "a\0" < "a-b": a prefix first, then '\0' < '-'. The
  // encoding's terminator must not upset either comparison.
  std::vector<std::vector<std::string>> tuples = {
      {"a-b", "x"}, {std::string("a\0", 2), "x"}, {"a", "x"}, {"a", ""}, {"", "z"}};
  std::vector<std::string> encoded;
  for (const auto& t : tuples) encoded.push_back(EncodeTuple(t));
  std::sort(tuples.begin(), tuples.end(), TupleLess);
  std::sort(encoded.begin(), encoded.end());
  for (size_t i = 0; i < tuples.size(); ++i) EXPECT_EQ(encoded[i], EncodeTuple(tuples[i]));
  EXPECT_EQ(tuples.front(), (std::vector<std::string>{"", "z"}));
  EXPECT_EQ(tuples[1], (std::vector<std::string>{"a", ""}));
  EXPECT_EQ(tuples[3], (std::vector<std::string>{std::string("a\0", 2), "x"}));
}

TEST(TupleCoding, BytewiseOrderIsTupleOrderForRandomTuples) {
  // Elements drawn from the bytes that matter to the escaping (0x00, 0x01,
  // 0xFF) and one ordinary byte, so collisions and prefixes are frequent.
  std::mt19937 rng(12345);
  const char alphabet[] = {'\x00', '\x01', '\xFF', 'a'};
  auto random_element = [&] {
    std::string s(rng() % 4, ' ');
    for (char& c : s) c = alphabet[rng() % 4];
    return s;
  };
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::string> a(1 + rng() % 3), b(1 + rng() % 3);
    for (auto& e : a) e = random_element();
    for (auto& e : b) e = random_element();
    const std::string ea = EncodeTuple(a), eb = EncodeTuple(b);
    EXPECT_EQ(ea < eb, TupleLess(a, b));
    EXPECT_EQ(ea == eb, a == b);
  }
}

TEST(IntegerCoding, Fixed64IsBigEndianAndOrdered) {
  std::string small, large;
  AppendFixed64(&small, 255);
  AppendFixed64(&large, 256);
  EXPECT_EQ(small, std::string("\0\0\0\0\0\0\0\xFF", 8));
  EXPECT_LT(small, large);
  std::string_view in = large;
  uint64_t value = 0;
  ASSERT_TRUE(ReadFixed64(&in, &value));
  EXPECT_EQ(value, 256u);
  std::string_view short_input = "1234567";
  EXPECT_FALSE(ReadFixed64(&short_input, &value));
}

TEST(IntegerCoding, VarintRoundTripsAndRejectsTruncation) {
  for (uint64_t v : {uint64_t{0}, uint64_t{127}, uint64_t{128}, uint64_t{300}, UINT64_MAX}) {
    std::string out;
    AppendVarint64(&out, v);
    std::string_view in = out;
    uint64_t back = 0;
    ASSERT_TRUE(ReadVarint64(&in, &back));
    EXPECT_EQ(back, v);
    EXPECT_TRUE(in.empty());
    std::string_view truncated = std::string_view(out).substr(0, out.size() - 1);
    EXPECT_FALSE(ReadVarint64(&truncated, &back));
  }
  std::string overlong(10, '\xFF');
  overlong.push_back('\x01');
  std::string_view in = overlong;
  uint64_t back = 0;
  EXPECT_FALSE(ReadVarint64(&in, &back));
}

TEST(IntegerCoding, LengthPrefixedRejectsShortInput) {
  std::string out;
  AppendLengthPrefixed(&out, "hello");
  std::string_view in = out, bytes;
  ASSERT_TRUE(ReadLengthPrefixed(&in, &bytes));
  EXPECT_EQ(bytes, "hello");
  std::string_view truncated = std::string_view(out).substr(0, 3);
  EXPECT_FALSE(ReadLengthPrefixed(&truncated, &bytes));
}

}  // namespace
}  // namespace tempo::origin
