// MetricsWriter: builds a Prometheus text exposition (format version 0.0.4), the body of
// the admin listener's GET /metrics.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/histogram.h"

namespace tempo::admin {

// The Content-Type of a text exposition.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// One label of a sample: name="value".
struct Label {
  std::string_view name;
  std::string_view value;
};
using Labels = std::vector<Label>;

// A sample value. Integers are kept exact (a uint64 counter past 2^53 is printed digit
// for digit, not through a double); doubles are printed in their shortest round-trip
// form, NaN and infinities as Prometheus spells them (NaN, +Inf, -Inf).
class SampleValue {
 public:
  // Implicit, so that callers pass plain numbers: Counter("x_total", "...", n).
  template <std::integral T>
  SampleValue(T v)
      : value_(std::is_signed_v<T> ? Value(static_cast<int64_t>(v))
                                   : Value(static_cast<uint64_t>(v))) {}
  SampleValue(double v) : value_(v) {}

  // Appends the value as the exposition spells it.
  void AppendTo(std::string* out) const;
  // True when the value may be a counter's: not negative, not NaN.
  bool IsValidCounter() const;

 private:
  using Value = std::variant<int64_t, uint64_t, double>;
  Value value_;
};

// Collects samples and renders them grouped by family: the HELP and TYPE lines of a
// family are written once, followed by all its samples, in the order families were
// first seen, whatever order the samples were added in.
//
// Metric and label names are the caller's constants: they are checked with assert()
// (IsValidMetricName / IsValidLabelName), so a typo fails debug builds. Label values
// are arbitrary bytes and escaped (\\, \", \n).
//
// Not safe for concurrent use: one writer per exposition.
class MetricsWriter {
 public:
  MetricsWriter() = default;
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;

  // Adds a sample of the counter family `name` (by convention ending in _total).
  // `help` is used when the family is first seen; empty means no HELP line.
  // REQUIRES: value is neither negative nor NaN; `name` is not already a gauge.
  void Counter(std::string_view name, std::string_view help, SampleValue value,
               const Labels& labels = {});
  // Adds a sample of the gauge family `name`; as Counter otherwise.
  void Gauge(std::string_view name, std::string_view help, SampleValue value,
             const Labels& labels = {});
  // Adds one series of the histogram family `name` (by convention ending in _seconds): the
  // cumulative `name_bucket{labels...,le="B"}` of each bound B in seconds and le="+Inf", then
  // `name_sum` (seconds) and `name_count`, all with `labels`. As Counter otherwise.
  // REQUIRES: `labels` has no "le"; `name` is not already a counter or gauge.
  void Histogram(std::string_view name, std::string_view help, const HistogramSnapshot& snapshot,
                 const Labels& labels = {});

  // Returns the exposition of everything added so far and empties the writer.
  std::string Take();

 private:
  struct Family {
    std::string name;
    std::string help;
    std::string_view type;  // "counter", "gauge" or "histogram"
    std::string samples;    // rendered sample lines
  };
  void Add(std::string_view type, std::string_view name, std::string_view help, SampleValue value,
           const Labels& labels);
  // The family `name`, added (with `help`) when first seen. REQUIRES: not of another type.
  Family& FamilyOf(std::string_view type, std::string_view name, std::string_view help);

  std::vector<Family> families_;                     // in order of first appearance
  std::unordered_map<std::string, size_t> by_name_;  // index into families_
};

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved for Prometheus itself).
bool IsValidLabelName(std::string_view name);

}  // namespace tempo::admin
