// Decoding of one query-string component (application/x-www-form-urlencoded)
// into strict UTF-8, as SPEC §11.1 requires of every parameter name and value.
#pragma once

#include <optional>
#include <string_view>

namespace tempo::api {

// Returns true if `text` is well-formed UTF-8 in the strict sense of Unicode
// (Table 3-7): no overlong forms, no surrogates (U+D800..U+DFFF), nothing
// above U+10FFFF, no truncated sequences. The empty string is valid.
bool IsValidUtf8(std::string_view text);

// Percent-decodes `raw` with '+' meaning a space and checks that the result
// is valid UTF-8 (IsValidUtf8). Hex digits may be either case.
//
// Returns the decoded text, or nullopt if `raw` holds a malformed escape
// ('%' not followed by two hex digits, e.g. "%zz", "%4", a trailing '%') or
// decodes to invalid UTF-8. When `raw` holds no '%' and no '+', the result is
// `raw` itself and nothing is written; otherwise the decoded bytes are written
// at `out` (never more than raw.size() of them) and the result views them.
//
// REQUIRES: `out` points to at least raw.size() writable bytes that do not
// overlap `raw`.
std::optional<std::string_view> DecodeFormComponent(std::string_view raw, char* out);

}  // namespace tempo::api
