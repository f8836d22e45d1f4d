// `tempo reconcile --a URI --b URI`: compares two stores (or export files) record by record.
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/time.h"
#include "reconcile/export_file.h"
#include "reconcile/reconcile.h"
#include "reconcile/report.h"
#include "serve/store_uri.h"

namespace tempo::cli {
namespace {

// The exit statuses of `tempo reconcile`.
constexpr int kExitWithinThreshold = 0;
// A side cannot be read; or the results cannot be written and the drift is
// within the threshold (over it, the alert's 3 wins: a job that alerts on 3
// must not miss drift because a report file could not be written).
constexpr int kExitError = 1;
constexpr int kExitOverThreshold = 3;

struct ReconcileFlags {
  std::string a;
  std::string b;
  double threshold = 0.001;
  std::string report;
  std::string metrics_out;
  size_t max_diffs = 1000;
};

// `uri` with the password of a postgres://USER:PASSWORD@HOST URI replaced by
// "***", for messages and reports.
std::string WithoutPassword(const std::string& uri) {
  const size_t scheme = uri.find("://");
  if (scheme == std::string::npos) return uri;
  const size_t authority = scheme + 3;
  const size_t at = uri.find('@', authority);
  const size_t slash = uri.find('/', authority);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return uri;
  const size_t colon = uri.find(':', authority);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon + 1) + "***" + uri.substr(at);
}

// One side: the store it reads (kept open while it is read), and its records.
struct Side {
  std::unique_ptr<origin::Origin> store;
  reconcile::RecordSource records;
};

// Opens a side: a path to something other than a directory (a file, or a
// pipe such as /dev/stdin or a shell's <(...)) is an export file; anything
// else a store, opened read-only (nothing is created or changed, no lock is
// taken).
Result<Side> OpenSide(const std::string& uri) {
  Side side;
  struct stat st;
  if (uri.find("://") == std::string::npos && ::stat(uri.c_str(), &st) == 0 &&
      !S_ISDIR(st.st_mode)) {
    side.records = reconcile::ExportFileRecords(uri);
    return side;
  }
  auto store = serve::OpenStoreReadOnly(uri);
  if (!store.ok()) return store.status();
  side.store = std::move(*store);
  side.records = reconcile::OriginRecords(side.store.get());
  return side;
}

int RunReconcile(const ReconcileFlags& f) {
  reconcile::ReconcileOptions options;
  options.max_diffs = f.max_diffs;
  reconcile::RunInfo run;
  run.side_a = WithoutPassword(f.a);
  run.side_b = WithoutPassword(f.b);
  run.threshold = f.threshold;
  options.name_a = "side A (" + run.side_a + ")";
  options.name_b = "side B (" + run.side_b + ")";

  auto a = OpenSide(f.a);
  if (!a.ok()) {
    std::cerr << "tempo reconcile: " << options.name_a << ": " << a.status().message() << "\n";
    return kExitError;
  }
  auto b = OpenSide(f.b);
  if (!b.ok()) {
    std::cerr << "tempo reconcile: " << options.name_b << ": " << b.status().message() << "\n";
    return kExitError;
  }

  const bool tty = ::isatty(STDERR_FILENO) != 0;
  if (tty) {
    options.progress = [](const reconcile::Progress& p) {
      std::cerr << "\rtempo reconcile: read " << p.entries_a << " (A) and " << p.entries_b
                << " (B) records, " << p.differences << " differences" << std::flush;
    };
  }
  auto report = reconcile::Reconcile(std::move(a->records), std::move(b->records), options);
  if (tty) std::cerr << "\r\033[K" << std::flush;  // clear the progress line
  if (!report.ok()) {
    std::cerr << "tempo reconcile: " << report.status().message() << "\n";
    return kExitError;
  }
  run.finished_at = NowUnixNanos();

  int exit_code =
      reconcile::WithinThreshold(*report, f.threshold) ? kExitWithinThreshold : kExitOverThreshold;
  // A result that cannot be written is named; it fails a run within the
  // threshold, and leaves an over-threshold run's 3 (see kExitError).
  auto written = [&exit_code](const Status& s) {
    if (s.ok()) return;
    std::cerr << "tempo reconcile: " << s.message() << "\n";
    if (exit_code == kExitWithinThreshold) exit_code = kExitError;
  };
  std::cout << reconcile::RenderTable(*report, run);
  written(FlushOutput(std::cout, "stdout"));
  if (!f.report.empty()) {
    written(reconcile::WriteFileAtomically(f.report, reconcile::RenderJson(*report, run)));
  }
  if (!f.metrics_out.empty()) {
    written(reconcile::WriteFileAtomically(f.metrics_out, reconcile::RenderMetrics(*report, run)));
  }
  return exit_code;
}

}  // namespace

void RegisterReconcile(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "reconcile",
      "Compare the live records of two stores (or export files) by record key: counts and "
      "checksums per tenant and partition, and the records missing on either side or differing. "
      "Exits 0 when the drift (differences / the larger side's records) is at most --threshold, "
      "3 when it is over, 1 when a side cannot be read.");
  auto flags = std::make_shared<ReconcileFlags>();
  cmd->add_option("--a", flags->a,
                  "Side A: a store (DIR, rocksdb:///DIR, postgres://USER@HOST:PORT/DB) or an "
                  "NDJSON export file sorted by record key, as tempo export writes it (any path "
                  "that is not a directory, /dev/stdin included)")
      ->required();
  cmd->add_option("--b", flags->b, "Side B, as --a")->required();
  cmd->add_option("--threshold", flags->threshold,
                  "Largest drift ratio that passes (0.001 = 0.1 %); exactly at it passes. A "
                  "drift is at most 2 (every record missing on one side or the other)")
      ->default_val(flags->threshold)
      ->check(CLI::Range(0.0, 2.0));
  cmd->add_option("--report", flags->report, "Write the figures and differences as JSON here");
  cmd->add_option("--metrics-out", flags->metrics_out,
                  "Write the figures in Prometheus text format here (for node_exporter's "
                  "textfile collector), replacing the file atomically");
  cmd->add_option("--max-diffs", flags->max_diffs,
                  "Most differing record keys listed on stdout and in the report (all are counted)")
      ->default_val(flags->max_diffs);
  cmd->callback([flags, exit_code] { *exit_code = RunReconcile(*flags); });
}

}  // namespace tempo::cli
