#include "l2/value_codec.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <random>

#include "origin/coding.h"

namespace tempo::l2 {
namespace {

using origin::Row;
using origin::SliceKey;

const SliceKey kSlice{{"WM_GLASS", "web", "home"}, "page-1"};

std::vector<Row> SampleRows() {
  return {
      Row{"page-1", events::Kind::kModule, "hero", 7, R"({"id":"hero","v":7})"},
      Row{"page-1", events::Kind::kExperiment, "exp:1", -3, ""},
      Row{"page-1", events::Kind::kTemplate, "", INT64_MAX, std::string("\0\xff", 2)},
  };
}

void ExpectRowsEq(const std::vector<Row>& a, const std::vector<Row>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].scope, b[i].scope);
    EXPECT_EQ(a[i].kind, b[i].kind);
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].version, b[i].version);
    EXPECT_EQ(a[i].body, b[i].body);
  }
}

void ExpectCorrupt(std::string_view value, std::string_view reason, std::string_view ns = "ns",
                   int schema = 1, const SliceKey& slice = kSlice) {
  Result<std::vector<Row>> rows = DecodeSliceValue(value, ns, schema, slice);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), Status::Code::kCorruption);
  EXPECT_NE(rows.status().message().find(reason), std::string::npos) << rows.status().message();
}

// Replaces the checksum so that a hand-made body reaches the field checks.
std::string Reseal(std::string value) {
  value.resize(value.size() - 8);
  origin::AppendFixed64(&value, XXH3_64bits(value.data(), value.size()));
  return value;
}

TEST(ValueCodecTest, RoundTrip) {
  std::string value = EncodeSliceValue("ns", 1, kSlice, SampleRows());
  Result<std::vector<Row>> rows = DecodeSliceValue(value, "ns", 1, kSlice);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ExpectRowsEq(*rows, SampleRows());

  Result<std::vector<Row>> empty =
      DecodeSliceValue(EncodeSliceValue("ns", 1, kSlice, {}), "ns", 1, kSlice);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(ValueCodecTest, RejectsHeaderProblems) {
  std::string value = EncodeSliceValue("ns", 1, kSlice, SampleRows());
  ExpectCorrupt("", "truncated header");
  ExpectCorrupt("TPL2", "truncated header");
  std::string magic = value;
  magic[0] = 'X';
  ExpectCorrupt(magic, "bad magic");
  std::string version = value;
  version[4] = 2;
  ExpectCorrupt(version, "format version 2");
  std::string flipped = value;
  flipped[value.size() / 2] ^= 0x01;
  ExpectCorrupt(flipped, "checksum mismatch");
}

TEST(ValueCodecTest, RejectsAnotherIdentity) {
  std::string value = EncodeSliceValue("ns", 1, kSlice, SampleRows());
  ExpectCorrupt(value, "schema 1, expected 2", "ns", 2);
  ExpectCorrupt(value, "namespace", "other");
  ExpectCorrupt(value, "tenant", "ns", 1, SliceKey{{"CA", "web", "home"}, "page-1"});
  ExpectCorrupt(value, "channel", "ns", 1, SliceKey{{"WM_GLASS", "app", "home"}, "page-1"});
  ExpectCorrupt(value, "page type", "ns", 1, SliceKey{{"WM_GLASS", "web", "pdp"}, "page-1"});
  ExpectCorrupt(value, "scope", "ns", 1, SliceKey{{"WM_GLASS", "web", "home"}, "*"});
}

TEST(ValueCodecTest, RejectsMalformedRowsBehindAValidChecksum) {
  const SliceKey slice{{"t", "c", "p"}, "*"};
  std::string header = EncodeSliceValue("ns", 1, slice, {});
  header.resize(header.size() - 8 - 1);  // drop checksum and the row count

  std::string huge_count = header;
  origin::AppendVarint64(&huge_count, uint64_t{1} << 40);
  ExpectCorrupt(Reseal(huge_count + "12345678"), "row count", "ns", 1, slice);

  std::string bad_kind = header;
  origin::AppendVarint64(&bad_kind, 1);
  bad_kind += std::string("\x03\x00\x01\x00", 4);
  ExpectCorrupt(Reseal(bad_kind + "12345678"), "unknown kind", "ns", 1, slice);

  std::string short_row = header;
  origin::AppendVarint64(&short_row, 1);
  short_row += std::string(
      "\x00\x05"
      "ab\x01\x00",
      6);  // id says 5 bytes, 2 follow...
  ExpectCorrupt(Reseal(short_row + "12345678"), "truncated row 0", "ns", 1, slice);

  std::string trailing = EncodeSliceValue("ns", 1, slice, {});
  trailing.insert(trailing.size() - 8, "zz");
  ExpectCorrupt(Reseal(trailing), "2 trailing bytes", "ns", 1, slice);
}

TEST(ValueCodecTest, EveryTruncationAndBitFlipIsCorruption) {
  std::string value = EncodeSliceValue("ns", 1, kSlice, SampleRows());
  for (size_t n = 0; n < value.size(); ++n) {
    EXPECT_FALSE(DecodeSliceValue(value.substr(0, n), "ns", 1, kSlice).ok()) << n;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = value;
      flipped[i] ^= static_cast<char>(1 << bit);
      Result<std::vector<Row>> rows = DecodeSliceValue(flipped, "ns", 1, kSlice);
      ASSERT_FALSE(rows.ok()) << i << ":" << bit;
      EXPECT_EQ(rows.status().code(), Status::Code::kCorruption);
    }
  }
}

// Random bytes and random edits of a valid value, resealed so that they get
// past the checksum into the field parsers: never a crash (run under ASan).
TEST(ValueCodecTest, SurvivesRandomInput) {
  std::mt19937_64 rng(42);
  const std::string valid = EncodeSliceValue("ns", 1, kSlice, SampleRows());
  for (int i = 0; i < 20000; ++i) {
    std::string input;
    if (i % 2 == 0) {
      input.resize(rng() % 64);
      for (char& ch : input) ch = static_cast<char>(rng());
    } else {
      input = valid;
      for (int edits = 1 + rng() % 4; edits > 0; --edits) {
        size_t pos = rng() % input.size();
        switch (rng() % 3) {
          case 0:
            input[pos] = static_cast<char>(rng());
            break;
          case 1:
            input.erase(pos, 1 + rng() % 4);
            break;
          default:
            input.insert(pos, 1, static_cast<char>(rng()));
            break;
        }
        if (input.size() < 16) input = valid;
      }
      input = Reseal(input);
    }
    Result<std::vector<Row>> rows = DecodeSliceValue(input, "ns", 1, kSlice);
    if (rows.ok()) {  // whatever decodes survives a round trip unchanged
      Result<std::vector<Row>> again =
          DecodeSliceValue(EncodeSliceValue("ns", 1, kSlice, *rows), "ns", 1, kSlice);
      ASSERT_TRUE(again.ok());
      ExpectRowsEq(*again, *rows);
    }
  }
}

}  // namespace
}  // namespace tempo::l2
