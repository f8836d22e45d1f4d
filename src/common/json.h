// Small JSON output helpers shared by renderers (the hot path builds bytes directly).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tempo {

// Appends `s` (UTF-8) to `out` as a JSON string literal: quotes, `\"`, `\\`,
// and control characters escaped (\n, \t, ..., \u00XX); other bytes verbatim.
void AppendJsonString(std::string_view s, std::string* out);

// Appends the decimal form of `v`.
void AppendInt(int64_t v, std::string* out);

}  // namespace tempo
