// Rendering a reconciliation's report (report.h).
#include "reconcile/report.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <initializer_list>
#include <utility>

#include "common/json.h"

namespace tempo::reconcile {
namespace {

// ---- numbers -------------------------------------------------------------------

// The shortest text that reads back as `v` (JSON and Prometheus alike).
void AppendDouble(double v, std::string* out) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;  // 32 bytes hold every double's shortest form
  out->append(buf, end);
}

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, v);
  return buf;
}

// "2026-11-22T12:00:00Z".
std::string Rfc3339(UnixNanos at) {
  const time_t seconds = static_cast<time_t>(at / 1'000'000'000);
  struct tm utc;
  gmtime_r(&seconds, &utc);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

// ---- table ---------------------------------------------------------------------

// "0.1075%": drift for a person.
std::string Percent(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4f%%", ratio * 100);
  return buf;
}

void AppendPadded(std::string_view text, size_t width, bool right, std::string* out) {
  const size_t pad = width > text.size() ? width - text.size() : 0;
  if (right) out->append(pad, ' ');
  out->append(text);
  if (!right) out->append(pad, ' ');
}

void AppendRow(std::string_view name, size_t name_width, const Figures& f, std::string* out) {
  AppendPadded(name, name_width, false, out);
  const int64_t counts[] = {f.records_a, f.records_b, f.missing_in_a, f.missing_in_b, f.differing};
  const size_t widths[] = {11, 11, 14, 14, 11};
  for (size_t i = 0; i < 5; ++i) AppendPadded(std::to_string(counts[i]), widths[i], true, out);
  AppendPadded(Percent(f.drift()), 11, true, out);
  *out += "  ";
  *out += Hex(f.checksum_a);
  *out += "  ";
  *out += Hex(f.checksum_b);
  *out += f.checksum_a == f.checksum_b ? "  =\n" : "  !=\n";
}

std::string DescribeSide(const SideState& s) {
  if (!s.present) return "absent";
  return (s.tombstone ? "tombstone v" : "v") + std::to_string(s.version);
}

// ---- JSON ----------------------------------------------------------------------

void AppendFigures(const Figures& f, std::string* out) {
  *out += "\"records_a\":";
  AppendInt(f.records_a, out);
  *out += ",\"records_b\":";
  AppendInt(f.records_b, out);
  *out += ",\"checksum_a\":\"" + Hex(f.checksum_a) + "\",\"checksum_b\":\"" + Hex(f.checksum_b);
  *out += "\",\"missing_in_a\":";
  AppendInt(f.missing_in_a, out);
  *out += ",\"missing_in_b\":";
  AppendInt(f.missing_in_b, out);
  *out += ",\"differing\":";
  AppendInt(f.differing, out);
  *out += ",\"drift\":";
  AppendDouble(f.drift(), out);
}

void AppendSideState(const SideState& s, std::string* out) {
  if (!s.present) {
    *out += "null";
    return;
  }
  *out += "{\"version\":";
  AppendInt(s.version, out);
  *out += s.tombstone ? ",\"tombstone\":true}" : ",\"tombstone\":false}";
}

// ---- Prometheus ----------------------------------------------------------------

// A label value as the text format escapes it.
void AppendLabelValue(std::string_view v, std::string* out) {
  *out += '"';
  for (char c : v) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '"') {
      *out += "\\\"";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
  *out += '"';
}

// Writes the families of the exposition, each HELP and TYPE once.
class GaugeWriter {
 public:
  explicit GaugeWriter(std::string* out) : out_(out) {}

  void Family(std::string_view name, std::string_view help) {
    name_ = name;
    *out_ += "# HELP ";
    *out_ += name;
    *out_ += ' ';
    *out_ += help;
    *out_ += "\n# TYPE ";
    *out_ += name;
    *out_ += " gauge\n";
  }

  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // A sample of the current family; labels are (name, value) pairs.
  void Sample(Labels labels, double value) {
    AppendName(labels);
    AppendDouble(value, out_);
    *out_ += '\n';
  }
  // An integer sample, written digit for digit (not as 1.7e+09).
  void Count(Labels labels, int64_t value) {
    AppendName(labels);
    AppendInt(value, out_);
    *out_ += '\n';
  }

 private:
  void AppendName(Labels labels) {
    *out_ += name_;
    if (labels.size() > 0) {
      char sep = '{';
      for (const auto& [label, v] : labels) {
        *out_ += sep;
        *out_ += label;
        *out_ += '=';
        AppendLabelValue(v, out_);
        sep = ',';
      }
      *out_ += '}';
    }
    *out_ += ' ';
  }

  std::string* out_;
  std::string name_;
};

}  // namespace

bool WithinThreshold(const Report& report, double threshold) {
  return report.total.drift() <= threshold;
}

std::string RenderTable(const Report& report, const RunInfo& run) {
  size_t name_width = std::string_view("TENANT").size();
  for (const TenantFigures& t : report.tenants) name_width = std::max(name_width, t.tenant.size());
  name_width += 2;
  std::string out;
  AppendPadded("TENANT", name_width, false, &out);
  out +=
      "  RECORDS A  RECORDS B  MISSING IN A  MISSING IN B  DIFFERING      DRIFT  CHECKSUM A"
      "        CHECKSUM B\n";
  for (const TenantFigures& t : report.tenants) AppendRow(t.tenant, name_width, t.figures, &out);
  AppendRow("TOTAL", name_width, report.total, &out);
  if (!report.diffs.empty()) {
    out += "\nDIFFERENCE    RECORD (tenant/kind/id)  A  B\n";
    for (const RecordDiff& d : report.diffs) {
      AppendPadded(DifferenceName(d.difference), 14, false, &out);
      out += RecordKeyName(d.key);
      out += "  A: " + DescribeSide(d.a) + "  B: " + DescribeSide(d.b) + "\n";
    }
    if (report.diffs_omitted > 0) {
      out += "... and " + std::to_string(report.diffs_omitted) +
             " more differences (raise --max-diffs to list them)\n";
    }
  }
  const bool ok = WithinThreshold(report, run.threshold);
  out += "\ndrift ";
  AppendDouble(report.total.drift(), &out);
  out += " (" + std::to_string(report.total.differences()) + " differences) ";
  out += ok ? "<= " : "> ";
  out += "threshold ";
  AppendDouble(run.threshold, &out);
  out += ok ? ": OK\n" : ": OVER THRESHOLD\n";
  return out;
}

std::string RenderJson(const Report& report, const RunInfo& run) {
  std::string out = "{\"a\":";
  AppendJsonString(run.side_a, &out);
  out += ",\"b\":";
  AppendJsonString(run.side_b, &out);
  out += ",\"threshold\":";
  AppendDouble(run.threshold, &out);
  out += ",\"drift\":";
  AppendDouble(report.total.drift(), &out);
  out += WithinThreshold(report, run.threshold) ? ",\"within_threshold\":true"
                                                : ",\"within_threshold\":false";
  out += ",\"finished_at\":\"" + Rfc3339(run.finished_at) + "\",\"elapsed_seconds\":";
  AppendDouble(report.elapsed.count(), &out);
  out += ",\"entries_read\":{\"a\":";
  AppendInt(report.entries_a, &out);
  out += ",\"b\":";
  AppendInt(report.entries_b, &out);
  out += "},\n\"total\":{";
  AppendFigures(report.total, &out);
  out += "},\n\"tenants\":[";
  for (size_t i = 0; i < report.tenants.size(); ++i) {
    const TenantFigures& t = report.tenants[i];
    out += i == 0 ? "\n{\"tenant\":" : ",\n{\"tenant\":";
    AppendJsonString(t.tenant, &out);
    out += ',';
    AppendFigures(t.figures, &out);
    out += ",\"partitions\":[";
    for (size_t j = 0; j < t.partitions.size(); ++j) {
      const PartitionFigures& p = t.partitions[j];
      out += j == 0 ? "{\"channel\":" : ",{\"channel\":";
      AppendJsonString(p.channel, &out);
      out += ",\"page_type\":";
      AppendJsonString(p.page_type, &out);
      out += ',';
      AppendFigures(p.figures, &out);
      out += '}';
    }
    out += "]}";
  }
  out += "],\n\"diffs\":[";
  for (size_t i = 0; i < report.diffs.size(); ++i) {
    const RecordDiff& d = report.diffs[i];
    out += i == 0 ? "\n{\"tenant\":" : ",\n{\"tenant\":";
    AppendJsonString(d.key.tenant, &out);
    out += ",\"kind\":\"";
    out += events::KindName(d.key.kind);
    out += "\",\"id\":";
    AppendJsonString(d.key.id, &out);
    out += ",\"difference\":\"";
    out += DifferenceName(d.difference);
    out += "\",\"a\":";
    AppendSideState(d.a, &out);
    out += ",\"b\":";
    AppendSideState(d.b, &out);
    out += '}';
  }
  out += "],\n\"diffs_omitted\":";
  AppendInt(report.diffs_omitted, &out);
  out += "}\n";
  return out;
}

std::string RenderMetrics(const Report& report, const RunInfo& run) {
  std::string out;
  GaugeWriter w(&out);
  w.Family("tempo_reconcile_drift_ratio",
           "Differences over the larger side's live records of the tenant, at the last run.");
  for (const TenantFigures& t : report.tenants) w.Sample({{"tenant", t.tenant}}, t.figures.drift());
  w.Family("tempo_reconcile_overall_drift_ratio",
           "Differences over the larger side's live records, all tenants, at the last run.");
  w.Sample({}, report.total.drift());
  w.Family("tempo_reconcile_records", "Live records of the tenant on each side.");
  for (const TenantFigures& t : report.tenants) {
    w.Count({{"side", "a"}, {"tenant", t.tenant}}, t.figures.records_a);
    w.Count({{"side", "b"}, {"tenant", t.tenant}}, t.figures.records_b);
  }
  w.Family("tempo_reconcile_differences", "Records of the tenant that differ, by kind.");
  for (const TenantFigures& t : report.tenants) {
    const std::pair<Difference, int64_t> kinds[] = {
        {Difference::kMissingInA, t.figures.missing_in_a},
        {Difference::kMissingInB, t.figures.missing_in_b},
        {Difference::kDiffering, t.figures.differing}};
    for (const auto& [kind, n] : kinds) {
      w.Count({{"kind", DifferenceName(kind)}, {"tenant", t.tenant}}, n);
    }
  }
  w.Family("tempo_reconcile_checksums_match",
           "1 when the checksums of the tenant's live records are equal on both sides.");
  for (const TenantFigures& t : report.tenants) {
    w.Count({{"tenant", t.tenant}}, t.figures.checksum_a == t.figures.checksum_b ? 1 : 0);
  }
  w.Family("tempo_reconcile_threshold_ratio", "The overall drift ratio the run allows.");
  w.Sample({}, run.threshold);
  w.Family("tempo_reconcile_over_threshold", "1 when the overall drift is over the threshold.");
  w.Count({}, WithinThreshold(report, run.threshold) ? 0 : 1);
  w.Family("tempo_reconcile_duration_seconds", "How long the last run took.");
  w.Sample({}, report.elapsed.count());
  w.Family("tempo_reconcile_last_run_timestamp_seconds",
           "When the last run that read both sides finished (Unix time).");
  w.Count({}, run.finished_at / 1'000'000'000);
  return out;
}

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  const auto fail = [&](const std::string& what) {
    const Status s =
        Status::IOError("cannot write " + path + ": " + what + ": " + std::strerror(errno));
    ::unlink(temp.c_str());
    return s;
  };
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot write " + path + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return fail("write");
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return fail("fsync");
  }
  if (::close(fd) != 0) return fail("close");
  if (::rename(temp.c_str(), path.c_str()) != 0) return fail("rename");
  return Status::OK();
}

}  // namespace tempo::reconcile
