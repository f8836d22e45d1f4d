// ECMAScript regexes on RE2: each expectation is what JavaScript's
// new RegExp(pattern, flags).test(subject) answers.
#include "cond/regex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "cond/js_string.h"

namespace tempo::cond {
namespace {

// 1: matches, 0: does not match, -1: the pattern does not compile.
int Match(std::string_view pattern, std::string_view subject, bool ignore_case = false) {
  auto re = EcmaScriptRegex::Compile(pattern, ignore_case);
  if (re == nullptr) return -1;
  return re->Test(subject) ? 1 : 0;
}

std::string Unit(uint32_t unit) {
  std::string s;
  AppendUtf8(unit, &s);
  return s;
}

TEST(CondRegexTest, TestIsAnUnanchoredSearch) {
  EXPECT_EQ(Match("(Mobile|Tablet)", "Android Mobile Browser"), 1);
  EXPECT_EQ(Match("^Mobile", "Android Mobile"), 0);
  EXPECT_EQ(Match("-12-25$", "1980-12-25"), 1);
  EXPECT_EQ(Match("", "anything"), 1);
}

TEST(CondRegexTest, DotExcludesTheFourLineTerminators) {
  EXPECT_EQ(Match(".", "\n"), 0);
  EXPECT_EQ(Match(".", "\r"), 0);
  EXPECT_EQ(Match(".", "\u2028"), 0);
  EXPECT_EQ(Match(".", "\u2029"), 0);
  EXPECT_EQ(Match(".", "\u0085"), 1);
  EXPECT_EQ(Match("^[^]$", "\n"), 1);
}

TEST(CondRegexTest, WhitespaceClassIsJavaScripts) {
  EXPECT_EQ(Match("^\\s$", "\u00A0"), 1);
  EXPECT_EQ(Match("^\\s$", "\uFEFF"), 1);
  EXPECT_EQ(Match("^\\s$", "\v"), 1);
  EXPECT_EQ(Match("^\\S$", "\u200B"), 1);
  EXPECT_EQ(Match("^[\\s]+$", "\u3000 \t"), 1);
  EXPECT_EQ(Match("^[^\\s]$", "\u00A0"), 0);
  EXPECT_EQ(Match("^[\\S]$", "x"), 1);
}

TEST(CondRegexTest, AnnexBLiterals) {
  EXPECT_EQ(Match("a{", "a{"), 1);
  EXPECT_EQ(Match("}", "}"), 1);
  EXPECT_EQ(Match("]", "]"), 1);
  EXPECT_EQ(Match("a{1", "a{1"), 1);
  EXPECT_EQ(Match("o{2}", "foo"), 1);
  EXPECT_EQ(Match("\\u{41}", std::string(41, 'u')), 1);  // u repeated 41 times
  EXPECT_EQ(Match("\\u{41}", std::string(40, 'u')), 0);
}

TEST(CondRegexTest, Escapes) {
  EXPECT_EQ(Match("\\cJ", "\n"), 1);
  EXPECT_EQ(Match("\\c", "\\c"), 1);  // no control letter: a backslash and "c"
  EXPECT_EQ(Match("\\x41", "A"), 1);
  EXPECT_EQ(Match("\\x4", "x4"), 1);
  EXPECT_EQ(Match("\\u0041", "A"), 1);
  EXPECT_EQ(Match("\\101", "A"), 1);  // legacy octal
  EXPECT_EQ(Match("\\0", std::string(1, '\0')), 1);
  EXPECT_EQ(Match("\\1", "\x01"), 1);  // no group 1: octal
  EXPECT_EQ(Match("\\8", "8"), 1);
  EXPECT_EQ(Match("\\a", "a"), 1);  // identity, not BEL
  EXPECT_EQ(Match("\\e", "e"), 1);
  EXPECT_EQ(Match("\\k", "k"), 1);
  EXPECT_EQ(Match("\\p{L}", "p{L}"), 1);
  EXPECT_EQ(Match("[\\b]", "\b"), 1);
  EXPECT_EQ(Match("\\bfoo\\b", "a foo b"), 1);
  EXPECT_EQ(Match("a/b", "a/b"), 1);
  EXPECT_EQ(Match("a\\/b", "a/b"), 1);
  EXPECT_EQ(Match("\\.", "x"), 0);
}

TEST(CondRegexTest, NonBoundaryNeverFallsInsideACharacter) {
  EXPECT_EQ(Match("\\B", "0\u1E9Ev"), 0);  // every position is a boundary
  EXPECT_EQ(Match("\\B", "ab"), 1);
  EXPECT_EQ(Match("a\\Bb", "xab"), 1);
  EXPECT_EQ(Match("\\B\\u00e9", "\u00e9\u00e9"), 1);  // between two non-word characters
  EXPECT_EQ(Match("^\\B", "\u00e9"), 1);
  EXPECT_EQ(Match("\\B$", "a"), 0);
}

TEST(CondRegexTest, CharacterClasses) {
  EXPECT_EQ(Match("^[]$", ""), 0);
  EXPECT_EQ(Match("[]", "a"), 0);
  EXPECT_EQ(Match("[\\d-z]", "-"), 1);  // a class escape in a range: union with "-"
  EXPECT_EQ(Match("^[a-c]+$", "abcb"), 1);
  EXPECT_EQ(Match("[^a-c]", "abc"), 0);
  EXPECT_EQ(Match("[.]", "x"), 0);
  EXPECT_EQ(Match("[\\]]", "]"), 1);
}

TEST(CondRegexTest, UnsupportedOrInvalidPatternsDoNotCompile) {
  EXPECT_EQ(Match("(a)\\1", "aa"), -1);          // backreference: RE2 has none
  EXPECT_EQ(Match("(?=a)", "a"), -1);            // lookahead
  EXPECT_EQ(Match("(?<=a)b", "ab"), -1);         // lookbehind
  EXPECT_EQ(Match("(?<n>a)\\k<n>", "aa"), -1);   // named backreference
  EXPECT_EQ(Match("(?<n>a)(?<n>b)", "ab"), -1);  // repeated name
  for (std::string_view bad :
       {"?", "(", "[", "a**", "{2}", "x{2,1}", "[z-a]", "\\", "(?i)a", ")", "^*", "\\b+"}) {
    EXPECT_EQ(Match(bad, "a"), -1) << bad;
  }
}

TEST(CondRegexTest, NamedGroupsAreFine) { EXPECT_EQ(Match("(?<year>\\d{4})-", "2024-01"), 1); }

TEST(CondRegexTest, CharactersOutsideTheBmpAreTwoCodeUnits) {
  EXPECT_EQ(Match("^.$", "😀"), 0);
  EXPECT_EQ(Match("^..$", "😀"), 1);
  EXPECT_EQ(Match("😀+", "😀"), 1);
  EXPECT_EQ(Match("^😀*$", Unit(0xD83D)), 1);  // the quantifier applies to the low half
  EXPECT_EQ(Match("[😀]", Unit(0xDE00)), 1);
  EXPECT_EQ(Match("^[😀]$", "😀"), 0);
  EXPECT_EQ(Match("\\ud83d\\ude00", "😀"), 1);
  EXPECT_EQ(Match("^\\W\\W$", "😀"), 1);
  EXPECT_EQ(Match("[😀-😂]", "😁"), -1);  // a range from \ude00 to \ud83d: out of order
}

TEST(CondRegexTest, IgnoreCaseFollowsJavaScriptCanonicalization) {
  EXPECT_EQ(Match("K", "k", true), 1);
  EXPECT_EQ(Match("é", "É", true), 1);
  EXPECT_EQ(Match("Σ", "ς", true), 1);
  EXPECT_EQ(Match("[a-z]", "K", true), 1);
  // Pairs RE2 would fold but JavaScript's non-Unicode /i keeps apart.
  EXPECT_EQ(Match("ß", "ẞ", true), 0);
  EXPECT_EQ(Match("s", "ſ", true), 0);
  EXPECT_EQ(Match("k", "\u212A", true), 0);
  EXPECT_EQ(Match("[a-z]", "\u212A", true), 0);
  EXPECT_EQ(Match("\u00E5", "\u212B", true), 0);
  EXPECT_EQ(Match("[^k]", "\u212A", true), 1);
  EXPECT_EQ(Match("\u212A", "\u212A", true), 1);
  EXPECT_EQ(Match("𐐀", "𐐨", true), 0);  // no folding outside the BMP
}

TEST(CondRegexTest, CatastrophicBacktrackingPatternsRunInLinearTime) {
  const std::string subject = std::string(200000, 'a') + "!";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Match("^(a+)+$", subject), 0);
  EXPECT_EQ(Match("(a|aa)*c", subject), 0);
  EXPECT_EQ(Match("^(a*)*$", subject), 0);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // A backtracking engine would need ~2^200000 steps; RE2 needs milliseconds.
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

TEST(CondRegexTest, TranslationSpellsJavaScriptMeaning) {
  EXPECT_EQ(TranslateEcmaScriptRegex("a{", false), "a\\x{7B}");
  EXPECT_EQ(TranslateEcmaScriptRegex("(?<n>x)", false), "(?P<n>x)");
  EXPECT_FALSE(TranslateEcmaScriptRegex("(?=x)", false).has_value());
}

}  // namespace
}  // namespace tempo::cond
