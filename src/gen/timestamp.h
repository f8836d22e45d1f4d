// RFC 3339 formatting for generated schedules and publish times.
#pragma once

#include <cstdint>
#include <string>

namespace tempo::gen {

constexpr int64_t kSecondsPerDay = 86'400;

// Seconds since the Unix epoch of y-m-d 00:00:00Z (proleptic Gregorian).
int64_t UnixSecondsOf(int year, int month, int day);

// Appends `unix_seconds` + `nanos` as "YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM)".
// `fraction_digits` (0-9) leading digits of the nanoseconds are written (the
// rest are dropped); the wall-clock fields are shifted by `offset_minutes`,
// written as "Z" when it is 0 and `zulu` is true, else as a numeric offset.
// REQUIRES: nanos < 1e9, 0 <= fraction_digits <= 9, |offset_minutes| < 24*60.
void AppendRfc3339(int64_t unix_seconds, uint32_t nanos, int fraction_digits, int offset_minutes,
                   bool zulu, std::string* out);

}  // namespace tempo::gen
