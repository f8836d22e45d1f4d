// Tests of reconcile.h on real stores: RocksDB in temporary directories and
// PostgreSQL on a throw-away server (testing/pg_server.h), export files
// written to disk, and the report renderers.
#include "reconcile/reconcile.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "events/events.h"
#include "origin/origin_test_fixtures.h"
#include "origin/pg_origin.h"
#include "origin/rocks_origin.h"
#include "reconcile/export_file.h"
#include "reconcile/partitions.h"
#include "reconcile/report.h"
#include "reconcile/side_tally.h"
#include "testing/pg_server.h"
#include "testing/temp_dir.h"

namespace tempo::reconcile {
namespace {

using events::Kind;
using origin::Origin;

// ---- events -----------------------------------------------------------------

std::string ModuleLine(const std::string& tenant, const std::string& id, int64_t version,
                       const std::string& channels = R"(["web"])",
                       const std::string& content = R"({"title":"x"})") {
  return R"({"schema":1,"kind":"module","op":"upsert","publishedAt":"2026-11-22T10:00:00Z",)"
         R"("record":{"id":")" +
         id + R"(","tenant":")" + tenant + R"(","channels":)" + channels +
         R"(,"pageType":"home","pageIds":[],"zone":"main","version":)" + std::to_string(version) +
         R"(,"content":)" + content + "}}";
}

std::string ExperimentLine(const std::string& tenant, const std::string& id, int64_t version) {
  return R"({"schema":1,"kind":"experiment","op":"upsert","record":{"id":")" + id +
         R"(","tenant":")" + tenant + R"(","channels":["web","ios","web"],"pageType":"home",)" +
         R"("version":)" + std::to_string(version) + R"(,"variants":[{"key":"control"}]}})";
}

std::string TemplateLine(const std::string& tenant, const std::string& channel, int64_t version) {
  return R"({"schema":1,"kind":"template","op":"upsert","record":{"tenant":")" + tenant +
         R"(","channel":")" + channel + R"(","pageType":"home","version":)" +
         std::to_string(version) + R"(,"zones":[{"zone":"main"}]}})";
}

std::string DeleteLine(const std::string& tenant, const std::string& id, int64_t version) {
  return R"({"schema":1,"kind":"module","op":"delete","record":{"id":")" + id + R"(","tenant":")" +
         tenant + R"(","version":)" + std::to_string(version) + "}}";
}

// A small data set of every kind: two tenants, modules on one or two channels.
std::vector<std::string> BaseLines() {
  return {ModuleLine("t1", "m1", 1),       ModuleLine("t1", "m2", 3, R"(["web","ios"])"),
          ModuleLine("t1", "m3", 2),       ExperimentLine("t1", "x1", 1),
          TemplateLine("t1", "web", 1),    ModuleLine("t2", "m1", 5, R"(["ios"])"),
          ModuleLine("t2", "m9", 1, "[]"), TemplateLine("t2", "ios", 2)};
}

// Applies the decoded `lines` to `store` as one batch.
void ApplyLines(Origin* store, const std::vector<std::string>& lines) {
  std::vector<events::Event> events;
  for (const std::string& line : lines) {
    auto e = events::DecodeEvent(line);
    ASSERT_TRUE(e.ok()) << e.status().ToString() << "\n" << line;
    events.push_back(std::move(*e));
  }
  origin::fixtures::ApplyAll(store, events);
}

// ---- stores -----------------------------------------------------------------

class ReconcileTest : public ::testing::Test {
 protected:
  // A fresh RocksDB store.
  Origin* Rocks() {
    dirs_.push_back(std::make_unique<testing::TempDir>("tempo_reconcile_test"));
    auto store = origin::OpenRocksOrigin(dirs_.back()->path());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    stores_.push_back(std::move(*store));
    return stores_.back().get();
  }

  // A fresh PostgreSQL store on the shared throw-away server.
  Origin* Postgres() {
    const std::string uri = origin::fixtures::FreshDatabase();
    EXPECT_FALSE(uri.empty());
    auto store = origin::OpenPostgresOrigin(uri);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return nullptr;
    stores_.push_back(std::move(*store));
    return stores_.back().get();
  }

  // `store`'s export written to a file (as `tempo export` writes it).
  std::string ExportFile(Origin* store) { return WriteFile(origin::fixtures::ExportBytes(store)); }

  std::string WriteFile(const std::string& contents) {
    if (file_dir_ == nullptr) file_dir_ = std::make_unique<testing::TempDir>("tempo_reconcile");
    const std::string path = file_dir_->path() + "/file" + std::to_string(files_++) + ".ndjson";
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  static Report Compare(RecordSource a, RecordSource b, size_t max_diffs = 1000) {
    ReconcileOptions options;
    options.max_diffs = max_diffs;
    auto report = Reconcile(std::move(a), std::move(b), options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? std::move(*report) : Report();
  }

  static Report Compare(Origin* a, Origin* b) {
    return Compare(OriginRecords(a), OriginRecords(b));
  }

 private:
  std::vector<std::unique_ptr<testing::TempDir>> dirs_;
  std::vector<std::unique_ptr<Origin>> stores_;
  std::unique_ptr<testing::TempDir> file_dir_;
  int files_ = 0;
};

const TenantFigures* FindTenant(const Report& r, std::string_view tenant) {
  for (const TenantFigures& t : r.tenants) {
    if (t.tenant == tenant) return &t;
  }
  return nullptr;
}

const PartitionFigures* FindPartition(const TenantFigures* t, std::string_view channel) {
  if (t == nullptr) return nullptr;
  for (const PartitionFigures& p : t->partitions) {
    if (p.channel == channel && p.page_type == "home") return &p;
  }
  return nullptr;
}

void ExpectNoDifference(const Report& r) {
  EXPECT_EQ(r.total.differences(), 0);
  EXPECT_EQ(r.total.drift(), 0);
  EXPECT_TRUE(r.diffs.empty());
  EXPECT_EQ(r.total.records_a, r.total.records_b);
  EXPECT_EQ(r.total.checksum_a, r.total.checksum_b);
  for (const TenantFigures& t : r.tenants) {
    EXPECT_EQ(t.figures.checksum_a, t.figures.checksum_b) << t.tenant;
    for (const PartitionFigures& p : t.partitions) {
      EXPECT_EQ(p.figures.checksum_a, p.figures.checksum_b) << t.tenant << "/" << p.channel;
      EXPECT_EQ(p.figures.differences(), 0);
    }
  }
}

// ---- same contents ------------------------------------------------------------

TEST_F(ReconcileTest, SameContentsInRocksAndPostgresHaveEqualChecksumsAndNoDrift) {
  Origin* a = Rocks();
  Origin* b = Postgres();
  ASSERT_NE(b, nullptr);
  ApplyLines(a, BaseLines());
  ApplyLines(b, BaseLines());
  const Report r = Compare(a, b);
  ExpectNoDifference(r);
  EXPECT_EQ(r.total.records_a, 8);
  EXPECT_EQ(r.entries_a, 8);
  EXPECT_EQ(r.entries_b, 8);
  ASSERT_EQ(r.tenants.size(), 2u);
  const TenantFigures* t1 = FindTenant(r, "t1");
  ASSERT_NE(t1, nullptr);
  EXPECT_EQ(t1->figures.records_a, 5);
  // web: m1, m2, m3, x1 and the template; ios: m2 and x1 (its duplicate channel collapses).
  ASSERT_NE(FindPartition(t1, "web"), nullptr);
  EXPECT_EQ(FindPartition(t1, "web")->figures.records_a, 5);
  ASSERT_NE(FindPartition(t1, "ios"), nullptr);
  EXPECT_EQ(FindPartition(t1, "ios")->figures.records_b, 2);
  // t2: m9 has no channel, so it counts for the tenant only.
  const TenantFigures* t2 = FindTenant(r, "t2");
  ASSERT_NE(t2, nullptr);
  EXPECT_EQ(t2->figures.records_b, 3);
  ASSERT_EQ(t2->partitions.size(), 1u);
  EXPECT_EQ(t2->partitions[0].figures.records_b, 2);
}

TEST_F(ReconcileTest, ChecksumIsTheSumOfRecordChecksumsWhateverTheStore) {
  Origin* a = Rocks();
  ApplyLines(a, BaseLines());
  uint64_t sum = 0;
  std::string scratch;
  Status s = a->ForEachRecord([&](const origin::StoredRecord& r) {
    if (!r.tombstone) sum += RecordChecksum(r, &scratch);
    return Status::OK();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  const Report r = Compare(OriginRecords(a), ExportFileRecords(ExportFile(a)));
  ExpectNoDifference(r);
  EXPECT_EQ(r.total.checksum_a, sum);
}

TEST_F(ReconcileTest, EmptySidesHaveNoDrift) {
  const Report r = Compare(Rocks(), Rocks());
  ExpectNoDifference(r);
  EXPECT_EQ(r.total.records_a, 0);
  EXPECT_TRUE(r.tenants.empty());
}

// ---- one record changed, deleted or added ---------------------------------------

TEST_F(ReconcileTest, OneChangedContentByteIsNamed) {
  Origin* a = Rocks();
  Origin* b = Postgres();
  ASSERT_NE(b, nullptr);
  ApplyLines(a, BaseLines());
  std::vector<std::string> lines = BaseLines();
  lines[2] = ModuleLine("t1", "m3", 2, R"(["web"])", R"({"title":"y"})");  // same version
  ApplyLines(b, lines);
  const Report r = Compare(a, b);
  EXPECT_EQ(r.total.differing, 1);
  EXPECT_EQ(r.total.missing_in_a + r.total.missing_in_b, 0);
  ASSERT_EQ(r.diffs.size(), 1u);
  EXPECT_EQ(r.diffs[0].key, (events::RecordKey{"t1", Kind::kModule, "m3"}));
  EXPECT_EQ(r.diffs[0].difference, Difference::kDiffering);
  EXPECT_TRUE(r.diffs[0].a.present && r.diffs[0].b.present);
  EXPECT_EQ(r.diffs[0].a.version, 2);
  EXPECT_EQ(r.diffs[0].b.version, 2);
  EXPECT_EQ(r.total.records_a, r.total.records_b);
  EXPECT_NE(r.total.checksum_a, r.total.checksum_b);
  const TenantFigures* t1 = FindTenant(r, "t1");
  ASSERT_NE(t1, nullptr);
  EXPECT_EQ(t1->figures.differing, 1);
  EXPECT_NE(t1->figures.checksum_a, t1->figures.checksum_b);
  EXPECT_EQ(FindPartition(t1, "web")->figures.differing, 1);
  EXPECT_EQ(FindPartition(t1, "ios")->figures.differing, 0);
  EXPECT_EQ(FindPartition(t1, "ios")->figures.checksum_a,
            FindPartition(t1, "ios")->figures.checksum_b);
  EXPECT_DOUBLE_EQ(r.total.drift(), 1.0 / 8);
  const TenantFigures* t2 = FindTenant(r, "t2");
  ASSERT_NE(t2, nullptr);
  EXPECT_EQ(t2->figures.differences(), 0);
  EXPECT_EQ(t2->figures.checksum_a, t2->figures.checksum_b);
}

TEST_F(ReconcileTest, AHigherVersionWithTheSameContentDiffers) {
  Origin* a = Rocks();
  Origin* b = Rocks();
  ApplyLines(a, BaseLines());
  ApplyLines(b, BaseLines());
  ApplyLines(b, {ModuleLine("t2", "m1", 6, R"(["ios"])")});
  const Report r = Compare(a, b);
  ASSERT_EQ(r.diffs.size(), 1u);
  EXPECT_EQ(r.diffs[0].key, (events::RecordKey{"t2", Kind::kModule, "m1"}));
  EXPECT_EQ(r.diffs[0].difference, Difference::kDiffering);
  EXPECT_EQ(r.diffs[0].a.version, 5);
  EXPECT_EQ(r.diffs[0].b.version, 6);
}

TEST_F(ReconcileTest, ATombstoneAgainstALiveRecordIsMissingOnTheTombstonesSide) {
  Origin* a = Rocks();
  Origin* b = Postgres();
  ASSERT_NE(b, nullptr);
  ApplyLines(a, BaseLines());
  ApplyLines(b, BaseLines());
  ApplyLines(b, {DeleteLine("t1", "m2", 4)});
  const Report r = Compare(a, b);
  EXPECT_EQ(r.total.missing_in_b, 1);
  EXPECT_EQ(r.total.differences(), 1);
  EXPECT_EQ(r.total.records_a, 8);
  EXPECT_EQ(r.total.records_b, 7);
  ASSERT_EQ(r.diffs.size(), 1u);
  EXPECT_EQ(r.diffs[0].key, (events::RecordKey{"t1", Kind::kModule, "m2"}));
  EXPECT_EQ(r.diffs[0].difference, Difference::kMissingInB);
  EXPECT_EQ(r.diffs[0].a.version, 3);
  EXPECT_FALSE(r.diffs[0].a.tombstone);
  EXPECT_TRUE(r.diffs[0].b.present);
  EXPECT_TRUE(r.diffs[0].b.tombstone);
  EXPECT_EQ(r.diffs[0].b.version, 4);
  // m2 served web and ios: the difference counts in both partitions.
  const TenantFigures* t1 = FindTenant(r, "t1");
  EXPECT_EQ(FindPartition(t1, "web")->figures.missing_in_b, 1);
  EXPECT_EQ(FindPartition(t1, "ios")->figures.missing_in_b, 1);
  EXPECT_EQ(FindPartition(t1, "ios")->figures.records_b, 1);

  // The other way round: the tombstone on side A.
  const Report reverse = Compare(b, a);
  ASSERT_EQ(reverse.diffs.size(), 1u);
  EXPECT_EQ(reverse.diffs[0].difference, Difference::kMissingInA);
  EXPECT_TRUE(reverse.diffs[0].a.tombstone);
}

TEST_F(ReconcileTest, TombstonesCountAsAbsent) {
  Origin* a = Rocks();
  Origin* b = Rocks();
  ApplyLines(a, BaseLines());
  ApplyLines(b, BaseLines());
  // A tombstone on one side only, and tombstones of other versions on both.
  ApplyLines(a, {DeleteLine("t1", "gone", 1), DeleteLine("t2", "m9", 7)});
  ApplyLines(b, {DeleteLine("t2", "m9", 8)});
  const Report r = Compare(a, b);
  ExpectNoDifference(r);
  EXPECT_EQ(r.total.records_a, 7);
  EXPECT_EQ(r.entries_a, 9);
  EXPECT_EQ(r.entries_b, 8);
}

TEST_F(ReconcileTest, OneAddedRecordIsMissingInTheOtherSide) {
  Origin* a = Postgres();
  ASSERT_NE(a, nullptr);
  Origin* b = Rocks();
  ApplyLines(a, BaseLines());
  ApplyLines(b, BaseLines());
  ApplyLines(b, {ModuleLine("t0", "first", 1), ModuleLine("t3", "last", 1)});
  const Report r = Compare(a, b);
  EXPECT_EQ(r.total.missing_in_a, 2);
  ASSERT_EQ(r.diffs.size(), 2u);
  EXPECT_EQ(r.diffs[0].key, (events::RecordKey{"t0", Kind::kModule, "first"}));
  EXPECT_EQ(r.diffs[1].key, (events::RecordKey{"t3", Kind::kModule, "last"}));
  for (const RecordDiff& d : r.diffs) {
    EXPECT_EQ(d.difference, Difference::kMissingInA);
    EXPECT_FALSE(d.a.present);
    EXPECT_EQ(d.b.version, 1);
  }
  const TenantFigures* t0 = FindTenant(r, "t0");
  ASSERT_NE(t0, nullptr);
  EXPECT_EQ(t0->figures.records_a, 0);
  EXPECT_EQ(t0->figures.records_b, 1);
  EXPECT_EQ(t0->figures.drift(), 1);
  EXPECT_EQ(FindTenant(r, "t1")->figures.drift(), 0);
}

TEST_F(ReconcileTest, AModuleThatMovedChannelsDiffersInBothPartitions) {
  Origin* a = Rocks();
  Origin* b = Rocks();
  ApplyLines(a, {ModuleLine("t1", "m1", 1, R"(["web"])")});
  ApplyLines(b, {ModuleLine("t1", "m1", 1, R"(["ios"])")});
  const Report r = Compare(a, b);
  const TenantFigures* t1 = FindTenant(r, "t1");
  ASSERT_NE(t1, nullptr);
  ASSERT_EQ(t1->partitions.size(), 2u);
  EXPECT_EQ(FindPartition(t1, "web")->figures.differing, 1);
  EXPECT_EQ(FindPartition(t1, "web")->figures.records_b, 0);
  EXPECT_EQ(FindPartition(t1, "ios")->figures.differing, 1);
  EXPECT_EQ(r.total.differing, 1);
}

// ---- many records: across batches, the threshold, the list's cap -------------------

// `n` modules of tenant t1, ids in key order.
std::vector<std::string> ManyModules(int n) {
  std::vector<std::string> lines;
  for (int i = 0; i < n; ++i) {
    char id[16];
    std::snprintf(id, sizeof(id), "m%05d", i);
    lines.push_back(ModuleLine("t1", id, 1));
  }
  return lines;
}

TEST_F(ReconcileTest, DifferencesAcrossManyBatchesAreAllFound) {
  constexpr int kRecords = 3 * RecordStream::kBatches * RecordStream::kBatchRecords + 7;
  Origin* a = Rocks();
  Origin* b = Rocks();
  std::vector<std::string> lines = ManyModules(kRecords);
  ApplyLines(a, lines);
  lines[0] = ModuleLine("t1", "m00000", 2);
  lines[RecordStream::kBatchRecords] = ModuleLine("t1", "m00512", 1, R"(["ios"])");
  lines.erase(lines.begin() + 4000);
  lines.push_back(ModuleLine("t1", "zzz", 1));
  ApplyLines(b, lines);
  const Report r = Compare(a, b);
  EXPECT_EQ(r.entries_a, kRecords);
  EXPECT_EQ(r.entries_b, kRecords);
  ASSERT_EQ(r.diffs.size(), 4u);
  EXPECT_EQ(r.diffs[0].key.id, "m00000");
  EXPECT_EQ(r.diffs[1].key.id, "m00512");
  EXPECT_EQ(r.diffs[2].key.id, "m04000");
  EXPECT_EQ(r.diffs[2].difference, Difference::kMissingInB);
  EXPECT_EQ(r.diffs[3].key.id, "zzz");
  EXPECT_EQ(r.diffs[3].difference, Difference::kMissingInA);
  EXPECT_EQ(r.total.differences(), 4);
}

TEST_F(ReconcileTest, DriftExactlyAtTheThresholdPassesAndAboveFails) {
  Origin* a = Rocks();
  Origin* b = Rocks();
  std::vector<std::string> lines = ManyModules(1000);
  ApplyLines(a, lines);
  lines[500] = ModuleLine("t1", "m00500", 1, R"(["web"])", R"({"title":"z"})");
  ApplyLines(b, lines);
  Report r = Compare(a, b);
  ASSERT_EQ(r.total.differences(), 1);
  EXPECT_EQ(r.total.drift(), 0.001);  // 1 / 1000, exactly the double 0.001 is
  EXPECT_TRUE(WithinThreshold(r, 0.001));
  EXPECT_FALSE(WithinThreshold(r, 0.000999));
  EXPECT_FALSE(WithinThreshold(r, 0));
  // One more difference: 2 / 1000 is over 0.001.
  ApplyLines(b, {ModuleLine("t1", "m00900", 2)});
  r = Compare(a, b);
  EXPECT_EQ(r.total.differences(), 2);
  EXPECT_FALSE(WithinThreshold(r, 0.001));
  EXPECT_TRUE(WithinThreshold(r, 0.002));
}

TEST_F(ReconcileTest, MaxDiffsCapsTheListNotTheCounts) {
  Origin* a = Rocks();
  Origin* b = Rocks();
  ApplyLines(a, ManyModules(100));
  const Report r = Compare(OriginRecords(a), OriginRecords(b), /*max_diffs=*/10);
  EXPECT_EQ(r.total.missing_in_b, 100);
  ASSERT_EQ(r.diffs.size(), 10u);
  EXPECT_EQ(r.diffs[9].key.id, "m00009");
  EXPECT_EQ(r.diffs_omitted, 90);
  EXPECT_EQ(r.total.drift(), 1);
}

// ---- export files ---------------------------------------------------------------

TEST_F(ReconcileTest, AStoreAndItsExportFileAgree) {
  Origin* a = Postgres();
  ASSERT_NE(a, nullptr);
  ApplyLines(a, BaseLines());
  ApplyLines(a, {DeleteLine("t1", "m1", 9)});
  const Report r = Compare(OriginRecords(a), ExportFileRecords(ExportFile(a)));
  ExpectNoDifference(r);
  EXPECT_EQ(r.total.records_b, 7);
  EXPECT_EQ(r.entries_b, 8);  // the tombstone is read, not counted
}

TEST_F(ReconcileTest, ExportFileAcceptsBlankLinesCrlfAndAByteOrderMark) {
  Origin* a = Rocks();
  ApplyLines(a, BaseLines());
  std::string text = origin::fixtures::ExportBytes(a);
  std::string crlf = "\xEF\xBB\xBF";
  for (char c : text) crlf += c == '\n' ? std::string("\r\n\n") : std::string(1, c);
  const Report r = Compare(OriginRecords(a), ExportFileRecords(WriteFile(crlf)));
  ExpectNoDifference(r);
}

TEST_F(ReconcileTest, AnExportFileOutOfOrderIsAnErrorNamingTheLine) {
  Origin* a = Rocks();
  ApplyLines(a, BaseLines());
  const std::string path =
      WriteFile(ModuleLine("t1", "m1", 1) + "\n" + ModuleLine("t1", "m3", 1) + "\n" +
                ModuleLine("t1", "m2", 1) + "\n" + ModuleLine("t1", "m4", 1) + "\n");
  ReconcileOptions options;
  options.name_b = "side B (legacy.ndjson)";
  auto r = Reconcile(OriginRecords(a), ExportFileRecords(path), options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r.status().message().find("side B (legacy.ndjson): line 3: record t1/module/m2"), 0u)
      << r.status().message();
  EXPECT_NE(r.status().message().find("is not after t1/module/m3"), std::string::npos);
}

TEST_F(ReconcileTest, AKeyListedTwiceIsOutOfOrder) {
  const std::string path =
      WriteFile(ModuleLine("t1", "m1", 1) + "\n" + ModuleLine("t1", "m1", 2) + "\n");
  auto r = Reconcile(ExportFileRecords(path), ExportFileRecords(path));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 2: record t1/module/m1 is not after t1/module/m1"),
            std::string::npos)
      << r.status().message();
}

TEST_F(ReconcileTest, AnInvalidLineIsAnErrorNamingTheLineAndTheRule) {
  const std::string path = WriteFile(ModuleLine("t1", "m1", 1) + "\n\nnot json\n");
  auto r = Reconcile(ExportFileRecords(path), OriginRecords(Rocks()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("A: line 3: "), 0u) << r.status().message();
}

TEST_F(ReconcileTest, ALineOverTheLimitIsAnErrorNotALoad) {
  ExportFileOptions options;
  options.max_line_bytes = 1000;
  const std::string path = WriteFile(ModuleLine("t1", "m1", 1) + "\n" + std::string(5000, ' '));
  auto r = Reconcile(ExportFileRecords(path, options), OriginRecords(Rocks()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 2: longer than 1000 bytes"), std::string::npos)
      << r.status().message();
}

TEST_F(ReconcileTest, AMissingFileCannotBeRead) {
  auto r = Reconcile(OriginRecords(Rocks()), ExportFileRecords("/nonexistent/x.ndjson"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIOError);
  EXPECT_EQ(r.status().message().find("B: cannot read /nonexistent/x.ndjson"), 0u)
      << r.status().message();
}

// ---- sides that fail ----------------------------------------------------------

TEST_F(ReconcileTest, ASourceThatFailsMidwayStopsTheOtherSide) {
  Origin* big = Rocks();
  ApplyLines(big, ManyModules(5000));  // more than the stream buffers: its reader must stop
  RecordSource failing = [](const RecordSink& sink) -> Status {
    origin::StoredRecord r;
    r.key = {"t1", Kind::kModule, "a"};
    r.version = 1;
    r.record_json = "{}";
    if (Status s = sink(r); !s.ok()) return s;
    return Status::Unavailable("connection lost");
  };
  auto r = Reconcile(OriginRecords(big), failing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(r.status().message(), "B: connection lost");
}

TEST_F(ReconcileTest, ASourceOutOfOrderIsCorruption) {
  RecordSource unsorted = [](const RecordSink& sink) -> Status {
    origin::StoredRecord r;
    r.version = 1;
    for (Kind kind : {Kind::kModule, Kind::kExperiment}) {
      r.key = {"t1", kind, "x"};
      if (Status s = sink(r); !s.ok()) return s;
    }
    return Status::OK();
  };
  auto r = Reconcile(unsorted, OriginRecords(Rocks()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("t1/experiment/x after t1/module/x"), std::string::npos)
      << r.status().message();
}

TEST_F(ReconcileTest, APostgresStoreThatGoesDownCannotBeRead) {
  // A server of its own: this test stops it.
  auto server = testing::PgServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto store = origin::OpenPostgresOrigin((*server)->uri());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ApplyLines(store->get(), BaseLines());
  Origin* a = Rocks();
  ApplyLines(a, BaseLines());
  ASSERT_TRUE((*server)->Stop().ok());
  ReconcileOptions options;
  options.name_b = "side B";
  auto r = Reconcile(OriginRecords(a), OriginRecords(store->get()), options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("side B: "), 0u) << r.status().message();
}

// ---- partitions -----------------------------------------------------------------

TEST(PartitionReaderTest, ReadsChannelsAndPageTypeOnly) {
  PartitionReader reader;
  origin::StoredRecord r;
  r.key = {"t", Kind::kModule, "m"};
  r.record_json =
      R"({"id":"m","content":{"channels":["no"],"pageType":"no"},"channels":["a","b","a"],)"
      R"("pageType":"p\"q"})";
  reader.Read(r);
  ASSERT_EQ(reader.size(), 2u);
  EXPECT_EQ(reader.channel(0), "a");
  EXPECT_EQ(reader.channel(1), "b");
  EXPECT_EQ(reader.page_type(), "p\"q");
  r.key = {"t", Kind::kTemplate, "web:home"};
  reader.Read(r);
  ASSERT_EQ(reader.size(), 1u);
  EXPECT_EQ(reader.channel(0), "web");
  EXPECT_EQ(reader.page_type(), "home");
  r.key = {"t", Kind::kModule, "m"};
  for (const char* json : {"", "{", "[1]", R"({"channels":["a"]})", R"({"channels":7,"x":1})"}) {
    r.record_json = json;
    reader.Read(r);
    EXPECT_EQ(reader.size(), 0u) << json;
  }
}

// ---- reports ------------------------------------------------------------------

Report OneDifferenceReport() {
  Report r;
  r.total = Figures{10, 9, 0x0123456789abcdefu, 42, 0, 1, 0};
  TenantFigures t;
  t.tenant = "AC\"ME";
  t.figures = r.total;
  t.partitions.push_back(PartitionFigures{"web", "home", r.total});
  r.tenants.push_back(t);
  r.diffs.push_back(RecordDiff{
      {"AC\"ME", Kind::kModule, "m1"}, Difference::kMissingInB, {true, 3, false}, {true, 4, true}});
  r.entries_a = 10;
  r.entries_b = 10;
  return r;
}

TEST(ReportTest, JsonHoldsTheFiguresAndTheDiffs) {
  const Report r = OneDifferenceReport();
  RunInfo run{"storeA", "postgres://u:***@h/db", 0.05, 1'700'000'000'000'000'000};
  const std::string json = RenderJson(r, run);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(json).get(doc)) << json;
  EXPECT_EQ(doc["b"].get_string().value(), "postgres://u:***@h/db");
  EXPECT_EQ(doc["drift"].get_double().value(), 0.1);
  EXPECT_FALSE(doc["within_threshold"].get_bool().value());
  EXPECT_EQ(doc["finished_at"].get_string().value(), "2023-11-14T22:13:20Z");
  EXPECT_EQ(doc["total"]["checksum_a"].get_string().value(), "0123456789abcdef");
  EXPECT_EQ(doc["total"]["missing_in_b"].get_int64().value(), 1);
  EXPECT_EQ(doc["tenants"].at(0)["tenant"].get_string().value(), "AC\"ME");
  EXPECT_EQ(doc["tenants"].at(0)["partitions"].at(0)["page_type"].get_string().value(), "home");
  simdjson::dom::element diff = doc["diffs"].at(0);
  EXPECT_EQ(diff["id"].get_string().value(), "m1");
  EXPECT_EQ(diff["kind"].get_string().value(), "module");
  EXPECT_EQ(diff["difference"].get_string().value(), "missing_in_b");
  EXPECT_EQ(diff["a"]["version"].get_int64().value(), 3);
  EXPECT_TRUE(diff["b"]["tombstone"].get_bool().value());
  EXPECT_EQ(doc["diffs_omitted"].get_int64().value(), 0);
}

TEST(ReportTest, MetricsAreGaugesWithEscapedLabels) {
  const Report r = OneDifferenceReport();
  RunInfo run{"a", "b", 0.001, 1'700'000'000'500'000'000};
  const std::string text = RenderMetrics(r, run);
  for (const char* line : {
           "# TYPE tempo_reconcile_drift_ratio gauge\n",
           "tempo_reconcile_drift_ratio{tenant=\"AC\\\"ME\"} 0.1\n",
           "tempo_reconcile_overall_drift_ratio 0.1\n",
           "tempo_reconcile_records{side=\"a\",tenant=\"AC\\\"ME\"} 10\n",
           "tempo_reconcile_records{side=\"b\",tenant=\"AC\\\"ME\"} 9\n",
           "tempo_reconcile_differences{kind=\"missing_in_b\",tenant=\"AC\\\"ME\"} 1\n",
           "tempo_reconcile_checksums_match{tenant=\"AC\\\"ME\"} 0\n",
           "tempo_reconcile_over_threshold 1\n",
           "tempo_reconcile_threshold_ratio 0.001\n",
           "tempo_reconcile_last_run_timestamp_seconds 1700000000\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
}

TEST(ReportTest, TableNamesTheRecordAndTheVerdict) {
  const Report r = OneDifferenceReport();
  const std::string table = RenderTable(r, RunInfo{"a", "b", 0.2, 0});
  EXPECT_NE(table.find("missing_in_b  AC\"ME/module/m1  A: v3  B: tombstone v4"), std::string::npos)
      << table;
  EXPECT_NE(table.find("TOTAL"), std::string::npos);
  EXPECT_NE(table.find("<= threshold 0.2: OK"), std::string::npos) << table;
}

TEST(ReportTest, WriteFileAtomicallyReplacesTheFile) {
  testing::TempDir dir("tempo_reconcile_report");
  const std::string path = dir.path() + "/m.prom";
  ASSERT_TRUE(WriteFileAtomically(path, "one\n").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two\n").ok());
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "two\n");
  const Status s = WriteFileAtomically(dir.path() + "/no/such/dir/m.prom", "x");
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_NE(s.message().find("cannot write"), std::string::npos);
}

}  // namespace
}  // namespace tempo::reconcile
