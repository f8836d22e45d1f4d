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
// as a private-use stand-in code point, both in the translated pattern and in
// the text matched. Likewise with "i", the few BMP characters that RE2's
// case folding pairs but JavaScript's (non-Unicode) canonicalization keeps
// apart (U+017F, U+03F4, U+1E9E, U+2126, U+212A, U+212B and the Greek
// titlecase letters with iota subscript) are given stand-ins of their own.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}  // namespace re2

namespace tempo::cond {

// A compiled `new RegExp(pattern, flags)` with flags "" or "i". Immutable and
// safe to use from many threads.
class EcmaScriptRegex {
 public:
  // nullptr when `pattern` is not valid ECMAScript, needs a feature RE2 lacks,
  // or exceeds RE2's memory budget.
  static std::shared_ptr<const EcmaScriptRegex> Compile(std::string_view pattern, bool ignore_case);

  ~EcmaScriptRegex();
  EcmaScriptRegex(const EcmaScriptRegex&) = delete;
  EcmaScriptRegex& operator=(const EcmaScriptRegex&) = delete;

  // RegExp.prototype.test(text): whether the pattern matches anywhere in
  // `text` (an unanchored search). Time is linear in text.size().
  bool Test(std::string_view text) const;

  // Approximate heap bytes of the compiled program (RE2's program size in
  // instructions times their size, plus the object itself).
  size_t HeapBytes() const;

 private:
  EcmaScriptRegex(std::unique_ptr<re2::RE2> re, bool ignore_case);

  std::unique_ptr<re2::RE2> re_;
  bool ignore_case_;
};

// The RE2 form of ECMAScript pattern source `pattern` (stand-ins included),
// or nullopt when the pattern is not valid ECMAScript or needs a feature RE2
// does not have. Exposed for tests.
std::optional<std::string> TranslateEcmaScriptRegex(std::string_view pattern, bool ignore_case);

// The re2::RE2::ErrorCode (0: none) of compiling `translated`, a result of
// TranslateEcmaScriptRegex, as EcmaScriptRegex::Compile does but with a
// memory budget of `max_mem_bytes`. Exposed for the fuzz target, which checks
// that RE2 refuses a translation only for its size.
int Re2ErrorCompiling(const std::string& translated, bool ignore_case, int64_t max_mem_bytes);

}  // namespace tempo::cond
