// paddedVersionString() of the GrowthBook SDK (util.ts), step for step.
#include "cond/version.h"

#include <algorithm>

#include "cond/js_number.h"

namespace tempo::cond {
namespace {

// padStart(5, " ") for numeric parts.
constexpr size_t kPaddedPartChars = 5;
// SemVer without a pre-release has exactly this many parts.
constexpr size_t kReleaseParts = 3;

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The position just after the last JavaScript line terminator (\n, \r,
// U+2028, U+2029), or 0.
size_t AfterLastLineTerminator(std::string_view s) {
  size_t after = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') {
      after = i + 1;
    } else if (s[i] == '\xE2' && i + 2 < s.size() && s[i + 1] == '\x80' &&
               (s[i + 2] == '\xA8' || s[i + 2] == '\xA9')) {
      after = i + 3;
    }
  }
  return after;
}

void AppendPaddedVersionOfText(std::string_view s, TextBuffer* out) {
  // .replace(/(^v|\+.*$)/g, ""): `.` stops at line terminators, so only a
  // "+" after the last one can reach the end of the string.
  const size_t begin = (!s.empty() && s[0] == 'v') ? 1 : 0;
  size_t end = s.size();
  const size_t plus = s.find('+', std::max(begin, AfterLastLineTerminator(s)));
  if (plus != std::string_view::npos) end = plus;
  const std::string_view core = s.substr(begin, end - begin);

  // .split(/[-.]/)
  const size_t parts = 1 + static_cast<size_t>(std::count_if(core.begin(), core.end(), [](char c) {
                         return c == '-' || c == '.';
                       }));
  size_t part_begin = 0;
  for (size_t i = 0; i < parts; ++i) {
    size_t part_end = core.find_first_of("-.", part_begin);
    if (part_end == std::string_view::npos) part_end = core.size();
    const std::string_view part = core.substr(part_begin, part_end - part_begin);
    if (i > 0) out->push_back('-');
    if (AllDigits(part)) {
      for (size_t pad = part.size(); pad < kPaddedPartChars; ++pad) out->push_back(' ');
    }
    out->append(part);
    part_begin = part_end + 1;
  }
  if (parts == kReleaseParts) out->append("-~");
}

}  // namespace

void AppendPaddedVersion(const Value& v, TextBuffer* out) {
  if (v.is_number()) {
    char buf[kJsNumberBufferBytes];
    AppendPaddedVersionOfText(std::string_view(buf, FormatJsNumber(v.number_value(), buf)), out);
    return;
  }
  if (!v.is_string() || v.string_value().empty()) {
    AppendPaddedVersionOfText("0", out);
    return;
  }
  AppendPaddedVersionOfText(v.string_value(), out);
}

}  // namespace tempo::cond
