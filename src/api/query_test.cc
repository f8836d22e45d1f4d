// Tests of ParseLayoutQuery: one group per rule of SPEC §11.1-12, the limits,
// the order of checks, and the golden sample of recorded answers.
#include "api/query.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "api/percent_decode.h"

namespace tempo::api {
namespace {

constexpr std::string_view kBase = "tenant=ACME&channel=web&pageType=homepage";
constexpr QueryOptions kPreview{true};
constexpr QueryOptions kNoPreview{false};

std::variant<PageRequest, ApiError> Parse(std::string_view query,
                                          const QueryOptions& options = kPreview) {
  return ParseLayoutQuery(query, 2, options);
}

// The error code, or "" on success.
std::string Code(std::string_view query, const QueryOptions& options = kPreview) {
  const auto result = Parse(query, options);
  if (const auto* e = std::get_if<ApiError>(&result)) return e->code;
  return "";
}

PageRequest Ok(std::string_view query, const QueryOptions& options = kPreview) {
  auto result = Parse(query, options);
  if (const auto* e = std::get_if<ApiError>(&result)) {
    ADD_FAILURE() << "query " << query << " failed: " << e->code << ": " << e->message;
    return {};
  }
  return std::get<PageRequest>(std::move(result));
}

ApiError Err(std::string_view query, const QueryOptions& options = kPreview) {
  auto result = Parse(query, options);
  if (auto* e = std::get_if<ApiError>(&result)) return std::move(*e);
  ADD_FAILURE() << "query " << query << " unexpectedly succeeded";
  return {};
}

std::string With(std::string_view extra) { return std::string(kBase) + "&" + std::string(extra); }

std::string Attributes(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += "&t.a" + std::to_string(i) + "=x";
  return out;
}

// ----- percent_decode.h ---------------------------------------------------

TEST(PercentDecodeTest, Utf8AcceptsWellFormed) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9"));              // U+00E9
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC"));             // U+20AC
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));             // U+D7FF, just below the surrogates
  EXPECT_TRUE(IsValidUtf8("\xEE\x80\x80"));             // U+E000, just above them
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));         // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));         // U+10FFFF
  EXPECT_TRUE(IsValidUtf8(std::string_view("\0", 1)));  // NUL is a character
}

TEST(PercentDecodeTest, Utf8RejectsMalformed) {
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xC3\x28"));          // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong 3-byte
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\xAF"));  // overlong 4-byte
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // U+D800 surrogate
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));      // U+DFFF surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));  // truncated 3-byte
}

TEST(PercentDecodeTest, DecodesEscapesAndPlus) {
  char buf[64];
  EXPECT_EQ(DecodeFormComponent("a+b%2Bc%3a%3A", buf), "a b+c::");
  EXPECT_EQ(DecodeFormComponent("caf%c3%A9", buf), "caf\xC3\xA9");
  const std::string_view plain = "no-escapes";
  const auto same = DecodeFormComponent(plain, buf);
  ASSERT_TRUE(same);
  EXPECT_EQ(same->data(), plain.data());  // no copy when nothing to decode
  EXPECT_FALSE(DecodeFormComponent("%zz", buf));
  EXPECT_FALSE(DecodeFormComponent("%4", buf));
  EXPECT_FALSE(DecodeFormComponent("abc%", buf));
  EXPECT_FALSE(DecodeFormComponent("%g0", buf));
  EXPECT_FALSE(DecodeFormComponent("%C3%28", buf));
  EXPECT_FALSE(DecodeFormComponent("raw\xFF", buf));
}

// ----- §11.1 splitting and decoding ---------------------------------------

TEST(QueryTest, Rule1_SplitsOnAmpersandOnly) {
  // ';' is an ordinary byte: "x=a;pageId=p" is one unknown parameter.
  const PageRequest r = Ok(With("x=a;pageId=p"));
  EXPECT_FALSE(r.page_id);
  EXPECT_EQ(Code("tenant=ACME;channel=web&channel=web&pageType=homepage"), "invalid_parameter");
}

TEST(QueryTest, Rule1_SkipsEmptyPieces) {
  const PageRequest r = Ok("&&tenant=ACME&&channel=web&pageType=homepage&&");
  EXPECT_EQ(r.tenant, "ACME");
  EXPECT_EQ(r.channel, "web");
  EXPECT_EQ(r.page_type, "homepage");
}

TEST(QueryTest, Rule1_PieceWithoutEqualsIsNameWithEmptyValue) {
  const PageRequest r = Ok(With("t.flag&zone"));
  ASSERT_EQ(r.attributes.size(), 1u);
  EXPECT_EQ(r.attributes[0].name, "flag");
  EXPECT_EQ(r.attributes[0].values, std::vector<std::string>{""});
  EXPECT_TRUE(r.zones.empty());
  EXPECT_EQ(Err("tenant&channel=web&pageType=homepage").code, "missing_parameter");
}

TEST(QueryTest, Rule1_OnlyTheFirstEqualsSplits) {
  const PageRequest r = Ok(With("t.expr=a%3Db=c"));
  ASSERT_EQ(r.attributes.size(), 1u);
  EXPECT_EQ(r.attributes[0].values[0], "a=b=c");
}

TEST(QueryTest, Rule1_DecodesNamesAndValuesWithPlusAsSpace) {
  const PageRequest r =
      Ok("t%65nant=AC%4De&ch%61nnel=web&pageType=hom%65page&t.note=caf%C3%A9+au+lait+%26+more"
         "&t.v=2.1.0%2Bbuild7&t.age=+42");
  EXPECT_EQ(r.tenant, "ACMe");
  EXPECT_EQ(r.page_type, "homepage");
  ASSERT_EQ(r.attributes.size(), 3u);
  EXPECT_EQ(r.attributes[0].values[0], "caf\xC3\xA9 au lait & more");
  EXPECT_EQ(r.attributes[1].values[0], "2.1.0+build7");
  EXPECT_EQ(r.attributes[2].values[0], " 42");
  EXPECT_EQ(Code(With("zone=he+ro")), "invalid_parameter");  // decoded space fails the pattern
}

TEST(QueryTest, Rule1_MalformedEscapeIsInvalidParameter) {
  for (const char* bad :
       {"t.geo=%zz", "t.geo=%4", "t.geo=abc%", "t.geo=%", "x=%g1", "%zz=1", "t.%4=1", "x%=1"}) {
    const ApiError e = Err(With(bad));
    EXPECT_EQ(e.status, 400) << bad;
    EXPECT_EQ(e.code, "invalid_parameter") << bad;
  }
}

TEST(QueryTest, Rule1_InvalidUtf8IsInvalidParameter) {
  for (const char* bad : {"t.geo=%ff", "x=%C3%28", "x=%C0%AF", "x=%ED%A0%80", "x=%F4%90%80%80",
                          "x=%80", "x=%C3", "x=%E2%82", "%FF=1", "t.%C3=1"}) {
    EXPECT_EQ(Code(With(bad)), "invalid_parameter") << bad;
  }
  // Raw (unescaped) bytes are checked the same way.
  EXPECT_EQ(Code(With("x=\xFF")), "invalid_parameter");
  EXPECT_EQ(Code(With("x=caf\xC3\xA9")), "");
  EXPECT_EQ(Code(With("x=%F0%9F%98%80&x=%F4%8F%BF%BF&x=%00")), "");
}

// ----- §11.2 unknown parameters -------------------------------------------

TEST(QueryTest, Rule2_UnknownParametersIgnoredButChecked) {
  const PageRequest r = Ok(With("utm_source=newsletter&=orphan&x.y=1&T.geo=US"));
  EXPECT_TRUE(r.attributes.empty());
  EXPECT_EQ(Code(With("utm_source=%zz")), "invalid_parameter");
  EXPECT_EQ(Code(With("utm_source=" + std::string(257, 'a'))), "value_too_long");
}

TEST(QueryTest, Rule2_NamesAreCaseSensitive) {
  EXPECT_EQ(Code("Tenant=ACME&channel=web&pageType=homepage"), "missing_parameter");
  EXPECT_EQ(Code("tenant=ACME&Channel=web&pageType=homepage"), "missing_parameter");
  EXPECT_FALSE(Ok(With("PageId=p1")).page_id);
  EXPECT_TRUE(Ok(With("Zone=x y")).zones.empty());
}

// ----- §11.3 empty means absent -------------------------------------------

TEST(QueryTest, Rule3_EmptyRequiredIsMissing) {
  EXPECT_EQ(Code("tenant=&channel=web&pageType=homepage"), "missing_parameter");
  EXPECT_EQ(Code("tenant=ACME&channel=&pageType=homepage"), "missing_parameter");
  EXPECT_EQ(Code("tenant=ACME&channel=web&pageType"), "missing_parameter");
}

TEST(QueryTest, Rule3_EmptyOptionalIsNotGiven) {
  const PageRequest r = Ok(With("pageId=&visitorId=&at="), kNoPreview);
  EXPECT_FALSE(r.page_id);
  EXPECT_FALSE(r.visitor_id);
  EXPECT_FALSE(r.at);
}

TEST(QueryTest, Rule3_EmptyOccurrenceIsNotARepetition) {
  // "As if not given": an empty occurrence neither fills nor repeats.
  EXPECT_EQ(Ok(With("pageId=&pageId=p1")).page_id, "p1");
  EXPECT_EQ(Ok(With("pageId=p1&pageId=")).page_id, "p1");
  EXPECT_EQ(Ok("tenant=&tenant=ACME&channel=web&pageType=homepage").tenant, "ACME");
}

// ----- §11.4 repetition of single-valued parameters -----------------------

TEST(QueryTest, Rule4_RepeatedSingleValuedIsInvalid) {
  for (const char* repeated :
       {"tenant=ACME", "channel=web", "pageType=homepage", "pageType=other"}) {
    const ApiError e = Err(With(repeated));
    EXPECT_EQ(e.code, "invalid_parameter") << repeated;
    EXPECT_NE(e.message.find(std::string(repeated).substr(0, std::string(repeated).find('='))),
              std::string::npos)
        << e.message;
  }
  EXPECT_EQ(Code(With("pageId=a&pageId=a")), "invalid_parameter");
  EXPECT_EQ(Code(With("visitorId=v1&visitorId=v2")), "invalid_parameter");
  EXPECT_EQ(Code(With("at=2026-11-22T12:00:00Z&at=2026-11-22T12:00:00Z")), "invalid_parameter");
  // Spelled differently, the same decoded name.
  EXPECT_EQ(Code(With("t%65nant=ACME")), "invalid_parameter");
}

TEST(QueryTest, Rule4_RepeatableParametersMayRepeat) {
  const PageRequest r = Ok(With("zone=a&zone=b&variant=e:1&variant=e:2&t.x=1&t.x=2"));
  EXPECT_EQ(r.zones, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.variants.size(), 2u);
  ASSERT_EQ(r.attributes.size(), 1u);
  EXPECT_EQ(r.attributes[0].values.size(), 2u);
}

// ----- §11.5 error codes and limits ---------------------------------------

TEST(QueryTest, Rule5_ValueOf256BytesAllowed257Not) {
  EXPECT_EQ(Code(With("t.segment=" + std::string(256, 'g'))), "");
  const ApiError e = Err(With("t.segment=" + std::string(257, 'g')));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "value_too_long");
  EXPECT_NE(e.message.find("t.segment"), std::string::npos) << e.message;
}

TEST(QueryTest, Rule5_ValueLengthIsCountedAfterDecoding) {
  std::string escaped;
  for (int i = 0; i < 256; ++i) escaped += "%41";  // 768 raw bytes, 256 decoded
  EXPECT_EQ(Code(With("x=" + escaped)), "");
  EXPECT_EQ(Code(With("x=" + escaped + "+")), "value_too_long");
  // 86 three-byte characters = 258 bytes.
  std::string euros;
  for (int i = 0; i < 86; ++i) euros += "%E2%82%AC";
  EXPECT_EQ(Code(With("x=" + euros)), "value_too_long");
}

TEST(QueryTest, Rule5_NamesHaveNoLengthLimit) {
  EXPECT_EQ(Code(With(std::string(300, 'n') + "=1")), "");
}

TEST(QueryTest, Rule5_ErrorsAreStatus400WithAMessage) {
  for (const std::string& q :
       {With("x=%zz"), With("x=" + std::string(300, 'a')), With(Attributes(65)),
        std::string("channel=web&pageType=homepage"), With("pageId=a/b"), With("at=2026")}) {
    const ApiError e = Err(q);
    EXPECT_EQ(e.status, 400);
    EXPECT_FALSE(e.message.empty());
  }
}

// ----- §11.6 order of checks ----------------------------------------------

TEST(QueryTest, Rule6_PerParameterChecksInOrderOfAppearance) {
  // The first bad piece decides, whatever kind of failure comes later.
  EXPECT_EQ(Code(With("x=" + std::string(300, 'a') + "&y=%zz")), "value_too_long");
  EXPECT_EQ(Code(With("y=%zz&x=" + std::string(300, 'a'))), "invalid_parameter");
  EXPECT_EQ(Code(With("tenant=ACME&x=" + std::string(300, 'a'))), "invalid_parameter");
  // Within one piece: decoding before length, length before repetition.
  EXPECT_EQ(Code(With("x=" + std::string(300, 'a') + "%zz")), "invalid_parameter");
  EXPECT_EQ(Code(With("tenant=" + std::string(300, 'a'))), "value_too_long");
}

TEST(QueryTest, Rule6_PerParameterBeforeAttributeCount) {
  EXPECT_EQ(Code(With(Attributes(65) + "&x=%zz")), "invalid_parameter");
  EXPECT_EQ(Code(With(Attributes(65) + "&tenant=ACME")), "invalid_parameter");
  EXPECT_EQ(Code(With(Attributes(65) + "&x=" + std::string(257, 'a'))), "value_too_long");
}

TEST(QueryTest, Rule6_AttributeCountBeforeMissing) {
  EXPECT_EQ(Code("channel=web" + Attributes(65)), "too_many_attributes");
}

TEST(QueryTest, Rule6_MissingInOrderTenantChannelPageType) {
  EXPECT_NE(Err("").message.find("tenant"), std::string::npos);
  EXPECT_NE(Err("pageType=homepage&channel=web").message.find("tenant"), std::string::npos);
  EXPECT_NE(Err("pageType=homepage&tenant=ACME").message.find("channel"), std::string::npos);
  EXPECT_NE(Err("tenant=ACME&channel=web").message.find("pageType"), std::string::npos);
  EXPECT_EQ(Err("tenant=ACME&channel=web").code, "missing_parameter");
}

TEST(QueryTest, Rule6_MissingBeforePatterns) {
  EXPECT_EQ(Code("tenant=bad%40&channel=WEB"), "missing_parameter");
}

TEST(QueryTest, Rule6_PatternsInOrder) {
  const std::string all_bad =
      "t.bad.name=1&variant=nocolon&zone=he+ro&visitorId=has+space&pageId=a%2Fb"
      "&pageType=x%2Fy&channel=WEB&tenant=ten%40nt";
  EXPECT_NE(Err(all_bad).message.find("tenant"), std::string::npos);
  EXPECT_NE(Err(all_bad + "&x").message.find("tenant"), std::string::npos);
  const auto message = [](const std::string& q) { return Err(q).message; };
  EXPECT_NE(message("tenant=ACME&channel=WEB&pageType=x%2Fy").find("channel"), std::string::npos);
  EXPECT_NE(message("tenant=ACME&channel=web&pageType=x%2Fy&pageId=a%2Fb").find("pageType"),
            std::string::npos);
  EXPECT_NE(message(With("visitorId=has+space&pageId=a%2Fb")).find("pageId"), std::string::npos);
  EXPECT_NE(message(With("zone=he+ro&visitorId=has+space")).find("visitorId"), std::string::npos);
  EXPECT_NE(message(With("variant=nocolon&zone=he+ro")).find("zone"), std::string::npos);
  EXPECT_NE(message(With("t.bad.name=1&variant=nocolon")).find("variant"), std::string::npos);
  EXPECT_NE(message(With("at=yesterday&t.bad.name=1")).find("t.bad.name"), std::string::npos);
}

TEST(QueryTest, Rule6_PreviewDisabledWhateverTheValue) {
  for (const char* at : {"at=2026-11-22T12:00:00Z", "at=garbage"}) {
    const ApiError e = Err(With(at), kNoPreview);
    EXPECT_EQ(e.code, "preview_disabled") << at;
    EXPECT_EQ(e.status, 400);
    EXPECT_NE(e.message.find("at"), std::string::npos);
  }
}

TEST(QueryTest, Rule6_PreviewDisabledOnlyAfterEveryEarlierCheck) {
  const std::string at = "at=garbage&";
  EXPECT_EQ(Code(at + With("x=%zz"), kNoPreview), "invalid_parameter");
  EXPECT_EQ(Code(at + With("x=" + std::string(257, 'a')), kNoPreview), "value_too_long");
  EXPECT_EQ(Code(at + With("at=garbage"), kNoPreview), "invalid_parameter");  // repeated
  EXPECT_EQ(Code(at + With(Attributes(65)), kNoPreview), "too_many_attributes");
  EXPECT_EQ(Code(at + "channel=web&pageType=homepage", kNoPreview), "missing_parameter");
  EXPECT_EQ(Code(at + "tenant=ACME&channel=WEB&pageType=homepage", kNoPreview),
            "invalid_parameter");
  EXPECT_EQ(Code(at + With("zone=a+b"), kNoPreview), "invalid_parameter");
  EXPECT_EQ(Code(at + With("variant=x"), kNoPreview), "invalid_parameter");
  EXPECT_EQ(Code(at + With("t.a.b=1"), kNoPreview), "invalid_parameter");
  EXPECT_EQ(Code(at + std::string(kBase), kNoPreview), "preview_disabled");
  EXPECT_EQ(Code(at + std::string(kBase), kPreview), "invalid_parameter");
}

// ----- §11.7 attribute count ----------------------------------------------

TEST(QueryTest, Rule7_SixtyFourAttributesAllowedSixtyFiveNot) {
  const PageRequest r = Ok(With(Attributes(64).substr(1)));
  EXPECT_EQ(r.attributes.size(), 64u);
  const ApiError e = Err(With(Attributes(65).substr(1)));
  EXPECT_EQ(e.code, "too_many_attributes");
  EXPECT_EQ(e.status, 400);
}

TEST(QueryTest, Rule7_CountsDistinctNames) {
  // 64 names, each given three times: still 64.
  const std::string q = With(Attributes(64).substr(1)) + Attributes(64) + Attributes(64);
  const PageRequest r = Ok(q);
  ASSERT_EQ(r.attributes.size(), 64u);
  EXPECT_EQ(r.attributes[63].values, (std::vector<std::string>{"x", "x", "x"}));
}

TEST(QueryTest, Rule7_BuiltInAndBadNamesCount) {
  // Every t.<name> counts, even those dropped (rule 9) or malformed (rule 8).
  EXPECT_EQ(Code(With(Attributes(63) + "&t.tenant=x&t.bad.name=1")), "too_many_attributes");
  EXPECT_EQ(Code(With(Attributes(63) + "&t.tenant=x")), "");
}

// ----- §11.8 attribute names ----------------------------------------------

TEST(QueryTest, Rule8_AttributeNamesMatchPattern) {
  EXPECT_EQ(Code(With("t.bad.name=1")), "invalid_parameter");
  EXPECT_EQ(Code(With("t.=1")), "invalid_parameter");
  EXPECT_EQ(Code(With("t.a+b=1")), "invalid_parameter");
  EXPECT_EQ(Code(With("t." + std::string(64, 'n') + "=1")), "");
  EXPECT_EQ(Code(With("t." + std::string(65, 'n') + "=1")), "invalid_parameter");
  EXPECT_EQ(Code(With("t.A-Z_09=1")), "");
}

// ----- §11.9 built-ins and values -----------------------------------------

TEST(QueryTest, Rule9_BuiltInAttributesDropped) {
  const PageRequest r =
      Ok(With("t.tenant=X&t.channel=Y&t.pageType=Z&t.pageId=P&t.visitorId=V&t.segment=gold"));
  ASSERT_EQ(r.attributes.size(), 1u);
  EXPECT_EQ(r.attributes[0].name, "segment");
  EXPECT_FALSE(r.page_id);  // t.pageId is not pageId
  EXPECT_FALSE(r.visitor_id);
  EXPECT_EQ(r.tenant, "ACME");
}

TEST(QueryTest, Rule9_SingleIsStringRepeatedIsListInOrder) {
  const PageRequest r = Ok(With("t.tags=vip&t.geo=US&t.tags=new&t.tags=vip&t.age="));
  ASSERT_EQ(r.attributes.size(), 3u);
  EXPECT_EQ(r.attributes[0].name, "tags");
  EXPECT_EQ(r.attributes[0].values, (std::vector<std::string>{"vip", "new", "vip"}));
  EXPECT_EQ(r.attributes[1].name, "geo");
  EXPECT_EQ(r.attributes[1].values, std::vector<std::string>{"US"});
  EXPECT_EQ(r.attributes[2].name, "age");
  EXPECT_EQ(r.attributes[2].values, std::vector<std::string>{""});  // empty is a value
}

// ----- §11.10 zones -------------------------------------------------------

TEST(QueryTest, Rule10_ZonesSplitOnCommaEmptyItemsIgnored) {
  EXPECT_EQ(Ok(With("zone=hero%2C%2Cmain%2C&zone=promo&zone=,x,")).zones,
            (std::vector<std::string>{"hero", "main", "promo", "x"}));
  EXPECT_TRUE(Ok(With("zone=")).zones.empty());
  EXPECT_TRUE(Ok(With("zone=,,,")).zones.empty());
  EXPECT_EQ(Ok(With("zone=a&zone=a")).zones, (std::vector<std::string>{"a", "a"}));
}

TEST(QueryTest, Rule10_EachZoneItemMatchesPattern) {
  EXPECT_EQ(Code(With("zone=he+ro")), "invalid_parameter");
  EXPECT_EQ(Code(With("zone=ok,b.ad")), "invalid_parameter");
  EXPECT_EQ(Code(With("zone=" + std::string(64, 'z'))), "");
  EXPECT_EQ(Code(With("zone=" + std::string(65, 'z'))), "invalid_parameter");
  EXPECT_NE(Err(With("zone=ok,fir.st&zone=sec.ond")).message.find("fir.st"), std::string::npos);
}

// ----- §11.11 variants ----------------------------------------------------

TEST(QueryTest, Rule11_VariantSplitAtFirstColon) {
  const PageRequest r = Ok(With("variant=exp-01%3AB&variant=&variant=e.2:v_1&variant=e:c"));
  ASSERT_EQ(r.variants.size(), 3u);
  EXPECT_EQ(r.variants[0], (std::pair<std::string, std::string>{"exp-01", "B"}));
  EXPECT_EQ(r.variants[1], (std::pair<std::string, std::string>{"e.2", "v_1"}));
  EXPECT_EQ(r.variants[2], (std::pair<std::string, std::string>{"e", "c"}));
}

TEST(QueryTest, Rule11_VariantMustMatchPattern) {
  for (const char* bad : {"variant=exp-01", "variant=:B",
                          "variant=exp:", "variant=:", "variant=a:b:c", "variant=a+b:c"}) {
    EXPECT_EQ(Code(With(bad)), "invalid_parameter") << bad;
  }
  EXPECT_EQ(Code(With("variant=" + std::string(128, 'e') + ":" + std::string(127, 'k'))), "");
  EXPECT_EQ(Code(With("variant=" + std::string(127, 'e') + ":" + std::string(128, 'k'))), "");
  // Both parts at their longest make a 257-byte value: the length limit comes first.
  EXPECT_EQ(Code(With("variant=" + std::string(128, 'e') + ":" + std::string(128, 'k'))),
            "value_too_long");
  EXPECT_EQ(Code(With("variant=" + std::string(129, 'e') + ":k")), "invalid_parameter");
}

// ----- §11.12 at ----------------------------------------------------------

TEST(QueryTest, Rule12_AtIsRfc3339WhenPreviewAllowed) {
  const PageRequest r = Ok(With("at=2026-11-22T12%3A00%3A00Z"));
  ASSERT_TRUE(r.at);
  EXPECT_EQ(*r.at, *ParseRfc3339("2026-11-22T12:00:00Z"));
  EXPECT_EQ(*Ok(With("at=2026-11-22T07:00:00.5-05:00")).at,
            *ParseRfc3339("2026-11-22T12:00:00.5Z"));
  for (const char* bad : {"at=yesterday", "at=2026-11-22t12:00:00z", "at=2026-11-22T12:00:00",
                          "at=2026-02-30T00:00:00Z", "at=2026-11-22+12:00:00Z"}) {
    EXPECT_EQ(Code(With(bad)), "invalid_parameter") << bad;
  }
  EXPECT_FALSE(Ok(std::string(kBase)).at);
}

// ----- other properties ---------------------------------------------------

TEST(QueryTest, FullRequestIsParsed) {
  auto result = ParseLayoutQuery(
      "pageType=homepage&tenant=ACME&zone=main&pageId=home-b&channel=ios&zone=promo"
      "&visitorId=v30063&at=2026-11-22T12%3A00%3A00Z&t.age=+42&variant=exp%3Ax",
      1, kPreview);
  ASSERT_TRUE(std::holds_alternative<PageRequest>(result));
  const PageRequest& r = std::get<PageRequest>(result);
  EXPECT_EQ(r.api_version, 1);
  EXPECT_EQ(r.tenant, "ACME");
  EXPECT_EQ(r.channel, "ios");
  EXPECT_EQ(r.page_type, "homepage");
  EXPECT_EQ(r.page_id, "home-b");
  EXPECT_EQ(r.visitor_id, "v30063");
  EXPECT_EQ(r.zones, (std::vector<std::string>{"main", "promo"}));
  ASSERT_EQ(r.variants.size(), 1u);
  EXPECT_TRUE(r.at);
}

TEST(QueryTest, PatternsOfRequiredAndOptionalParameters) {
  EXPECT_EQ(Code("tenant=" + std::string(64, 'T') + "&channel=web&pageType=homepage"), "");
  EXPECT_EQ(Code("tenant=" + std::string(65, 'T') + "&channel=web&pageType=homepage"),
            "invalid_parameter");
  EXPECT_EQ(Code("tenant=ACME&channel=" + std::string(32, 'c') + "&pageType=homepage"), "");
  EXPECT_EQ(Code("tenant=ACME&channel=" + std::string(33, 'c') + "&pageType=homepage"),
            "invalid_parameter");
  EXPECT_EQ(Code("tenant=ACME&channel=WEB&pageType=homepage"), "invalid_parameter");
  EXPECT_EQ(Code("tenant=A.B&channel=web&pageType=homepage"), "invalid_parameter");
  EXPECT_EQ(Code(With("pageId=p%3A1002.x_y-z")), "");
  EXPECT_EQ(Code(With("pageId=" + std::string(128, 'p'))), "");
  EXPECT_EQ(Code(With("pageId=" + std::string(129, 'p'))), "invalid_parameter");
  EXPECT_EQ(Code(With("visitorId=" + std::string(129, 'v'))), "invalid_parameter");
}

TEST(QueryTest, MessagesAreSafeForAnyInput) {
  const ApiError e = Err(With("%FF%FE" + std::string(200, 'n') + "=%zz"));
  for (char c : e.message) EXPECT_TRUE(c >= 0x20 && c <= 0x7E) << e.message;
  EXPECT_LT(e.message.size(), 200u);
}

TEST(QueryTest, LongQueriesDecodeOnTheHeap) {
  // Longer than the inline decode buffer, with escapes throughout.
  std::string q = With("t.note=caf%C3%A9");
  while (q.size() < 5000) q += "&utm=%41%42%43";
  q += "&t.geo=U%53";
  const PageRequest r = Ok(q);
  ASSERT_EQ(r.attributes.size(), 2u);
  EXPECT_EQ(r.attributes[0].values[0], "caf\xC3\xA9");
  EXPECT_EQ(r.attributes[1].values[0], "US");
}

// ----- the golden sample --------------------------------------------------

template <typename JsonValue>
std::string String(JsonValue&& value) {
  std::string_view s;
  if (value.get_string().get(s) != simdjson::SUCCESS) return "<not a string>";
  return std::string(s);
}

TEST(QueryGoldenTest, MatchesRecordedAnswers) {
  const std::string path = std::string(TEMPO_SHARED_DIR) + "/golden/cases.ndjson";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  constexpr size_t kMaxUriBytes = 8192;
  simdjson::ondemand::parser parser;
  std::map<std::string, int> checked;  // expected outcome -> cases
  int skipped = 0, failures = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    simdjson::padded_string padded(line);
    simdjson::ondemand::document doc = parser.iterate(padded);
    const std::string method = String(doc["method"]);
    const std::string target = String(doc["target"]);
    const int64_t status = doc["status"].get_int64();
    const std::string code = status == 200 ? "" : String(doc["code"]);

    const size_t q = target.find('?');
    const std::string path_part = target.substr(0, q);
    const std::string query = q == std::string::npos ? "" : target.substr(q + 1);
    int version = 0;
    if (path_part == "/api/v1/tempo/layouts") version = 1;
    if (path_part == "/api/v2/tempo/layouts") version = 2;
    if (method != "GET" || version == 0 || target.size() > kMaxUriBytes) {
      ++skipped;
      continue;
    }
    const auto result = ParseLayoutQuery(query, version, kPreview);
    const auto* error = std::get_if<ApiError>(&result);
    const std::string got = error ? error->code : "";
    if (status == 400) {
      ++checked[code];
      if (got != code) {
        ++failures;
        ADD_FAILURE() << target << "\n  want " << code << ", got '" << got << "'";
      }
      continue;
    }
    if (status != 200 && code != "unknown_tenant") {
      ++skipped;
      continue;
    }
    ++checked[status == 200 ? "ok (200)" : code];
    if (error) {
      ++failures;
      ADD_FAILURE() << target << "\n  want success, got " << got << ": " << error->message;
      continue;
    }
    if (status == 200 && version == 2) {
      const PageRequest& r = std::get<PageRequest>(result);
      simdjson::ondemand::object body = doc["body"].get_object();
      bool has_page_id = false;
      for (auto field : body) {
        const std::string_view key = field.unescaped_key();
        if (key == "tenant") {
          EXPECT_EQ(r.tenant, String(field.value())) << target;
        } else if (key == "channel") {
          EXPECT_EQ(r.channel, String(field.value())) << target;
        } else if (key == "pageType") {
          EXPECT_EQ(r.page_type, String(field.value())) << target;
        } else if (key == "pageId") {
          has_page_id = true;
          EXPECT_EQ(r.page_id.value_or("<none>"), String(field.value())) << target;
        }
      }
      if (!has_page_id) {
        EXPECT_FALSE(r.page_id) << target;
      }
    }
  }
  int total = 0;
  for (const auto& [outcome, n] : checked) {
    std::printf("golden %-22s %4d cases\n", outcome.c_str(), n);
    total += n;
  }
  std::printf("golden: %d checked, %d failed, %d not for the query parser\n", total, failures,
              skipped);
  EXPECT_GT(total, 2000);
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace tempo::api
