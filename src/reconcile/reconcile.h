// Reconciliation of two stores (`tempo reconcile`, issue 14 §3): are the
// records of side A and side B the same, and if not, which ones differ?
//
// Each side is a RecordSource (record_stream.h): an origin store of any
// backend (OriginRecords) or an NDJSON export file (export_file.h). Both are
// read at once, each on its own thread, in record-key order, and
// merge-joined as streams: memory holds a few batches of records per side
// and the figures, never a side's records, whatever the store's size.
//
// Only live records are compared: a tombstone counts as absent, so a
// tombstone on one side and a live record on the other is a record missing
// on the tombstone's side, and two tombstones (whatever their versions) are
// no difference. Two live records of one key differ when their versions or
// their content bytes (StoredRecord::record_json, the compact record JSON)
// do; publishedAt is not compared.
//
//   auto a = OpenSomehow(...);  // origin::Origin
//   auto report = reconcile::Reconcile(reconcile::OriginRecords(a.get()),
//                                      reconcile::ExportFileRecords("legacy.ndjson"), {});
//   if (report.ok() && report->total.drift() > 0.001) Alert(*report);
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "events/record.h"
#include "reconcile/record_stream.h"

namespace tempo::reconcile {

// The figures of one scope (everything, one tenant, or one partition).
struct Figures {
  int64_t records_a = 0;  // live records on side A
  int64_t records_b = 0;
  // The sum of RecordChecksum (side_tally.h) over the scope's live records,
  // modulo 2^64: equal sets of records have equal checksums.
  uint64_t checksum_a = 0;
  uint64_t checksum_b = 0;
  int64_t missing_in_a = 0;  // live in B, absent or a tombstone in A
  int64_t missing_in_b = 0;  // live in A, absent or a tombstone in B
  int64_t differing = 0;     // live on both sides, other version or content

  int64_t differences() const { return missing_in_a + missing_in_b + differing; }
  // differences() / max(records_a, records_b); 0 when both sides are empty.
  double drift() const;
};

// A partition (tenant, channel, pageType) of a tenant, and its figures. A
// record counts for each partition it belongs to (partitions.h), and a
// difference for each partition of either side's record.
struct PartitionFigures {
  std::string channel;
  std::string page_type;
  Figures figures;
};

struct TenantFigures {
  std::string tenant;
  Figures figures;
  std::vector<PartitionFigures> partitions;  // by (channel, pageType)
};

enum class Difference { kMissingInA, kMissingInB, kDiffering };

// "missing_in_a", "missing_in_b", "differing".
const char* DifferenceName(Difference difference);

// What one side holds for a key.
struct SideState {
  bool present = false;  // false: the side has no entry for the key at all
  int64_t version = 0;   // when present
  bool tombstone = false;
};

// One record key that differs between the sides.
struct RecordDiff {
  events::RecordKey key;
  Difference difference = Difference::kDiffering;
  SideState a;
  SideState b;
};

struct Report {
  Figures total;
  // Every tenant with a live record on either side, in tenant order.
  std::vector<TenantFigures> tenants;
  // The first ReconcileOptions::max_diffs differing keys, in record-key order.
  std::vector<RecordDiff> diffs;
  int64_t diffs_omitted = 0;  // total.differences() - diffs.size()
  // Entries read from each side, tombstones included.
  int64_t entries_a = 0;
  int64_t entries_b = 0;
  std::chrono::duration<double> elapsed{0};
};

// How far a reconciliation got: reported now and then while it runs.
struct Progress {
  int64_t entries_a = 0;
  int64_t entries_b = 0;
  int64_t differences = 0;
};

struct ReconcileOptions {
  // The most differing keys listed in Report::diffs (all are counted).
  // Default: 1000.
  size_t max_diffs = 1000;
  // The sides' names in error messages: "<name>: <why it could not be read>".
  std::string name_a = "A";
  std::string name_b = "B";
  // Called on the calling thread about every progress_interval while the
  // sides are read (never when empty).
  std::function<void(const Progress&)> progress;
  // Default: 250 ms.
  std::chrono::milliseconds progress_interval{250};
};

// Reads both sides to their ends and compares them (see the top of this
// file). On failure of either side returns its Status with the side's name
// before the message (the other side is stopped): the side could not be
// read, so no figure would mean anything.
Result<Report> Reconcile(RecordSource a, RecordSource b, const ReconcileOptions& options = {});

}  // namespace tempo::reconcile
