// What `tempo reconcile` writes about a Report (reconcile.h): a table for a
// person, a JSON document for a program, and a Prometheus text file for
// node_exporter's textfile collector, which is how a scheduled run feeds an
// alert.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time.h"
#include "reconcile/reconcile.h"

namespace tempo::reconcile {

// The run a report comes from.
struct RunInfo {
  std::string side_a;  // what was read, as the user named it (passwords removed)
  std::string side_b;
  double threshold = 0.001;  // the drift ratio above which the run fails
  UnixNanos finished_at = 0;
};

// True when the overall drift is at most the threshold (exactly at it passes).
bool WithinThreshold(const Report& report, double threshold);

// The table for stdout: one line per tenant (live records and checksums on
// each side, differences by kind, drift), a TOTAL line, the listed
// differences with the versions on each side, and the verdict.
std::string RenderTable(const Report& report, const RunInfo& run);

// The JSON document of --report: the same figures, per tenant and per
// partition, checksums as 16 hex digits (they do not fit a JSON number),
// and the listed differences:
//   {"a":"...","b":"...","threshold":0.001,"drift":0,"within_threshold":true,
//    "finished_at":"2026-11-22T12:00:00Z","elapsed_seconds":1.5,
//    "entries_read":{"a":N,"b":N},
//    "total":{"records_a":N,"records_b":N,"checksum_a":"0123456789abcdef",
//             "checksum_b":"...","missing_in_a":N,"missing_in_b":N,"differing":N,
//             "drift":0},
//    "tenants":[{"tenant":"ACME",<the figures as in total>,
//                "partitions":[{"channel":"web","page_type":"homepage",<figures>}]}],
//    "diffs":[{"tenant":"ACME","kind":"module","id":"m1","difference":"differing",
//              "a":{"version":3,"tombstone":false},"b":{"version":4,"tombstone":false}}],
//    "diffs_omitted":0}
// A side without an entry for the key is null in its diff.
std::string RenderJson(const Report& report, const RunInfo& run);

// The Prometheus text exposition of --metrics-out (all gauges):
//   tempo_reconcile_drift_ratio{tenant}          per tenant
//   tempo_reconcile_overall_drift_ratio          all tenants together (what the exit status uses)
//   tempo_reconcile_records{side="a|b",tenant}   live records
//   tempo_reconcile_differences{kind,tenant}     kind: missing_in_a, missing_in_b, differing
//   tempo_reconcile_checksums_match{tenant}      1 when both sides' checksums are equal
//   tempo_reconcile_threshold_ratio, tempo_reconcile_over_threshold (0 or 1),
//   tempo_reconcile_duration_seconds, tempo_reconcile_last_run_timestamp_seconds.
std::string RenderMetrics(const Report& report, const RunInfo& run);

// Replaces the file at `path` with `contents` atomically: writes a temporary
// file beside it, flushes it to disk and renames it over `path`, so that a
// reader (the textfile collector) sees the old file or the new one, never a
// part. IOError "cannot write PATH: reason"; the temporary file is removed.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace tempo::reconcile
