// ParseDuration and FormatDuration.
#include "common/duration.h"

#include <array>
#include <cstdint>

namespace tempo {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t ns;
};

// Largest first, for FormatDuration; ParseDuration matches suffixes exactly.
constexpr std::array<Unit, 5> kUnits = {{{"h", 3'600'000'000'000},
                                         {"m", 60'000'000'000},
                                         {"s", 1'000'000'000},
                                         {"ms", 1'000'000},
                                         {"us", 1'000}}};

// 10^6 hours in nanoseconds (3.6e18) still fits an int64 (9.2e18).
constexpr int64_t kMaxNs = int64_t{1'000'000} * 3'600'000'000'000;

}  // namespace

Result<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) {
    return Status::InvalidArgument("duration " + quoted +
                                   ": expected a whole number and a unit (us, ms, s, m, h)");
  }
  const std::string_view suffix = text.substr(digits);
  for (const Unit& unit : kUnits) {
    if (suffix != unit.suffix) continue;
    int64_t value = 0;
    for (size_t i = 0; i < digits; ++i) {
      value = value * 10 + (text[i] - '0');
      if (value > kMaxNs / unit.ns) {
        return Status::InvalidArgument("duration " + quoted + ": too long");
      }
    }
    return std::chrono::nanoseconds(value * unit.ns);
  }
  return Status::InvalidArgument("duration " + quoted +
                                 (suffix.empty() ? ": missing unit" : ": unknown unit") +
                                 " (expected us, ms, s, m or h)");
}

std::string FormatDuration(std::chrono::nanoseconds d) {
  const int64_t ns = d.count();
  if (ns == 0) return "0s";
  for (const Unit& unit : kUnits) {
    if (ns % unit.ns == 0) return std::to_string(ns / unit.ns) + std::string(unit.suffix);
  }
  return std::to_string(ns) + "ns";
}

}  // namespace tempo
