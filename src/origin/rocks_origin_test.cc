// Tests of the RocksDB origin (origin.h) against SPEC §7 and §11.13-16.
//
// Events are built directly (no JSON decoding): an Event carries the decoded
// record, and the origin stores record_json verbatim as the row body.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <ostream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "origin/coding.h"
#include "origin/origin.h"
#include "origin/origin_test_fixtures.h"
#include "rocksdb/db.h"

namespace tempo::events {
// Readable failure messages for record keys (found by argument lookup).
void PrintTo(const RecordKey& key, std::ostream* os) {
  *os << ::testing::PrintToString(key.tenant) << "/kind" << static_cast<int>(key.kind) << "/"
      << ::testing::PrintToString(key.id);
}
}  // namespace tempo::events

namespace tempo::origin {
namespace {

using events::Event;
using events::Kind;
using events::Op;
using namespace fixtures;  // the event builders, TempDir and ApplyAll of both backends


class RocksOriginTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    auto opened = OpenRocksOrigin(dir_.path());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    origin_ = std::move(*opened);
  }
  void Reopen() {
    origin_.reset();
    Open();
  }

  ApplyOutcome Apply(const Event& e) {
    auto r = origin_->Apply(e);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ApplyOutcome::kStale;
  }

  std::vector<Row> Read(const std::string& channel,
                        std::optional<std::string_view> page_id = std::nullopt,
                        const std::string& tenant = "t1",
                        const std::string& page_type = kPageType) {
    auto r = origin_->ReadPage({tenant, channel, page_type}, page_id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<Row>{};
  }

  std::vector<RowSummary> Summary(const std::vector<Row>& rows) {
    std::vector<RowSummary> out;
    for (const Row& r : rows) out.emplace_back(r.scope, r.kind, r.id, r.version);
    return out;
  }

  bool Known(const std::string& tenant) {
    auto r = origin_->TenantKnown(tenant);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  }

  std::vector<StoredRecord> Records() {
    std::vector<StoredRecord> out;
    Status s = origin_->ForEachRecord([&](const StoredRecord& r) {
      out.push_back(r);
      return Status::OK();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Origin> origin_;
};

// ---- §7: rows and page reads ----------------------------------------------

TEST_F(RocksOriginTest, Rule7_AppliedModuleIsReadWithVersionAndBody) {
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 3, {"web"})), ApplyOutcome::kApplied);
  std::vector<Row> rows = Read("web");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].scope, "*");
  EXPECT_EQ(rows[0].kind, Kind::kModule);
  EXPECT_EQ(rows[0].id, "m1");
  EXPECT_EQ(rows[0].version, 3);
  EXPECT_EQ(rows[0].body, Body("m1", 3));
  EXPECT_TRUE(Read("ios").empty());
  EXPECT_TRUE(Read("web", std::nullopt, "t2").empty());
  EXPECT_TRUE(Read("web", std::nullopt, "t1", "other").empty());
}

TEST_F(RocksOriginTest, Rule7_ModuleServesEveryChannelTimesPage) {
  Apply(ModuleEvent("t1", "m1", 1, {"web", "ios"}, {"p1", "p2"}));
  for (const char* channel : {"web", "ios"}) {
    EXPECT_TRUE(Read(channel).empty()) << channel;  // page-specific: no "*" row
    for (const char* page : {"p1", "p2"}) {
      EXPECT_EQ(Summary(Read(channel, page)),
                (std::vector<RowSummary>{{page, Kind::kModule, "m1", 1}}))
          << channel << " " << page;
    }
    EXPECT_TRUE(Read(channel, "p3").empty());
  }
}

TEST_F(RocksOriginTest, Rule7_PageReadReturnsTypeWideRowsThenPageRows) {
  Apply(ModuleEvent("t1", "wide-b", 1, {"web"}));
  Apply(ModuleEvent("t1", "wide-a", 2, {"web"}));
  Apply(ModuleEvent("t1", "on-p1", 3, {"web"}, {"p1"}));
  // "!" sorts before "*" bytewise; its rows still come after the "*" rows.
  Apply(ModuleEvent("t1", "on-bang", 4, {"web"}, {"!"}));
  Apply(ModuleEvent("t1", "on-p1-too", 5, {"web"}, {"p2", "p1"}));

  EXPECT_EQ(Summary(Read("web")), (std::vector<RowSummary>{{"*", Kind::kModule, "wide-a", 2},
                                                           {"*", Kind::kModule, "wide-b", 1}}));
  EXPECT_EQ(Summary(Read("web", "p1")),
            (std::vector<RowSummary>{{"*", Kind::kModule, "wide-a", 2},
                                     {"*", Kind::kModule, "wide-b", 1},
                                     {"p1", Kind::kModule, "on-p1", 3},
                                     {"p1", Kind::kModule, "on-p1-too", 5}}));
  EXPECT_EQ(Summary(Read("web", "!")),
            (std::vector<RowSummary>{{"*", Kind::kModule, "wide-a", 2},
                                     {"*", Kind::kModule, "wide-b", 1},
                                     {"!", Kind::kModule, "on-bang", 4}}));
}

TEST_F(RocksOriginTest, Rule7_ScopeReadReturnsOnlyThatScope) {
  Apply(ModuleEvent("t1", "wide", 1, {"web"}));
  Apply(ModuleEvent("t1", "on-p1", 2, {"web"}, {"p1"}));
  Apply(ModuleEvent("t1", "on-p2", 3, {"web"}, {"p2"}));
  auto scope = [&](std::string_view s) {
    auto r = origin_->ReadScope({"t1", "web", kPageType}, s);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Summary(*r) : std::vector<RowSummary>{};
  };
  EXPECT_EQ(scope("*"), (std::vector<RowSummary>{{"*", Kind::kModule, "wide", 1}}));
  EXPECT_EQ(scope("p1"), (std::vector<RowSummary>{{"p1", Kind::kModule, "on-p1", 2}}));
  EXPECT_EQ(scope("p3"), std::vector<RowSummary>{});
  EXPECT_EQ(scope(""), std::vector<RowSummary>{});
}

TEST_F(RocksOriginTest, Rule7_StarPageIdReadsTypeWideRowsOnce) {
  Apply(ModuleEvent("t1", "wide", 1, {"web"}));
  Apply(ModuleEvent("t1", "paged", 1, {"web"}, {"p1"}));
  EXPECT_EQ(Summary(Read("web", "*")), (std::vector<RowSummary>{{"*", Kind::kModule, "wide", 1}}));
  EXPECT_EQ(Summary(Read("web", "")), (std::vector<RowSummary>{{"*", Kind::kModule, "wide", 1}}));
}

TEST_F(RocksOriginTest, Rule7_TwoExperimentsAndTemplateAreTypeWideRowsInKindOrder) {
  Apply(TemplateEvent("t1", "web", 7));
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  Apply(ExperimentEvent("t1", "exp-b", 2, {"web", "ios"}));
  Apply(ExperimentEvent("t1", "exp-a", 3, {"web"}));
  Apply(ModuleEvent("t1", "m2", 1, {"web"}, {"p1"}));

  std::vector<Row> rows = Read("web", "p1");
  EXPECT_EQ(Summary(rows), (std::vector<RowSummary>{{"*", Kind::kExperiment, "exp-a", 3},
                                                    {"*", Kind::kExperiment, "exp-b", 2},
                                                    {"*", Kind::kModule, "m1", 1},
                                                    {"*", Kind::kTemplate, "", 7},
                                                    {"p1", Kind::kModule, "m2", 1}}));
  EXPECT_EQ(rows[0].body, Body("exp-a", 3));
  EXPECT_EQ(rows[3].body, Body("template", 7));
  // The template is per channel; exp-b also serves ios.
  EXPECT_EQ(Summary(Read("ios")), (std::vector<RowSummary>{{"*", Kind::kExperiment, "exp-b", 2}}));
}

TEST_F(RocksOriginTest, Rule7_PageReadIsOneSnapshot) {
  // A writer moves one module between type-wide and page p1; every read of
  // page p1 must see it exactly once (one atomic batch, one snapshot).
  Apply(ModuleEvent("t1", "mover", 1, {"web"}));
  std::atomic<bool> done{false};
  std::atomic<int> bad_reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto rows = origin_->ReadPage({"t1", "web", kPageType}, "p1");
      if (!rows.ok() || rows->size() != 1) bad_reads.fetch_add(1);
    }
  });
  constexpr int kMoves = 300;
  for (int v = 2; v < 2 + kMoves; ++v) {
    auto page_ids = v % 2 == 0 ? std::vector<std::string>{"p1"} : std::vector<std::string>{};
    auto r = origin_->Apply(ModuleEvent("t1", "mover", v, {"web"}, page_ids));
    ASSERT_TRUE(r.ok());
  }
  done.store(true);
  reader.join();
  EXPECT_EQ(bad_reads.load(), 0);
}

// ---- §11.14: the version rule ---------------------------------------------

TEST_F(RocksOriginTest, Rule14_HigherVersionWins) {
  Apply(ModuleEvent("t1", "m1", 5, {"web"}));
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 6, {"web"})), ApplyOutcome::kApplied);
  std::vector<Row> rows = Read("web");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].version, 6);
  EXPECT_EQ(rows[0].body, Body("m1", 6));
}

TEST_F(RocksOriginTest, Rule14_EqualVersionIgnored) {
  Apply(ModuleEvent("t1", "m1", 5, {"web"}));
  Event same = ModuleEvent("t1", "m1", 5, {"ios"});
  same.record_json = "{\"changed\":true}";
  EXPECT_EQ(Apply(same), ApplyOutcome::kStale);
  EXPECT_EQ(Summary(Read("web")), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 5}}));
  EXPECT_EQ(Read("web")[0].body, Body("m1", 5));
  EXPECT_TRUE(Read("ios").empty());
}

TEST_F(RocksOriginTest, Rule14_LowerVersionIgnored) {
  Apply(ModuleEvent("t1", "m1", 5, {"web"}));
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 4, {"ios"})), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(DeleteEvent(Kind::kModule, "t1", "m1", 5)), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(DeleteEvent(Kind::kModule, "t1", "m1", 1)), ApplyOutcome::kStale);
  EXPECT_EQ(Summary(Read("web")), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 5}}));
  EXPECT_TRUE(Read("ios").empty());
}

TEST_F(RocksOriginTest, Rule14_DeleteRemovesRowsAndLeavesTombstone) {
  Apply(ModuleEvent("t1", "m1", 2, {"web", "ios"}, {"p1"}));
  Apply(ModuleEvent("t1", "keep", 1, {"web"}));
  EXPECT_EQ(Apply(DeleteEvent(Kind::kModule, "t1", "m1", 3)), ApplyOutcome::kApplied);
  EXPECT_EQ(Summary(Read("web", "p1")), (std::vector<RowSummary>{{"*", Kind::kModule, "keep", 1}}));
  EXPECT_TRUE(Read("ios", "p1").empty());

  std::vector<StoredRecord> records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].key, (events::RecordKey{"t1", Kind::kModule, "m1"}));
  EXPECT_TRUE(records[1].tombstone);
  EXPECT_EQ(records[1].version, 3);
  EXPECT_EQ(records[1].published_at, "2026-11-23T00:00:00Z");
  EXPECT_EQ(records[1].record_json, DeleteEvent(Kind::kModule, "t1", "m1", 3).record_json);
}

TEST_F(RocksOriginTest, Rule14_UpsertAfterTombstoneNeedsHigherVersion) {
  Apply(ModuleEvent("t1", "m1", 2, {"web"}));
  Apply(DeleteEvent(Kind::kModule, "t1", "m1", 4));
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 3, {"web"})), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 4, {"web"})), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(DeleteEvent(Kind::kModule, "t1", "m1", 4)), ApplyOutcome::kStale);
  EXPECT_TRUE(Read("web").empty());
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 5, {"web"})), ApplyOutcome::kApplied);
  EXPECT_EQ(Summary(Read("web")), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 5}}));
  ASSERT_EQ(Records().size(), 1u);
  EXPECT_FALSE(Records()[0].tombstone);
}

TEST_F(RocksOriginTest, Rule14_DeleteOfUnknownRecordLeavesTombstone) {
  EXPECT_EQ(Apply(DeleteEvent(Kind::kExperiment, "t1", "never", 9)), ApplyOutcome::kApplied);
  EXPECT_EQ(Apply(ExperimentEvent("t1", "never", 9, {"web"})), ApplyOutcome::kStale);
  EXPECT_TRUE(Read("web").empty());
  std::vector<StoredRecord> records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0].tombstone);
  EXPECT_EQ(records[0].version, 9);
  EXPECT_FALSE(Known("t1"));
}

TEST_F(RocksOriginTest, Rule14_UpsertThatMovesChannelsAndPagesMovesRows) {
  Apply(ModuleEvent("t1", "m1", 1, {"web", "ios"}, {"p1", "p2"}));
  Apply(ModuleEvent("t1", "m1", 2, {"ios", "app"}, {"p2", "p3"}));
  EXPECT_TRUE(Read("web", "p1").empty());
  EXPECT_TRUE(Read("web", "p2").empty());
  EXPECT_TRUE(Read("ios", "p1").empty());
  for (const char* channel : {"ios", "app"}) {
    for (const char* page : {"p2", "p3"}) {
      EXPECT_EQ(Summary(Read(channel, page)),
                (std::vector<RowSummary>{{page, Kind::kModule, "m1", 2}}));
    }
  }
  // Now type-wide on web only: every page row goes, one "*" row appears.
  Apply(ModuleEvent("t1", "m1", 3, {"web"}));
  EXPECT_EQ(Summary(Read("web", "p1")), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 3}}));
  EXPECT_TRUE(Read("ios", "p2").empty());
  EXPECT_TRUE(Read("app", "p3").empty());
  // And a page type change moves it to another partition.
  Apply(ModuleEvent("t1", "m1", 4, {"web"}, {}, "search"));
  EXPECT_TRUE(Read("web").empty());
  EXPECT_EQ(Summary(Read("web", std::nullopt, "t1", "search")),
            (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 4}}));
}

TEST_F(RocksOriginTest, Rule14_TombstonesDoNotMakeTenantKnown) {
  EXPECT_FALSE(Known("t1"));
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  Apply(TemplateEvent("t1", "web", 1));
  EXPECT_TRUE(Known("t1"));
  EXPECT_FALSE(Known("t"));
  EXPECT_FALSE(Known("t1x"));
  Apply(DeleteEvent(Kind::kModule, "t1", "m1", 2));
  EXPECT_TRUE(Known("t1"));
  Apply(DeleteEvent(Kind::kTemplate, "t1", "web:home", 2));
  EXPECT_FALSE(Known("t1"));
  // The tombstones are still there.
  EXPECT_EQ(Records().size(), 2u);
  Apply(ExperimentEvent("t1", "e1", 1, {"web"}));
  EXPECT_TRUE(Known("t1"));
}

TEST_F(RocksOriginTest, Rule14_TenantKnownSurvivesReplacingUpserts) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  Apply(ModuleEvent("t1", "m1", 2, {"web"}));
  Apply(ModuleEvent("t1", "m1", 3, {"ios"}));
  Apply(DeleteEvent(Kind::kModule, "t1", "m1", 4));
  EXPECT_FALSE(Known("t1"));  // counted once, not once per upsert
}

// ---- §11.16: channels and pageIds -----------------------------------------

TEST_F(RocksOriginTest, Rule16_StarPageIdNeverMatches) {
  Apply(ModuleEvent("t1", "star-only", 1, {"web"}, {"*"}));
  Apply(ModuleEvent("t1", "star-and-p1", 1, {"web"}, {"*", "p1"}));
  EXPECT_TRUE(Read("web").empty());
  EXPECT_TRUE(Read("web", "*").empty());
  EXPECT_EQ(Summary(Read("web", "p1")),
            (std::vector<RowSummary>{{"p1", Kind::kModule, "star-and-p1", 1}}));
  EXPECT_TRUE(Known("t1"));
  EXPECT_EQ(Records().size(), 2u);
}

TEST_F(RocksOriginTest, Rule16_EmptyPageIdNeverMatches) {
  Apply(ModuleEvent("t1", "empty-only", 1, {"web"}, {""}));
  Apply(ModuleEvent("t1", "empty-star-p2", 1, {"web"}, {"", "*", "p2"}));
  EXPECT_TRUE(Read("web").empty());
  EXPECT_TRUE(Read("web", "").empty());
  EXPECT_EQ(Summary(Read("web", "p2")),
            (std::vector<RowSummary>{{"p2", Kind::kModule, "empty-star-p2", 1}}));
  EXPECT_TRUE(Known("t1"));
}

TEST_F(RocksOriginTest, Rule16_EmptyChannelsStoredNeverServedTenantKnown) {
  EXPECT_EQ(Apply(ModuleEvent("t1", "nowhere", 1, {})), ApplyOutcome::kApplied);
  EXPECT_TRUE(Read("web").empty());
  EXPECT_TRUE(Read("").empty());
  EXPECT_TRUE(Known("t1"));
  std::vector<StoredRecord> records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_FALSE(records[0].tombstone);
  EXPECT_EQ(records[0].record_json, Body("nowhere", 1));
  // Still under the version rule.
  EXPECT_EQ(Apply(ModuleEvent("t1", "nowhere", 1, {"web"})), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(ModuleEvent("t1", "nowhere", 2, {"web"})), ApplyOutcome::kApplied);
  EXPECT_EQ(Read("web").size(), 1u);
}

TEST_F(RocksOriginTest, Rule16_DuplicateChannelsAndPagesGiveOneRowEach) {
  Apply(ModuleEvent("t1", "m1", 1, {"web", "web"}, {"p1", "p1"}));
  EXPECT_EQ(Read("web", "p1").size(), 1u);
  Apply(DeleteEvent(Kind::kModule, "t1", "m1", 2));
  EXPECT_TRUE(Read("web", "p1").empty());
  EXPECT_FALSE(Known("t1"));
}

// ---- §11.13 record keys and export order ------------------------------------

TEST_F(RocksOriginTest, Rule13_ForEachRecordInTenantKindIdOrder) {
  const std::string nul_id("a\0b", 3);
  const std::string ff_id("a\xFF", 2);
  const std::string tenant_nul("a\0", 2);
  // Applied in scrambled order.
  Apply(ModuleEvent("a-b", "m", 1, {"web"}));
  Apply(ModuleEvent("a", ff_id, 1, {"web"}));
  Apply(TemplateEvent("a", "web", 1));
  Apply(ModuleEvent("b", "m", 1, {"web"}));
  Apply(ModuleEvent("a", nul_id, 1, {"web"}));
  Apply(ExperimentEvent("a", "z-exp", 1, {"web"}));
  Apply(ModuleEvent("a", "a", 1, {"web"}));
  Apply(ModuleEvent(tenant_nul, "m", 1, {"web"}));
  Apply(DeleteEvent(Kind::kModule, "a", "ab", 1));
  Apply(TemplateEvent("a", "ios", 1));

  std::vector<events::RecordKey> expected = {
      {"a", Kind::kExperiment, "z-exp"},  // experiment < module < template
      {"a", Kind::kModule, "a"},          // "a" < "a\0b" < "ab" < "a\xFF"
      {"a", Kind::kModule, nul_id},
      {"a", Kind::kModule, "ab"},
      {"a", Kind::kModule, ff_id},
      {"a", Kind::kTemplate, "ios:home"},
      {"a", Kind::kTemplate, "web:home"},
      {tenant_nul, Kind::kModule, "m"},  // "a" < "a\0" < "a-b" < "b"
      {"a-b", Kind::kModule, "m"},
      {"b", Kind::kModule, "m"},
  };
  std::vector<events::RecordKey> keys;
  for (const StoredRecord& r : Records()) keys.push_back(r.key);
  EXPECT_EQ(keys, expected);
  // Ids with 0x00/0xFF bytes are exact row ids too.
  std::vector<Row> rows = Read("web", std::nullopt, "a");
  EXPECT_EQ(Summary(rows), (std::vector<RowSummary>{{"*", Kind::kExperiment, "z-exp", 1},
                                                    {"*", Kind::kModule, "a", 1},
                                                    {"*", Kind::kModule, nul_id, 1},
                                                    {"*", Kind::kModule, ff_id, 1},
                                                    {"*", Kind::kTemplate, "", 1}}));
}

TEST_F(RocksOriginTest, Rule13_ForEachRecordStopsAtFirstError) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  Apply(ModuleEvent("t1", "m2", 1, {"web"}));
  int calls = 0;
  Status s = origin_->ForEachRecord([&](const StoredRecord&) {
    ++calls;
    return Status::IOError("disk full");
  });
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_EQ(s.message(), "disk full");
  EXPECT_EQ(calls, 1);
}

TEST_F(RocksOriginTest, Rule13_TemplatesAreKeyedByChannelAndPageType) {
  Apply(TemplateEvent("t1", "web", 3));
  EXPECT_EQ(Apply(TemplateEvent("t1", "ios", 1)), ApplyOutcome::kApplied);  // another key
  EXPECT_EQ(Apply(TemplateEvent("t1", "web", 2)), ApplyOutcome::kStale);
  EXPECT_EQ(Summary(Read("web")), (std::vector<RowSummary>{{"*", Kind::kTemplate, "", 3}}));
  EXPECT_EQ(Summary(Read("ios")), (std::vector<RowSummary>{{"*", Kind::kTemplate, "", 1}}));
}

TEST_F(RocksOriginTest, Rule13_EventWhoseRecordDoesNotMatchItsKeyIsRejected) {
  Event e = ModuleEvent("t1", "m1", 1, {"web"});
  e.key.id = "other";
  auto r = origin_->Apply(e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  Event no_record = ModuleEvent("t1", "m1", 1, {"web"});
  no_record.record.reset();
  EXPECT_FALSE(origin_->Apply(no_record).ok());
  EXPECT_TRUE(Records().empty());
}

// ---- durability -------------------------------------------------------------

TEST_F(RocksOriginTest, Rule7_RestartKeepsRowsRecordsAndTenants) {
  Apply(ModuleEvent("t1", "m1", 4, {"web"}, {"p1"}));
  Apply(ExperimentEvent("t1", "e1", 2, {"web"}));
  Apply(ModuleEvent("t2", "gone", 1, {"web"}));
  Apply(DeleteEvent(Kind::kModule, "t2", "gone", 7));
  Reopen();
  EXPECT_EQ(Summary(Read("web", "p1")), (std::vector<RowSummary>{{"*", Kind::kExperiment, "e1", 2},
                                                                 {"p1", Kind::kModule, "m1", 4}}));
  EXPECT_TRUE(Known("t1"));
  EXPECT_FALSE(Known("t2"));
  EXPECT_EQ(Records().size(), 3u);
  // The version rule still holds against what was stored before the restart.
  EXPECT_EQ(Apply(ModuleEvent("t2", "gone", 7, {"web"})), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 5, {"web"})), ApplyOutcome::kApplied);
  Apply(DeleteEvent(Kind::kExperiment, "t1", "e1", 3));
  Apply(DeleteEvent(Kind::kModule, "t1", "m1", 6));
  Reopen();
  EXPECT_FALSE(Known("t1"));  // the live count was persisted, not only cached
  EXPECT_TRUE(Read("web", "p1").empty());
}

TEST_F(RocksOriginTest, Rule7_SecondOpenOfSameDirectoryFailsClearly) {
  auto second = OpenRocksOrigin(dir_.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kIOError);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos)
      << second.status().message();
  // The first handle is unaffected.
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 1, {"web"})), ApplyOutcome::kApplied);
}

// Writes raw bytes under a tuple key, bypassing the origin (which must be closed).
void PutRaw(const std::string& path, char tag, const std::vector<std::string>& tuple,
            const std::string& value) {
  std::string key(1, tag);
  for (const std::string& element : tuple) AppendTupleElement(&key, element);
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, value).ok());
  ASSERT_TRUE(db->Close().ok());
}

// Reads the raw value of one key of the store at `path` (the origin must be closed).
std::string GetRaw(const std::string& path, char tag, const std::vector<std::string>& tuple) {
  std::string key(1, tag);
  for (const std::string& element : tuple) AppendTupleElement(&key, element);
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  if (db != nullptr) {
    EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), key, &value).ok());
    EXPECT_TRUE(db->Close().ok());
  }
  return value;
}

// A live record's JSON is written once per row, not also in its record
// entry (a quarter fewer bytes per sync write); export reads it from a row.
// Tombstones, which have no rows, keep theirs in the entry, and entries
// written before this layout (JSON inline, flag clear) still export.
TEST_F(RocksOriginTest, Rule7_RecordJsonLivesInTheRowsAndIsExportedFromThere) {
  const Event module = ModuleEvent("t1", "m1", 3, {"web", "app"}, {"p1"});
  const Event deleted = DeleteEvent(Kind::kModule, "t1", "m2", 4);
  Apply(module);
  Apply(deleted);
  std::vector<StoredRecord> records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].record_json, module.record_json);
  EXPECT_EQ(records[0].version, 3);
  EXPECT_EQ(records[0].published_at, module.published_at);
  EXPECT_EQ(records[1].record_json, deleted.record_json);
  EXPECT_TRUE(records[1].tombstone);
  origin_.reset();

  const std::string entry = GetRaw(dir_.path(), 'r', {"t1", "module", "m1"});
  EXPECT_EQ(entry.find(module.record_json), std::string::npos);
  const std::string row = GetRaw(dir_.path(), 'p', {"t1", "app", kPageType, "p1", "module", "m1"});
  EXPECT_NE(row.find(module.record_json), std::string::npos);

  // The same entry as the earlier layout wrote it: flags 0, the JSON inline.
  std::string_view rest(entry);
  rest.remove_prefix(1 + 8);   // format, version
  ASSERT_EQ(rest[0], '\x02');  // flags: JSON in the rows
  rest.remove_prefix(1);
  std::string_view published_at, json;
  ASSERT_TRUE(ReadLengthPrefixed(&rest, &published_at));
  ASSERT_TRUE(ReadLengthPrefixed(&rest, &json));
  EXPECT_TRUE(json.empty());
  std::string old_layout = entry.substr(0, 9) + '\0';
  AppendLengthPrefixed(&old_layout, published_at);
  AppendLengthPrefixed(&old_layout, module.record_json);
  old_layout += rest;  // the row keys
  PutRaw(dir_.path(), 'r', {"t1", "module", "m1"}, old_layout);
  Open();
  records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].record_json, module.record_json);
  // And an upsert over it replaces the rows it lists, as before.
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 5, {"web"})), ApplyOutcome::kApplied);
  EXPECT_EQ(Summary(Read("app", "p1")), std::vector<RowSummary>{});
  EXPECT_EQ(Records()[0].version, 5);
}

TEST_F(RocksOriginTest, Rule7_CorruptStoredBytesAreReportedNotFatal) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  origin_.reset();
  PutRaw(dir_.path(), 'r', {"t1", "module", "m1"}, "garbage");
  PutRaw(dir_.path(), 'p', {"t1", "web", kPageType, "*", "module", "m2"}, "short");
  Open();
  auto applied = origin_->Apply(ModuleEvent("t1", "m1", 2, {"web"}));
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.status().code(), Status::Code::kCorruption);
  Status listed = origin_->ForEachRecord([](const StoredRecord&) { return Status::OK(); });
  EXPECT_EQ(listed.code(), Status::Code::kCorruption);
  auto read = origin_->ReadPage({"t1", "web", kPageType}, std::nullopt);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kCorruption);

  origin_.reset();
  PutRaw(dir_.path(), 't', {"t1"}, "not eight bytes");
  auto reopened = OpenRocksOrigin(dir_.path());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), Status::Code::kCorruption);
}

TEST(RocksOriginOpen, Rule7_UnusablePathIsAnError) {
  TempDir dir;
  std::string file = dir.path() + "/not-a-dir";
  {
    FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  auto opened = OpenRocksOrigin(file + "/db");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kIOError);
}

// ---- touched slices, Sync and secondaries (the sync service's needs) -------

std::vector<SliceKey> Sorted(std::vector<SliceKey> slices) {
  std::sort(slices.begin(), slices.end());
  slices.erase(std::unique(slices.begin(), slices.end()), slices.end());
  return slices;
}

SliceKey Slice(const std::string& channel, const std::string& scope,
               const std::string& page_type = kPageType) {
  return SliceKey{{"t1", channel, page_type}, scope};
}

TEST_F(RocksOriginTest, TouchedListsOldAndNewSlicesOfAMove) {
  std::vector<SliceKey> touched;
  ASSERT_TRUE(origin_->Apply(ModuleEvent("t1", "m1", 1, {"web"}, {"p1"}), &touched).ok());
  EXPECT_EQ(Sorted(touched), (std::vector<SliceKey>{Slice("web", "p1")}));

  touched.clear();
  ASSERT_TRUE(origin_->Apply(ModuleEvent("t1", "m1", 2, {"ios"}), &touched).ok());
  EXPECT_EQ(Sorted(touched), (std::vector<SliceKey>{Slice("ios", "*"), Slice("web", "p1")}));

  touched.clear();  // a stale event touches nothing
  auto stale = origin_->Apply(ModuleEvent("t1", "m1", 2, {"app"}), &touched);
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(*stale, ApplyOutcome::kStale);
  EXPECT_TRUE(touched.empty());

  touched.clear();  // a delete touches the slices it empties
  ASSERT_TRUE(origin_->Apply(DeleteEvent(Kind::kModule, "t1", "m1", 3), &touched).ok());
  EXPECT_EQ(Sorted(touched), (std::vector<SliceKey>{Slice("ios", "*")}));

  touched.clear();  // experiments and templates live in scope "*"
  ASSERT_TRUE(origin_->Apply(ExperimentEvent("t1", "e1", 1, {"web", "app"}), &touched).ok());
  ASSERT_TRUE(origin_->Apply(TemplateEvent("t1", "web", 1), &touched).ok());
  EXPECT_EQ(Sorted(touched), (std::vector<SliceKey>{Slice("app", "*"), Slice("web", "*")}));
}

// ---- ApplyBatch ------------------------------------------------------------------


TEST_F(RocksOriginTest, Rule14_ApplyBatchKeepsTenantCounts) {
  Apply(ModuleEvent("t2", "a", 1, {"web"}));
  ApplyAll(origin_.get(),
           {ModuleEvent("t3", "m1", 1, {"web"}),
            DeleteEvent(Kind::kModule, "t3", "m1", 2),  // t3: known, then not
            ModuleEvent("t4", "m1", 1, {"web"}), ModuleEvent("t4", "m1", 2, {"app"}),
            DeleteEvent(Kind::kModule, "t2", "a", 2), ModuleEvent("t2", "b", 1, {"web"})});
  EXPECT_FALSE(Known("t3"));
  EXPECT_TRUE(Known("t4"));
  EXPECT_TRUE(Known("t2"));
  ApplyAll(origin_.get(), {DeleteEvent(Kind::kModule, "t2", "b", 2)});
  EXPECT_FALSE(Known("t2"));
  Reopen();  // the stored counts agree
  EXPECT_FALSE(Known("t3"));
  EXPECT_TRUE(Known("t4"));
  EXPECT_FALSE(Known("t2"));
  ApplyAll(origin_.get(), {DeleteEvent(Kind::kModule, "t4", "m1", 3)});
  EXPECT_FALSE(Known("t4"));
  EXPECT_TRUE(ApplyAll(origin_.get(), {}).empty());
}

TEST_F(RocksOriginTest, SyncMakesAppliedWritesDurable) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  Status synced = origin_->Sync();
  ASSERT_TRUE(synced.ok()) << synced.ToString();
  Reopen();
  EXPECT_EQ(Summary(Read("web")), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 1}}));
}

TEST_F(RocksOriginTest, SecondarySeesPrimaryWritesAfterCatchUp) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  TempDir secondary_dir;
  auto secondary = OpenRocksSecondary(dir_.path(), secondary_dir.path());
  ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
  auto rows = (*secondary)->ReadScope({"t1", "web", kPageType}, "*");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(Summary(*rows), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 1}}));

  Apply(ModuleEvent("t1", "m1", 2, {"web"}));
  Apply(ModuleEvent("t2", "n1", 1, {"web"}));
  Status caught_up = (*secondary)->CatchUp();
  ASSERT_TRUE(caught_up.ok()) << caught_up.ToString();
  rows = (*secondary)->ReadScope({"t1", "web", kPageType}, "*");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(Summary(*rows), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 2}}));
  auto known = (*secondary)->TenantKnown("t2");  // tenant counts are reloaded too
  ASSERT_TRUE(known.ok());
  EXPECT_TRUE(*known);

  // A secondary is read-only, and two may share one primary.
  auto write = (*secondary)->Apply(ModuleEvent("t1", "m1", 9, {"web"}));
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.status().code(), Status::Code::kInvalidArgument);
  const Event event = ModuleEvent("t1", "m1", 9, {"web"});
  const Event* const batch[] = {&event};
  std::vector<ApplyResult> results;
  EXPECT_EQ((*secondary)->ApplyBatch(batch, &results, nullptr).code(),
            Status::Code::kInvalidArgument);
  EXPECT_TRUE(results.empty());
  TempDir other_dir;
  auto other = OpenRocksSecondary(dir_.path(), other_dir.path());
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_TRUE((*other)->CatchUp().ok());
}

// ---- the outbox (origin.h) ---------------------------------------------------

std::string Pending(Origin* origin) {
  auto pending = origin->PendingInvalidations();
  EXPECT_TRUE(pending.ok()) << pending.status().ToString();
  if (!pending.ok()) return pending.status().ToString();
  std::string out;
  for (const SliceTouch& t : *pending) {
    out += t.slice.partition.channel + "/" + t.slice.scope + "@" + std::to_string(t.version) + " ";
  }
  return out;
}

Status ApplyRecording(Origin* origin, const std::vector<Event>& events) {
  std::vector<const Event*> pointers;
  for (const Event& e : events) pointers.push_back(&e);
  std::vector<ApplyResult> results;
  return origin->ApplyBatch(pointers, &results, nullptr, /*record_pending=*/true);
}

// Every key of the store at `path` (the origin must be closed).
std::vector<std::string> RawKeys(const std::string& path) {
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::vector<std::string> keys;
  if (db == nullptr) return keys;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
  it.reset();  // before the database it reads
  EXPECT_TRUE(db->Close().ok());
  return keys;
}

TEST_F(RocksOriginTest, OutboxIsOneReservedKeyBesideTheRecords) {
  ASSERT_TRUE(ApplyRecording(origin_.get(), {ModuleEvent("t1", "m1", 1, {"web"}, {"p1"})}).ok());
  ASSERT_TRUE(ApplyRecording(origin_.get(), {ModuleEvent("t1", "m2", 1, {"app"})}).ok());
  origin_.reset();
  // One row and one record entry per module, one tenant count, and one outbox
  // key: the tag alone, which no tuple key can equal (a tuple key is longer).
  const std::vector<std::string> keys = RawKeys(dir_.path());
  ASSERT_EQ(keys.size(), 6u);
  EXPECT_EQ(keys[0], "o");
  for (size_t i = 1; i < keys.size(); ++i) EXPECT_NE(keys[i][0], 'o') << keys[i];
  Open();
  EXPECT_EQ(Pending(origin_.get()), "app/*@1 ");
}

TEST_F(RocksOriginTest, OutboxIsUntouchedByAFailedBatchAndCorruptBytesAreReported) {
  ASSERT_TRUE(ApplyRecording(origin_.get(), {ModuleEvent("t1", "m1", 1, {"web"})}).ok());
  origin_.reset();
  PutRaw(dir_.path(), 'r', {"t1", "module", "bad"}, "garbage");
  Open();
  // The batch fails on the corrupt record entry: none of it is written, outbox included.
  Status failed = ApplyRecording(
      origin_.get(), {ModuleEvent("t1", "m2", 1, {"app"}), ModuleEvent("t1", "bad", 2, {"ios"})});
  EXPECT_EQ(failed.code(), Status::Code::kCorruption) << failed.ToString();
  EXPECT_EQ(Pending(origin_.get()), "web/*@1 ");
  EXPECT_TRUE(Read("app").empty());

  origin_.reset();
  PutRaw(dir_.path(), 'o', {}, "\x01\x05short");
  Open();
  auto pending = origin_->PendingInvalidations();
  ASSERT_FALSE(pending.ok());
  EXPECT_EQ(pending.status().code(), Status::Code::kCorruption);
  // Nothing else reads it, and the next recorded batch replaces it.
  EXPECT_EQ(Summary(Read("web")), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 1}}));
  ASSERT_TRUE(ApplyRecording(origin_.get(), {ModuleEvent("t1", "m2", 1, {"app"})}).ok());
  EXPECT_EQ(Pending(origin_.get()), "app/*@1 ");
}

TEST_F(RocksOriginTest, OutboxOfTheWritingPrimaryIsReadableButNotClearableFromASecondary) {
  ASSERT_TRUE(ApplyRecording(origin_.get(), {ModuleEvent("t1", "m1", 1, {"web"})}).ok());
  TempDir secondary_dir;
  auto secondary = OpenRocksSecondary(dir_.path(), secondary_dir.path());
  ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
  EXPECT_EQ(Pending(secondary->get()), "web/*@1 ");
  EXPECT_EQ((*secondary)->ClearPendingInvalidations().code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(origin_->ClearPendingInvalidations().ok());
  ASSERT_TRUE((*secondary)->CatchUp().ok());
  EXPECT_EQ(Pending(secondary->get()), "");
}

TEST(RocksOriginOpen, SecondaryOfMissingStoreIsAnError) {
  TempDir dir;
  TempDir secondary_dir;
  auto secondary = OpenRocksSecondary(dir.path() + "/absent", secondary_dir.path());
  ASSERT_FALSE(secondary.ok());
  EXPECT_NE(secondary.status().message().find("secondary"), std::string::npos);
}

// ---- damaged stores and read-only opens (issue 12) ----------------------------

// The table files of the store at `path`.
std::vector<std::string> TableFiles(const std::string& path) {
  std::vector<std::string> tables;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() == ".sst") tables.push_back(entry.path().string());
  }
  std::sort(tables.begin(), tables.end());
  return tables;
}

// Everything a reader could change in a directory: each entry's name, size,
// modification time and bytes, and the directory's own modification time.
std::map<std::string, std::string> DirState(const std::string& path) {
  std::map<std::string, std::string> state;
  const auto stamp = [](const std::filesystem::path& p) {
    return std::to_string(std::filesystem::last_write_time(p).time_since_epoch().count());
  };
  state["."] = stamp(path);
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    state[entry.path().filename().string()] = stamp(entry.path()) + " " + bytes;
  }
  return state;
}

void Truncate(const std::string& file, uintmax_t size) {
  std::error_code error;
  std::filesystem::resize_file(file, size, error);
  ASSERT_FALSE(error) << error.message();
}

// Overwrites `count` bytes `from_end` bytes before the end of `file`, keeping its size.
void Scribble(const std::string& file, uintmax_t from_end, size_t count) {
  const uintmax_t size = std::filesystem::file_size(file);
  ASSERT_GE(size, from_end);
  std::fstream f(file, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(size - from_end));
  f.write(std::string(count, '\x5a').data(), static_cast<std::streamsize>(count));
  ASSERT_TRUE(f.good());
}

// A store whose rows are all in table files (closing the primary flushes).
class DamagedStoreTest : public RocksOriginTest {
 protected:
  void SetUp() override {
    RocksOriginTest::SetUp();
    for (int i = 0; i < 50; ++i) Apply(ModuleEvent("t1", "m" + std::to_string(i), 1, {"web"}));
    origin_.reset();
    tables_ = TableFiles(dir_.path());
    ASSERT_EQ(tables_.size(), 1u);
  }

  // Opening the store both ways a reader does fails with Corruption.
  void ExpectOpensFail() {
    TempDir secondary_dir;
    auto secondary = OpenRocksSecondary(dir_.path(), secondary_dir.path());
    ASSERT_FALSE(secondary.ok()) << "a damaged store opened as a secondary";
    EXPECT_EQ(secondary.status().code(), Status::Code::kCorruption)
        << secondary.status().ToString();
    auto read_only = OpenRocksReadOnly(dir_.path());
    ASSERT_FALSE(read_only.ok()) << "a damaged store opened read-only";
    EXPECT_EQ(read_only.status().code(), Status::Code::kCorruption)
        << read_only.status().ToString();
  }

  std::vector<std::string> tables_;
};

// A secondary alone opened these stores as empty ones: every tenant unknown.
TEST_F(DamagedStoreTest, MissingTableFileFailsTheOpen) {
  std::filesystem::remove(tables_[0]);
  ExpectOpensFail();
}

TEST_F(DamagedStoreTest, TruncatedTableFileFailsTheOpen) {
  Truncate(tables_[0], std::filesystem::file_size(tables_[0]) - 100);
  ExpectOpensFail();
}

TEST_F(DamagedStoreTest, TableWithDamagedIndexFailsTheOpen) {
  Scribble(tables_[0], /*from_end=*/300, /*count=*/64);  // the index and footer region
  ExpectOpensFail();
}

// Damage after a reader opened the store is an error from each read, never rows missing.
TEST_F(DamagedStoreTest, TableTruncatedUnderAnOpenReaderFailsEachRead) {
  TempDir secondary_dir;
  auto secondary = OpenRocksSecondary(dir_.path(), secondary_dir.path());
  ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
  auto read_only = OpenRocksReadOnly(dir_.path());
  ASSERT_TRUE(read_only.ok()) << read_only.status().ToString();
  Truncate(tables_[0], 64);
  for (Origin* reader : {secondary->get(), read_only->get()}) {
    auto rows = reader->ReadScope({"t1", "web", kPageType}, "*");
    ASSERT_FALSE(rows.ok()) << rows->size() << " rows";
    EXPECT_TRUE(rows.status().code() == Status::Code::kCorruption ||
                rows.status().code() == Status::Code::kIOError)
        << rows.status().ToString();
    auto page = reader->ReadPage({"t1", "web", kPageType}, "p1");
    EXPECT_FALSE(page.ok());
    Status listed = reader->ForEachRecord([](const StoredRecord&) { return Status::OK(); });
    EXPECT_TRUE(listed.code() == Status::Code::kCorruption ||
                listed.code() == Status::Code::kIOError)
        << listed.ToString();
    auto known = reader->TenantKnown("t1");  // from the counts read at open
    ASSERT_TRUE(known.ok()) << known.status().ToString();
    EXPECT_TRUE(*known);
  }
}

// With several tables the check's read-only open opens only some of them; a
// secondary then leaves out a damaged one it did not open (and every table
// added after it) unless its view is compared with what the MANIFEST lists.
TEST_F(RocksOriginTest, DamagedTableAmongSeveralFailsTheOpenNamingIt) {
  for (int table = 0; table < 3; ++table) {  // three L0 tables: one flush per close
    for (int i = 0; i < 20; ++i) {
      Apply(ModuleEvent("t" + std::to_string(table), "m" + std::to_string(i), 1, {"web"}));
    }
    Reopen();
  }
  origin_.reset();
  const std::vector<std::string> tables = TableFiles(dir_.path());
  ASSERT_EQ(tables.size(), 3u);
  for (const std::string& damaged : tables) {
    TempDir copy;
    std::filesystem::copy(dir_.path(), copy.path(), std::filesystem::copy_options::recursive);
    const std::string file = copy.path() + "/" + std::filesystem::path(damaged).filename().string();
    Scribble(file, /*from_end=*/300, /*count=*/64);
    TempDir secondary_dir;
    auto secondary = OpenRocksSecondary(copy.path(), secondary_dir.path());
    ASSERT_FALSE(secondary.ok()) << file;
    EXPECT_EQ(secondary.status().code(), Status::Code::kCorruption);
    EXPECT_NE(secondary.status().message().find(file), std::string::npos)
        << secondary.status().message();
  }
}

TEST_F(RocksOriginTest, ReadOnlyOpenReadsTheStoreAsAtOpenAndRefusesWrites) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  Apply(ExperimentEvent("t1", "e1", 2, {"web"}));
  // The primary is open and holds the lock: a read-only open needs neither.
  auto read_only = OpenRocksReadOnly(dir_.path());
  ASSERT_TRUE(read_only.ok()) << read_only.status().ToString();
  Apply(ModuleEvent("t2", "n1", 1, {"web"}));  // after the open: not seen

  Origin* reader = read_only->get();
  auto rows = reader->ReadScope({"t1", "web", kPageType}, "*");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(Summary(*rows), (std::vector<RowSummary>{{"*", Kind::kExperiment, "e1", 2},
                                                     {"*", Kind::kModule, "m1", 1}}));
  EXPECT_EQ(*reader->TenantKnown("t1"), true);
  EXPECT_EQ(*reader->TenantKnown("t2"), false);
  std::vector<StoredRecord> listed;
  ASSERT_TRUE(reader
                  ->ForEachRecord([&](const StoredRecord& r) {
                    listed.push_back(r);
                    return Status::OK();
                  })
                  .ok());
  EXPECT_EQ(listed.size(), 2u);
  EXPECT_TRUE(reader->CatchUp().ok());
  EXPECT_EQ(*reader->TenantKnown("t2"), false);  // a read-only open does not tail

  auto write = reader->Apply(ModuleEvent("t1", "m1", 9, {"web"}));
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(reader->ClearPendingInvalidations().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(reader->Sync().ok());
}

TEST_F(RocksOriginTest, ReadOnlyOpenChangesNothingInTheDirectory) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  origin_.reset();  // rows in a table file
  Open();
  Apply(ModuleEvent("t1", "m2", 1, {"web"}));
  origin_.reset();
  const std::map<std::string, std::string> before = DirState(dir_.path());
  {
    auto read_only = OpenRocksReadOnly(dir_.path());
    ASSERT_TRUE(read_only.ok()) << read_only.status().ToString();
    size_t count = 0;
    ASSERT_TRUE((*read_only)
                    ->ForEachRecord([&](const StoredRecord&) {
                      ++count;
                      return Status::OK();
                    })
                    .ok());
    EXPECT_EQ(count, 2u);
  }
  const std::map<std::string, std::string> after = DirState(dir_.path());
  EXPECT_EQ(before.size(), after.size());
  for (const auto& [name, state] : before) {
    auto it = after.find(name);
    ASSERT_NE(it, after.end()) << name << " is gone";
    EXPECT_TRUE(it->second == state) << name << " changed";
  }
  for (const auto& [name, state] : after) EXPECT_EQ(before.count(name), 1u) << name << " is new";
}

TEST(RocksOriginOpen, ReadersOfAPathThatIsNotAStoreFailAndCreateNothing) {
  TempDir dir;
  const std::string absent = dir.path() + "/absent";
  const std::string empty = dir.path() + "/empty";
  const std::string file = dir.path() + "/file";
  std::filesystem::create_directory(empty);
  std::ofstream(file) << "not a store";
  for (const std::string& path : {absent, empty, file}) {
    auto read_only = OpenRocksReadOnly(path);
    ASSERT_FALSE(read_only.ok()) << path;
    EXPECT_EQ(read_only.status().code(), Status::Code::kNotFound) << read_only.status().ToString();
    EXPECT_NE(read_only.status().message().find(path), std::string::npos);
    TempDir secondary_dir;
    auto secondary = OpenRocksSecondary(path, secondary_dir.path());
    ASSERT_FALSE(secondary.ok()) << path;
    EXPECT_EQ(secondary.status().code(), Status::Code::kNotFound) << secondary.status().ToString();
  }
  EXPECT_FALSE(std::filesystem::exists(absent));
  EXPECT_TRUE(std::filesystem::is_empty(empty));
  EXPECT_EQ(std::filesystem::file_size(file), std::string("not a store").size());
}

}  // namespace
}  // namespace tempo::origin
