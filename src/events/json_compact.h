// Strict JSON validation fused with whitespace removal: the first step of
// every decode (SPEC §11.15 "not UTF-8 or not JSON", §11.17 compaction).
//
// simdjson's On-Demand API checks only what it visits (a skipped `content`
// is never validated), simdjson::minify validates nothing, and the DOM API
// forgets number spellings. One strict pass here makes the rest safe: after
// it, On-Demand can skip and slice the compact text freely.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tempo::events {

// The deepest nesting of arrays and objects accepted (simdjson's default
// maximum depth, so On-Demand never refuses a document this pass accepted).
inline constexpr size_t kMaxJsonDepth = 1024;

// Checks that `text` is exactly one JSON value per RFC 8259 (UTF-8, strict
// grammar: no trailing commas, no leading zeros, no NaN, no comments, no
// unescaped control characters, escapes well formed, at most kMaxJsonDepth
// levels of nesting), optionally surrounded by whitespace, and appends it to
// `*out` with every whitespace byte outside strings removed. Strings, numbers
// and literals are copied byte for byte, so `1E-2`, `-2.50` and `\u00e9`
// survive as written.
//
// On failure returns InvalidArgument with "not valid UTF-8" or
// "not valid JSON (<what> at byte <offset>)"; `*out` then holds a partial
// copy that the caller must discard.
Status CompactJson(std::string_view text, std::string* out);

}  // namespace tempo::events
