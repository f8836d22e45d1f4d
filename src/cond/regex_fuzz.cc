// libFuzzer target for the ECMAScript-to-RE2 regex translation (regex.h),
// which $regex and $regexi run on patterns from published conditions.
//
// Input: one flags byte ('i': ignore case; anything else: none), then the
// pattern up to the first NUL byte, then the text to test (empty without a
// NUL). Beyond "no crash", it checks that a translation RE2 rejects is only
// ever rejected for size (the budget, or a repetition count RE2 does not
// take), never as malformed RE2 syntax; that Compile() succeeds exactly when
// the translation does and RE2 accepts it; and that Test() is deterministic.
#include <re2/re2.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cond/regex.h"
#include "testing/fuzz_check.h"

namespace {

using tempo::testing::FuzzCheck;

// A budget far above kRegexMaxMemBytes: a translation that fails even with
// it is failing for its syntax, not its size.
constexpr int64_t kGenerousMaxMemBytes = int64_t{256} << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tempo::cond::EcmaScriptRegex;
  if (size == 0) return 0;
  const bool ignore_case = data[0] == 'i';
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t nul = rest.find('\0');
  const std::string_view pattern = rest.substr(0, nul);
  const std::string_view text = nul == std::string_view::npos ? "" : rest.substr(nul + 1);

  const std::optional<std::string> translated =
      tempo::cond::TranslateEcmaScriptRegex(pattern, ignore_case);
  const auto regex = EcmaScriptRegex::Compile(pattern, ignore_case);
  if (!translated) {
    FuzzCheck(regex == nullptr);
    return 0;
  }
  if (regex == nullptr) {
    const int error =
        tempo::cond::Re2ErrorCompiling(*translated, ignore_case, kGenerousMaxMemBytes);
    FuzzCheck(error == re2::RE2::NoError || error == re2::RE2::ErrorPatternTooLarge ||
              error == re2::RE2::ErrorRepeatSize);
    return 0;
  }
  const bool matched = regex->Test(text);
  FuzzCheck(regex->Test(text) == matched);
  FuzzCheck(regex->HeapBytes() > 0);
  // The empty pattern and ".*"-like ones aside, nothing is known about a
  // match; these calls only must not crash.
  (void)regex->Test(pattern);
  (void)regex->Test("");
  return 0;
}
