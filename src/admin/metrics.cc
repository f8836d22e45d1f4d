// MetricsWriter: the Prometheus text exposition format, version 0.0.4.
#include "admin/metrics.h"

#include <cassert>
#include <charconv>
#include <chrono>
#include <cmath>

namespace tempo::admin {
namespace {

bool IsNameChar(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         (allow_colon && c == ':');
}

bool IsValidName(std::string_view name, bool allow_colon) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    if (!IsNameChar(c, allow_colon)) return false;
  }
  return true;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void AppendEscaped(std::string_view s, bool escape_quote, std::string* out) {
  for (char c : s) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && escape_quote) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

template <typename T>
void AppendNumber(T v, std::string* out) {
  char buf[32];  // enough for any int64, uint64 or shortest round-trip double
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

// A bucket bound in seconds, in the shortest fixed notation that reads back to the same
// double: le="0.00005", le="2.5", le="60" (what the Prometheus documentation shows; servers
// compare le values as numbers).
void AppendBound(std::chrono::nanoseconds bound, std::string* out) {
  char buf[48];  // a 1 ns bound is 0.000000001; the largest int64 of ns about 9.2e9 s
  const double seconds = static_cast<double>(bound.count()) / 1e9;
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, seconds, std::chars_format::fixed);
  out->append(buf, end);
}

// One sample line: name+suffix{labels,extra} value.
void AppendSample(std::string_view name, std::string_view suffix, const Labels& labels,
                  const Label* extra, const SampleValue& value, std::string* out) {
  out->append(name);
  out->append(suffix);
  if (!labels.empty() || extra != nullptr) {
    out->push_back('{');
    bool first = true;
    const auto append_label = [&](const Label& label) {
      assert(IsValidLabelName(label.name));
      if (!first) out->push_back(',');
      first = false;
      out->append(label.name);
      out->append("=\"");
      AppendEscaped(label.value, /*escape_quote=*/true, out);
      out->push_back('"');
    };
    for (const Label& label : labels) append_label(label);
    if (extra != nullptr) append_label(*extra);
    out->push_back('}');
  }
  out->push_back(' ');
  value.AppendTo(out);
  out->push_back('\n');
}

}  // namespace

bool IsValidMetricName(std::string_view name) { return IsValidName(name, true); }

bool IsValidLabelName(std::string_view name) {
  return IsValidName(name, false) && !name.starts_with("__");
}

void SampleValue::AppendTo(std::string* out) const {
  if (const double* d = std::get_if<double>(&value_)) {
    if (std::isnan(*d)) {
      out->append("NaN");
    } else if (std::isinf(*d)) {
      out->append(*d > 0 ? "+Inf" : "-Inf");
    } else {
      AppendNumber(*d, out);
    }
    return;
  }
  std::visit([out](auto v) { AppendNumber(v, out); }, value_);
}

bool SampleValue::IsValidCounter() const {
  if (const int64_t* i = std::get_if<int64_t>(&value_)) return *i >= 0;
  if (const double* d = std::get_if<double>(&value_)) return *d >= 0;  // false for NaN
  return true;
}

void MetricsWriter::Counter(std::string_view name, std::string_view help, SampleValue value,
                            const Labels& labels) {
  assert(value.IsValidCounter());
  Add("counter", name, help, value, labels);
}

void MetricsWriter::Gauge(std::string_view name, std::string_view help, SampleValue value,
                          const Labels& labels) {
  Add("gauge", name, help, value, labels);
}

void MetricsWriter::Histogram(std::string_view name, std::string_view help,
                              const HistogramSnapshot& snapshot, const Labels& labels) {
  Family& family = FamilyOf("histogram", name, help);
  for ([[maybe_unused]] const Label& label : labels) assert(label.name != "le");
  std::string bound;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < snapshot.bounds.size(); ++i) {
    if (i < snapshot.bucket_counts.size()) cumulative += snapshot.bucket_counts[i];
    bound.clear();
    AppendBound(snapshot.bounds[i], &bound);
    const Label le{"le", bound};
    AppendSample(name, "_bucket", labels, &le, cumulative, &family.samples);
  }
  const Label inf{"le", "+Inf"};
  AppendSample(name, "_bucket", labels, &inf, snapshot.count, &family.samples);
  AppendSample(name, "_sum", labels, nullptr, snapshot.sum_seconds, &family.samples);
  AppendSample(name, "_count", labels, nullptr, snapshot.count, &family.samples);
}

MetricsWriter::Family& MetricsWriter::FamilyOf(std::string_view type, std::string_view name,
                                               std::string_view help) {
  assert(IsValidMetricName(name));
  auto [it, inserted] = by_name_.try_emplace(std::string(name), families_.size());
  if (inserted) families_.push_back({std::string(name), std::string(help), type, {}});
  Family& family = families_[it->second];
  assert(family.type == type);  // one name, one type
  return family;
}

void MetricsWriter::Add(std::string_view type, std::string_view name, std::string_view help,
                        SampleValue value, const Labels& labels) {
  Family& family = FamilyOf(type, name, help);
  AppendSample(name, "", labels, nullptr, value, &family.samples);
}

std::string MetricsWriter::Take() {
  std::string out;
  for (const Family& family : families_) {
    if (!family.help.empty()) {
      out.append("# HELP ").append(family.name).push_back(' ');
      AppendEscaped(family.help, /*escape_quote=*/false, &out);
      out.push_back('\n');
    }
    out.append("# TYPE ").append(family.name).push_back(' ');
    out.append(family.type).push_back('\n');
    out.append(family.samples);
  }
  families_.clear();
  by_name_.clear();
  return out;
}

}  // namespace tempo::admin
