// ECMAScript regular expressions on RE2, for $regex and $regexi (SPEC §11.27).
//
// RE2 matches in time linear in the input, so no pattern can make a request
// slow (no catastrophic backtracking). Patterns are written in ECMAScript
// syntax (non-Unicode mode, with the Annex B web extensions) and translated
// to RE2 syntax with the same meaning: `.` excludes the four line
// terminators, `\s` is JavaScript's whitespace set, a stray `{`, `}` or `]`
// is literal, `\cX`, `\0`, legacy octal, `\xHH` and `\uHHHH` escapes, and
// identity escapes such as `\a` (a letter, not BEL). Features RE2 lacks
// (backreferences, lookahead and lookbehind) and invalid patterns make the
// translation fail, which the caller treats as "the operator is false".
//
// JavaScript matches UTF-16 code units: a character outside the BMP is two
// units that `.`, classes and quantifiers see separately. To keep that
// meaning on RE2 (which matches code points), each surrogate unit is written
// as a private-use stand-in code point, both in the translated pattern and,
// through RegexSubject(), in the text matched.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}  // namespace re2

namespace tempo::cond {

// The RE2 form of ECMAScript pattern source `pattern`, or nullopt when the
// pattern is not valid ECMAScript or needs a feature RE2 does not have.
std::optional<std::string> TranslateEcmaScriptRegex(std::string_view pattern);

// `new RegExp(pattern, ignore_case ? "i" : "")` ready for test(), which is
// an unanchored search: RE2::PartialMatch(RegexSubject(text), *re). nullptr
// when the pattern cannot be compiled.
std::shared_ptr<const re2::RE2> CompileEcmaScriptRegex(std::string_view pattern, bool ignore_case);

// The text to give a compiled pattern for JavaScript string `text`: `text`
// itself unless it holds characters outside the BMP or lone surrogates, which
// are rewritten into `storage` as their code units' stand-ins.
std::string_view RegexSubject(std::string_view text, std::string* storage);

}  // namespace tempo::cond
