// Durations written for people on a command line: "30s", "500ms", "2m".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tempo {

// Parses a whole number followed by a unit: us, ms, s, m or h ("250us", "500ms", "30s",
// "2m", "1h"). InvalidArgument saying what is wrong for anything else (no number, no unit,
// an unknown unit, a sign, a fraction, or a value beyond 10^6 hours).
Result<std::chrono::nanoseconds> ParseDuration(std::string_view text);

// The shortest of those forms that says `d` exactly ("1500ms", "2m"); "0s" for zero. For
// messages and reports that echo a parsed duration.
std::string FormatDuration(std::chrono::nanoseconds d);

}  // namespace tempo
