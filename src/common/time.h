// Instants: RFC 3339 parsing and the clock, in nanoseconds since the Unix epoch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tempo {

// Nanoseconds since 1970-01-01T00:00:00Z.
using UnixNanos = int64_t;

// Parses an RFC 3339 date-time as SPEC §11.12 defines it:
// "YYYY-MM-DDTHH:MM:SS[.f{0,9}](Z|+HH:MM|-HH:MM)", uppercase T and Z only,
// 0-9 fractional digits (a '.' must be followed by at least one digit),
// calendar-valid date (leap years), hour 00-23, minute 00-59, second 00-59
// (no leap second), offset hours 00-23 and minutes 00-59.
// Returns nullopt for anything else, including trailing bytes.
std::optional<UnixNanos> ParseRfc3339(std::string_view text);

// Appends `at` in UTC as "YYYY-MM-DDTHH:MM:SS[.fraction]Z", the fraction's
// trailing zeros dropped (none when it is 0): what ParseRfc3339 reads back
// to the same instant. Years are those of the whole int64 range (1677-2262).
void AppendRfc3339(UnixNanos at, std::string* out);

// Writes the UTC date and time of second `seconds` since the epoch (before
// 1970 when negative) as "YYYY-MM-DDTHH:MM:SS": kRfc3339SecondBytes
// characters, no terminator. For formats of their own (the log's
// milliseconds).
inline constexpr size_t kRfc3339SecondBytes = 19;
void FormatRfc3339Second(int64_t seconds, char* out);
std::string FormatRfc3339(UnixNanos at);

// The wall clock now.
UnixNanos NowUnixNanos();

}  // namespace tempo
