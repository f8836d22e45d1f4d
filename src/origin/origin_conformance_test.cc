// The conformance suite of origin.h: every rule an Origin must keep (SPEC §7
// and §11.13-18), run against each backend: RocksDB in a temporary
// directory and PostgreSQL on a throw-away server (testing/pg_server.h), one
// fresh store per test. Backend-specific behaviour (RocksDB's secondaries,
// read-only opens and damaged files; PostgreSQL's schema, pool and
// timeouts) is tested in rocks_origin_test.cc and pg_origin_test.cc.
//
// Events are built directly (no JSON decoding): an Event carries the decoded
// record, and the origin stores record_json verbatim as the row body.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "origin/origin.h"
#include "origin/origin_test_fixtures.h"
#include "origin/pg_origin.h"
#include "origin/rocks_origin.h"
#include "testing/temp_dir.h"

namespace tempo::origin {
namespace {

using events::Event;
using events::Kind;
using events::Op;
using namespace fixtures;  // the event builders and readers of both backends

// One store of a backend, empty when made; Open() opens it (again).
class Store {
 public:
  virtual ~Store() = default;
  virtual Result<std::unique_ptr<Origin>> Open() = 0;
};

class RocksStore final : public Store {
 public:
  Result<std::unique_ptr<Origin>> Open() override { return OpenRocksOrigin(dir_.path()); }

 private:
  testing::TempDir dir_{"tempo_origin_test"};
};

class PostgresStore final : public Store {
 public:
  Result<std::unique_ptr<Origin>> Open() override {
    if (uri_.empty()) return Status::Unavailable("no PostgreSQL server for the test");
    return OpenPostgresOrigin(uri_);
  }

 private:
  std::string uri_ = FreshDatabase();
};

// A backend under test: its name and how to make a fresh store of it.
struct Backend {
  const char* name;
  std::function<std::unique_ptr<Store>()> new_store;
};
void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

const Backend kBackends[] = {
    {"Rocks", [] { return std::unique_ptr<Store>(std::make_unique<RocksStore>()); }},
    {"Postgres", [] { return std::unique_ptr<Store>(std::make_unique<PostgresStore>()); }},
};

class OriginConformanceTest : public ::testing::TestWithParam<Backend>, protected OriginUser {
 protected:
  void SetUp() override {
    store_ = GetParam().new_store();
    Open();
  }

  void Open() {
    auto opened = store_->Open();
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    origin_ = std::move(*opened);
  }
  void Reopen() {
    origin_.reset();
    Open();
  }

  std::vector<RowSummary> Scope(const std::string& channel, std::string_view scope) {
    auto r = origin_->ReadScope({"t1", channel, kPageType}, scope);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Summary(*r) : std::vector<RowSummary>{};
  }

  bool Known(const std::string& tenant) {
    auto r = origin_->TenantKnown(tenant);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  }

  std::unique_ptr<Store> store_;  // outlives origin_
};

INSTANTIATE_TEST_SUITE_P(Backends, OriginConformanceTest, ::testing::ValuesIn(kBackends),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return std::string(info.param.name);
                         });

// Touched slices, deduplicated in SliceKey order.
std::vector<SliceKey> Sorted(std::vector<SliceKey> slices) {
  std::sort(slices.begin(), slices.end());
  slices.erase(std::unique(slices.begin(), slices.end()), slices.end());
  return slices;
}

SliceKey Slice(const std::string& channel, const std::string& scope,
               const std::string& page_type = kPageType) {
  return SliceKey{{"t1", channel, page_type}, scope};
}

// ---- §7: rows, page and scope reads ------------------------------------------------------------

TEST_P(OriginConformanceTest, Rule7_RowsServeEveryChannelAndPageInReadOrder) {
  EXPECT_EQ(Apply(ModuleEvent("t1", "wide-b", 1, {"web"})), ApplyOutcome::kApplied);
  Apply(ModuleEvent("t1", "wide-a", 2, {"web"}));
  Apply(ModuleEvent("t1", "on-p1", 3, {"web", "ios"}, {"p1", "p2"}));
  // "!" sorts before "*" bytewise; its rows still come after the "*" rows.
  Apply(ModuleEvent("t1", "on-bang", 4, {"web"}, {"!"}));

  std::vector<Row> rows = Read("web");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].body, Body("wide-a", 2));
  EXPECT_EQ(Summary(rows), (std::vector<RowSummary>{{"*", Kind::kModule, "wide-a", 2},
                                                    {"*", Kind::kModule, "wide-b", 1}}));
  EXPECT_EQ(Summary(Read("web", "p1")),
            (std::vector<RowSummary>{{"*", Kind::kModule, "wide-a", 2},
                                     {"*", Kind::kModule, "wide-b", 1},
                                     {"p1", Kind::kModule, "on-p1", 3}}));
  EXPECT_EQ(Summary(Read("web", "!")),
            (std::vector<RowSummary>{{"*", Kind::kModule, "wide-a", 2},
                                     {"*", Kind::kModule, "wide-b", 1},
                                     {"!", Kind::kModule, "on-bang", 4}}));
  EXPECT_EQ(Summary(Read("ios", "p2")),
            (std::vector<RowSummary>{{"p2", Kind::kModule, "on-p1", 3}}));
  EXPECT_TRUE(Read("ios").empty());
  EXPECT_TRUE(Read("ios", "p3").empty());
  EXPECT_TRUE(Read("web", std::nullopt, "t2").empty());
  EXPECT_TRUE(Read("web", std::nullopt, "t1", "other").empty());
  // "*" and "" as page ids read the type-wide rows once.
  EXPECT_EQ(Read("web", "*").size(), 2u);
  EXPECT_EQ(Read("web", "").size(), 2u);

  EXPECT_EQ(Scope("web", "*"), Summary(Read("web")));
  EXPECT_EQ(Scope("web", "p1"), (std::vector<RowSummary>{{"p1", Kind::kModule, "on-p1", 3}}));
  EXPECT_EQ(Scope("web", "p3"), std::vector<RowSummary>{});
  EXPECT_EQ(Scope("web", ""), std::vector<RowSummary>{});
}

TEST_P(OriginConformanceTest, Rule7_AppliedModuleIsReadWithVersionAndBody) {
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

TEST_P(OriginConformanceTest, Rule7_ModuleServesEveryChannelTimesPage) {
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

TEST_P(OriginConformanceTest, Rule7_PageReadReturnsTypeWideRowsThenPageRows) {
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

TEST_P(OriginConformanceTest, Rule7_ScopeReadReturnsOnlyThatScope) {
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

TEST_P(OriginConformanceTest, Rule7_StarPageIdReadsTypeWideRowsOnce) {
  Apply(ModuleEvent("t1", "wide", 1, {"web"}));
  Apply(ModuleEvent("t1", "paged", 1, {"web"}, {"p1"}));
  EXPECT_EQ(Summary(Read("web", "*")), (std::vector<RowSummary>{{"*", Kind::kModule, "wide", 1}}));
  EXPECT_EQ(Summary(Read("web", "")), (std::vector<RowSummary>{{"*", Kind::kModule, "wide", 1}}));
}

TEST_P(OriginConformanceTest, Rule7_TwoExperimentsAndTemplateAreTypeWideRowsInKindOrder) {
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

// Origin::ReadPage (two scopes in one snapshot) is gone: the serving path
// reads one scope per slice. What remains is that one scope read is one
// snapshot of atomic batches.
TEST_P(OriginConformanceTest, Rule7_ScopeReadIsOneSnapshot) {
  // A writer swaps two modules between web and ios in one batch each; every
  // read of web's scope "*" must see exactly one of them.
  ApplyAll(origin_.get(), {ModuleEvent("t1", "a", 1, {"web"}), ModuleEvent("t1", "b", 1, {"ios"})});
  std::atomic<bool> done{false};
  std::atomic<int> bad_reads{0}, reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto rows = origin_->ReadScope({"t1", "web", kPageType}, "*");
      if (!rows.ok() || rows->size() != 1) bad_reads.fetch_add(1);
      reads.fetch_add(1);
    }
  });
  while (reads.load() == 0) std::this_thread::yield();  // overlap the reader with the writes
  constexpr int kMoves = 200;
  for (int v = 2; v < 2 + kMoves; ++v) {
    const std::string a_channel = v % 2 == 0 ? "ios" : "web";
    const std::string b_channel = v % 2 == 0 ? "web" : "ios";
    ApplyAll(origin_.get(),
             {ModuleEvent("t1", "a", v, {a_channel}), ModuleEvent("t1", "b", v, {b_channel})});
  }
  done.store(true);
  reader.join();
  EXPECT_EQ(bad_reads.load(), 0);
}

// ---- §11.13: record keys and export order ------------------------------------------------------

TEST_P(OriginConformanceTest, Rule13_KindOrderAndBytewiseKeysInRowsAndRecords) {
  const std::string nul_id("a\0b", 3);
  const std::string ff_id("a\xFF", 2);
  const std::string tenant_nul("a\0", 2);
  // Applied in scrambled order.
  Apply(ModuleEvent("a-b", "m", 1, {"web"}));
  Apply(ModuleEvent("a", ff_id, 1, {"web"}));
  Apply(TemplateEvent("a", "web", 7));
  Apply(ModuleEvent("b", "m", 1, {"web"}));
  Apply(ModuleEvent("a", nul_id, 1, {"web"}));
  Apply(ExperimentEvent("a", "z-exp", 3, {"web", "ios"}));
  Apply(ExperimentEvent("a", "b-exp", 2, {"web"}));
  Apply(ModuleEvent("a", "a", 1, {"web"}));
  Apply(ModuleEvent("a", "on-p1", 1, {"web"}, {"p1"}));
  Event nul_published = ModuleEvent(tenant_nul, "m", 1, {"web"});
  nul_published.published_at = std::string("x\0y\xC3", 4);
  Apply(nul_published);
  Apply(DeleteEvent(Kind::kModule, "a", "ab", 1));
  Apply(TemplateEvent("a", "ios", 1));

  std::vector<events::RecordKey> expected = {
      {"a", Kind::kExperiment, "b-exp"},  // experiment < module < template
      {"a", Kind::kExperiment, "z-exp"},
      {"a", Kind::kModule, "a"},  // "a" < "a\0b" < "ab" < "a\xFF"
      {"a", Kind::kModule, nul_id},
      {"a", Kind::kModule, "ab"},
      {"a", Kind::kModule, ff_id},
      {"a", Kind::kModule, "on-p1"},
      {"a", Kind::kTemplate, "ios:home"},
      {"a", Kind::kTemplate, "web:home"},
      {tenant_nul, Kind::kModule, "m"},  // "a" < "a\0" < "a-b" < "b"
      {"a-b", Kind::kModule, "m"},
      {"b", Kind::kModule, "m"},
  };
  std::vector<StoredRecord> records = Records();
  std::vector<events::RecordKey> keys;
  for (const StoredRecord& r : records) keys.push_back(r.key);
  EXPECT_EQ(keys, expected);
  ASSERT_EQ(records.size(), expected.size());
  EXPECT_EQ(records[9].published_at, nul_published.published_at);

  std::vector<Row> rows = Read("web", "p1", "a");
  EXPECT_EQ(Summary(rows), (std::vector<RowSummary>{{"*", Kind::kExperiment, "b-exp", 2},
                                                    {"*", Kind::kExperiment, "z-exp", 3},
                                                    {"*", Kind::kModule, "a", 1},
                                                    {"*", Kind::kModule, nul_id, 1},
                                                    {"*", Kind::kModule, ff_id, 1},
                                                    {"*", Kind::kTemplate, "", 7},
                                                    {"p1", Kind::kModule, "on-p1", 1}}));
  EXPECT_EQ(rows[5].body, Body("template", 7));
  EXPECT_EQ(Summary(Read("ios", std::nullopt, "a")),
            (std::vector<RowSummary>{{"*", Kind::kExperiment, "z-exp", 3},
                                     {"*", Kind::kTemplate, "", 1}}));
  EXPECT_EQ(Read("web", std::nullopt, tenant_nul).size(), 1u);
}

TEST_P(OriginConformanceTest, Rule13_ForEachRecordInTenantKindIdOrder) {
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

TEST_P(OriginConformanceTest, Rule13_ForEachRecordStopsAtFirstError) {
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

TEST_P(OriginConformanceTest, Rule13_TemplatesAreKeyedByChannelAndPageType) {
  Apply(TemplateEvent("t1", "web", 3));
  EXPECT_EQ(Apply(TemplateEvent("t1", "ios", 1)), ApplyOutcome::kApplied);  // another key
  EXPECT_EQ(Apply(TemplateEvent("t1", "web", 2)), ApplyOutcome::kStale);
  EXPECT_EQ(Summary(Read("web")), (std::vector<RowSummary>{{"*", Kind::kTemplate, "", 3}}));
  EXPECT_EQ(Summary(Read("ios")), (std::vector<RowSummary>{{"*", Kind::kTemplate, "", 1}}));
}

TEST_P(OriginConformanceTest, Rule13_EventWhoseRecordDoesNotMatchItsKeyIsRejected) {
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

TEST_P(OriginConformanceTest, Rule13_BadEventsAreRejectedAndListingStopsAtFirstError) {
  Event e = ModuleEvent("t1", "m1", 1, {"web"});
  e.key.id = "other";
  auto r = origin_->Apply(e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  Event no_record = ModuleEvent("t1", "m1", 1, {"web"});
  no_record.record.reset();
  EXPECT_EQ(origin_->Apply(no_record).status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Records().empty());

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
  // The store is still usable after an interrupted listing.
  EXPECT_EQ(Records().size(), 2u);
}

// ---- §11.14: the version rule ------------------------------------------------------------------

TEST_P(OriginConformanceTest, Rule14_StrictlyHigherVersionWins) {
  Apply(ModuleEvent("t1", "m1", 5, {"web"}));
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 6, {"web"})), ApplyOutcome::kApplied);
  Event same = ModuleEvent("t1", "m1", 6, {"ios"});
  same.record_json = "{\"changed\":true}";
  EXPECT_EQ(Apply(same), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 4, {"ios"})), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(DeleteEvent(Kind::kModule, "t1", "m1", 6)), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(DeleteEvent(Kind::kModule, "t1", "m1", 1)), ApplyOutcome::kStale);
  std::vector<Row> rows = Read("web");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].version, 6);
  EXPECT_EQ(rows[0].body, Body("m1", 6));
  EXPECT_TRUE(Read("ios").empty());
  // Templates are keyed by (tenant, channel, pageType).
  Apply(TemplateEvent("t1", "web", 3));
  EXPECT_EQ(Apply(TemplateEvent("t1", "ios", 1)), ApplyOutcome::kApplied);
  EXPECT_EQ(Apply(TemplateEvent("t1", "web", 2)), ApplyOutcome::kStale);
  EXPECT_EQ(Summary(Read("ios")), (std::vector<RowSummary>{{"*", Kind::kTemplate, "", 1}}));
}

TEST_P(OriginConformanceTest, Rule14_HigherVersionWins) {
  Apply(ModuleEvent("t1", "m1", 5, {"web"}));
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 6, {"web"})), ApplyOutcome::kApplied);
  std::vector<Row> rows = Read("web");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].version, 6);
  EXPECT_EQ(rows[0].body, Body("m1", 6));
}

TEST_P(OriginConformanceTest, Rule14_EqualVersionIgnored) {
  Apply(ModuleEvent("t1", "m1", 5, {"web"}));
  Event same = ModuleEvent("t1", "m1", 5, {"ios"});
  same.record_json = "{\"changed\":true}";
  EXPECT_EQ(Apply(same), ApplyOutcome::kStale);
  EXPECT_EQ(Summary(Read("web")), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 5}}));
  EXPECT_EQ(Read("web")[0].body, Body("m1", 5));
  EXPECT_TRUE(Read("ios").empty());
}

TEST_P(OriginConformanceTest, Rule14_LowerVersionIgnored) {
  Apply(ModuleEvent("t1", "m1", 5, {"web"}));
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 4, {"ios"})), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(DeleteEvent(Kind::kModule, "t1", "m1", 5)), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(DeleteEvent(Kind::kModule, "t1", "m1", 1)), ApplyOutcome::kStale);
  EXPECT_EQ(Summary(Read("web")), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 5}}));
  EXPECT_TRUE(Read("ios").empty());
}

TEST_P(OriginConformanceTest, Rule14_DeletesLeaveTombstonesUnderTheVersionRule) {
  Apply(ModuleEvent("t1", "m1", 2, {"web", "ios"}, {"p1"}));
  Apply(ModuleEvent("t1", "keep", 1, {"web"}));
  EXPECT_EQ(Apply(DeleteEvent(Kind::kModule, "t1", "m1", 4)), ApplyOutcome::kApplied);
  EXPECT_EQ(Summary(Read("web", "p1")), (std::vector<RowSummary>{{"*", Kind::kModule, "keep", 1}}));
  EXPECT_TRUE(Read("ios", "p1").empty());
  std::vector<StoredRecord> records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].key, (events::RecordKey{"t1", Kind::kModule, "m1"}));
  EXPECT_TRUE(records[1].tombstone);
  EXPECT_EQ(records[1].version, 4);
  EXPECT_EQ(records[1].published_at, "2026-11-23T00:00:00Z");
  EXPECT_EQ(records[1].record_json, DeleteEvent(Kind::kModule, "t1", "m1", 4).record_json);

  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 3, {"web"})), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 4, {"web"})), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(DeleteEvent(Kind::kModule, "t1", "m1", 4)), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 5, {"web"})), ApplyOutcome::kApplied);
  EXPECT_EQ(Scope("web", "*"), (std::vector<RowSummary>{{"*", Kind::kModule, "keep", 1},
                                                        {"*", Kind::kModule, "m1", 5}}));
  EXPECT_FALSE(Records()[1].tombstone);

  // A delete of a record never seen still leaves a tombstone.
  EXPECT_EQ(Apply(DeleteEvent(Kind::kExperiment, "t2", "never", 9)), ApplyOutcome::kApplied);
  EXPECT_EQ(Apply(ExperimentEvent("t2", "never", 9, {"web"})), ApplyOutcome::kStale);
  EXPECT_TRUE(Read("web", std::nullopt, "t2").empty());
  EXPECT_EQ(Records().size(), 3u);
}

TEST_P(OriginConformanceTest, Rule14_UpsertAfterTombstoneNeedsHigherVersion) {
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

TEST_P(OriginConformanceTest, Rule14_DeleteOfUnknownRecordLeavesTombstone) {
  EXPECT_EQ(Apply(DeleteEvent(Kind::kExperiment, "t1", "never", 9)), ApplyOutcome::kApplied);
  EXPECT_EQ(Apply(ExperimentEvent("t1", "never", 9, {"web"})), ApplyOutcome::kStale);
  EXPECT_TRUE(Read("web").empty());
  std::vector<StoredRecord> records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0].tombstone);
  EXPECT_EQ(records[0].version, 9);
  EXPECT_FALSE(Known("t1"));
}

TEST_P(OriginConformanceTest, Rule14_UpsertThatMovesChannelsAndPagesMovesRows) {
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

// ---- §11.16: channels and pageIds --------------------------------------------------------------

TEST_P(OriginConformanceTest, Rule16_StarEmptyAndDuplicatePageIds) {
  Apply(ModuleEvent("t1", "star-only", 1, {"web"}, {"*"}));
  Apply(ModuleEvent("t1", "star-and-p1", 1, {"web"}, {"*", "p1"}));
  Apply(ModuleEvent("t1", "empty-only", 1, {"web"}, {""}));
  Apply(ModuleEvent("t1", "empty-star-p2", 1, {"web"}, {"", "*", "p2"}));
  Apply(ModuleEvent("t1", "dup", 1, {"web", "web"}, {"p1", "p1"}));
  EXPECT_TRUE(Read("web").empty());
  EXPECT_TRUE(Read("web", "*").empty());
  EXPECT_TRUE(Read("web", "").empty());
  EXPECT_EQ(Summary(Read("web", "p1")),
            (std::vector<RowSummary>{{"p1", Kind::kModule, "dup", 1},
                                     {"p1", Kind::kModule, "star-and-p1", 1}}));
  EXPECT_EQ(Summary(Read("web", "p2")),
            (std::vector<RowSummary>{{"p2", Kind::kModule, "empty-star-p2", 1}}));
  EXPECT_TRUE(Known("t1"));
  EXPECT_EQ(Records().size(), 5u);
  Apply(DeleteEvent(Kind::kModule, "t1", "dup", 2));
  EXPECT_EQ(Read("web", "p1").size(), 1u);
}

TEST_P(OriginConformanceTest, Rule16_StarPageIdNeverMatches) {
  Apply(ModuleEvent("t1", "star-only", 1, {"web"}, {"*"}));
  Apply(ModuleEvent("t1", "star-and-p1", 1, {"web"}, {"*", "p1"}));
  EXPECT_TRUE(Read("web").empty());
  EXPECT_TRUE(Read("web", "*").empty());
  EXPECT_EQ(Summary(Read("web", "p1")),
            (std::vector<RowSummary>{{"p1", Kind::kModule, "star-and-p1", 1}}));
  EXPECT_TRUE(Known("t1"));
  EXPECT_EQ(Records().size(), 2u);
}

TEST_P(OriginConformanceTest, Rule16_EmptyPageIdNeverMatches) {
  Apply(ModuleEvent("t1", "empty-only", 1, {"web"}, {""}));
  Apply(ModuleEvent("t1", "empty-star-p2", 1, {"web"}, {"", "*", "p2"}));
  EXPECT_TRUE(Read("web").empty());
  EXPECT_TRUE(Read("web", "").empty());
  EXPECT_EQ(Summary(Read("web", "p2")),
            (std::vector<RowSummary>{{"p2", Kind::kModule, "empty-star-p2", 1}}));
  EXPECT_TRUE(Known("t1"));
}

TEST_P(OriginConformanceTest, Rule16_EmptyChannelsStoredNeverServedTenantKnown) {
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

TEST_P(OriginConformanceTest, Rule16_DuplicateChannelsAndPagesGiveOneRowEach) {
  Apply(ModuleEvent("t1", "m1", 1, {"web", "web"}, {"p1", "p1"}));
  EXPECT_EQ(Read("web", "p1").size(), 1u);
  Apply(DeleteEvent(Kind::kModule, "t1", "m1", 2));
  EXPECT_TRUE(Read("web", "p1").empty());
  EXPECT_FALSE(Known("t1"));
}

// ---- §11.18: known tenants ---------------------------------------------------------------------

TEST_P(OriginConformanceTest, Rule18_OnlyLiveRecordsMakeATenantKnown) {
  EXPECT_FALSE(Known("t1"));
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  Apply(ModuleEvent("t1", "m1", 2, {"ios"}));
  Apply(TemplateEvent("t1", "web", 1));
  EXPECT_TRUE(Known("t1"));
  EXPECT_FALSE(Known("t"));
  EXPECT_FALSE(Known("t1x"));
  Apply(DeleteEvent(Kind::kModule, "t1", "m1", 3));
  EXPECT_TRUE(Known("t1"));
  Apply(DeleteEvent(Kind::kTemplate, "t1", "web:home", 2));
  EXPECT_FALSE(Known("t1"));  // tombstones do not count, replaced upserts counted once
  EXPECT_EQ(Records().size(), 2u);
  Apply(ExperimentEvent("t1", "e1", 1, {"web"}));
  EXPECT_TRUE(Known("t1"));
  Apply(DeleteEvent(Kind::kModule, "t3", "ghost", 1));
  EXPECT_FALSE(Known("t3"));
  // A module with no channels is stored, never served, and makes its tenant known.
  EXPECT_EQ(Apply(ModuleEvent("t2", "nowhere", 1, {})), ApplyOutcome::kApplied);
  EXPECT_TRUE(Read("web", std::nullopt, "t2").empty());
  EXPECT_TRUE(Known("t2"));
  EXPECT_EQ(Apply(ModuleEvent("t2", "nowhere", 2, {"web"})), ApplyOutcome::kApplied);
  EXPECT_EQ(Read("web", std::nullopt, "t2").size(), 1u);
}

TEST_P(OriginConformanceTest, Rule14_TombstonesDoNotMakeTenantKnown) {
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

TEST_P(OriginConformanceTest, Rule14_TenantKnownSurvivesReplacingUpserts) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  Apply(ModuleEvent("t1", "m1", 2, {"web"}));
  Apply(ModuleEvent("t1", "m1", 3, {"ios"}));
  Apply(DeleteEvent(Kind::kModule, "t1", "m1", 4));
  EXPECT_FALSE(Known("t1"));  // counted once, not once per upsert
}

// ---- touched slices and ApplyBatch (the sync service's needs) ----------------------------------

TEST_P(OriginConformanceTest, Rule7_TouchedSlicesAreTheOldAndNewRows) {
  auto touched = [&](const Event& e) {
    std::vector<SliceKey> slices;
    auto r = origin_->Apply(e, &slices);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return slices;
  };
  auto slice = [](std::string channel, std::string scope, std::string page_type = kPageType) {
    return SliceKey{{"t1", std::move(channel), std::move(page_type)}, std::move(scope)};
  };
  EXPECT_EQ(touched(ModuleEvent("t1", "m1", 1, {"web", "ios"}, {"p2", "p1"})),
            (std::vector<SliceKey>{slice("ios", "p1"), slice("ios", "p2"), slice("web", "p1"),
                                   slice("web", "p2")}));
  EXPECT_EQ(touched(ModuleEvent("t1", "m1", 2, {"web"}, {}, "search")),
            (std::vector<SliceKey>{slice("ios", "p1"), slice("ios", "p2"), slice("web", "p1"),
                                   slice("web", "p2"), slice("web", "*", "search")}));
  EXPECT_TRUE(touched(ModuleEvent("t1", "m1", 2, {"app"})).empty());  // stale
  EXPECT_EQ(touched(DeleteEvent(Kind::kModule, "t1", "m1", 3)),
            (std::vector<SliceKey>{slice("web", "*", "search")}));
  EXPECT_TRUE(touched(ModuleEvent("t1", "m1", 4, {})).empty());
  EXPECT_EQ(touched(TemplateEvent("t1", "web", 1)), (std::vector<SliceKey>{slice("web", "*")}));
  EXPECT_EQ(touched(ExperimentEvent("t1", "e1", 1, {"web", "app"})),
            (std::vector<SliceKey>{slice("app", "*"), slice("web", "*")}));
}

TEST_P(OriginConformanceTest, TouchedListsOldAndNewSlicesOfAMove) {
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

TEST_P(OriginConformanceTest, Rule14_ApplyBatchKeepsTheVersionRuleInsideABatchInAnyOrder) {
  Apply(ModuleEvent("t1", "m3", 1, {"web"}));
  const std::vector<Event> batch = {
      ModuleEvent("t1", "m1", 2, {"web"}),
      ModuleEvent("t1", "m1", 1, {"app"}),  // older than the one before it
      ModuleEvent("t1", "m1", 3, {"ios"}, {"p1"}),
      ModuleEvent("t1", "m2", 1, {"web"}, {"p2"}),
      ModuleEvent("t1", "m2", 1, {"web"}, {"p2"}),  // duplicate
      DeleteEvent(Kind::kModule, "t1", "m3", 5),
      ModuleEvent("t1", "m3", 4, {"web"}),  // older than the delete
      TemplateEvent("t1", "web", 1),
      ModuleEvent("t2", "x", 1, {"web"}),
      DeleteEvent(Kind::kModule, "t2", "x", 2),  // t2: known, then not
  };
  std::vector<ApplyOutcome> outcomes;
  for (const ApplyResult& r : ApplyAll(origin_.get(), batch)) {
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    outcomes.push_back(r.outcome);
  }
  const ApplyOutcome applied = ApplyOutcome::kApplied, stale = ApplyOutcome::kStale;
  EXPECT_EQ(outcomes, (std::vector<ApplyOutcome>{applied, stale, applied, applied, stale, applied,
                                                 stale, applied, applied, applied}));
  EXPECT_EQ(Summary(Read("web", "p2")), (std::vector<RowSummary>{{"*", Kind::kTemplate, "", 1},
                                                                 {"p2", Kind::kModule, "m2", 1}}));
  EXPECT_EQ(Summary(Read("ios", "p1")), (std::vector<RowSummary>{{"p1", Kind::kModule, "m1", 3}}));
  EXPECT_TRUE(Read("app").empty());
  EXPECT_TRUE(Known("t1"));
  EXPECT_FALSE(Known("t2"));

  // The same events in the opposite order, in one batch, give the same store.
  std::unique_ptr<Store> other_store = GetParam().new_store();
  auto other = other_store->Open();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ASSERT_TRUE((*other)->Apply(ModuleEvent("t1", "m3", 1, {"web"})).ok());
  ApplyAll(other->get(), std::vector<Event>(batch.rbegin(), batch.rend()));
  // Every scope the batch wrote or emptied, read from `origin`.
  const auto scopes = [](Origin* origin) {
    std::vector<std::vector<FullRow>> out;
    for (const char* channel : {"web", "app", "ios"}) {
      for (const char* scope : {"*", "p1", "p2"}) {
        out.push_back(Full(origin->ReadScope({"t1", channel, kPageType}, scope)));
      }
    }
    return out;
  };
  EXPECT_EQ(AllRecords(other->get()), AllRecords(origin_.get()));
  EXPECT_EQ(scopes(other->get()), scopes(origin_.get()));
  auto known = (*other)->TenantKnown("t2");
  ASSERT_TRUE(known.ok());
  EXPECT_FALSE(*known);

  // And it was all written: the reopened store reads the same.
  const std::vector<FullRecord> records = AllRecords(origin_.get());
  const std::vector<std::vector<FullRow>> rows = scopes(origin_.get());
  Reopen();
  EXPECT_EQ(AllRecords(origin_.get()), records);
  EXPECT_EQ(scopes(origin_.get()), rows);
}

TEST_P(OriginConformanceTest, Rule7_ApplyBatchReportsEachEventsOutcomeAndSlicesInOrder) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}, {"p1"}));
  Event mismatched = ModuleEvent("t1", "m9", 1, {"web"});
  mismatched.key.id = "other";
  auto slice = [](std::string channel, std::string scope) {
    return SliceKey{{"t1", std::move(channel), kPageType}, std::move(scope)};
  };
  std::vector<SliceKey> touched = {slice("kept", "*")};  // appended to, not replaced
  const std::vector<ApplyResult> results = ApplyAll(
      origin_.get(),
      {ModuleEvent("t1", "m1", 2, {"web", "app"}), mismatched, ModuleEvent("t1", "m1", 2, {"ios"}),
       ModuleEvent("t1", "m2", 1, {"web"}, {"p1", "p2"}),
       DeleteEvent(Kind::kModule, "t1", "m1", 3)},
      &touched);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[1].status.code(), Status::Code::kInvalidArgument);
  std::vector<std::tuple<bool, ApplyOutcome, size_t>> summary;
  for (const ApplyResult& r : results) summary.emplace_back(r.status.ok(), r.outcome, r.touched);
  const ApplyOutcome applied = ApplyOutcome::kApplied, stale = ApplyOutcome::kStale;
  EXPECT_EQ(summary, (std::vector<std::tuple<bool, ApplyOutcome, size_t>>{{true, applied, 3},
                                                                          {false, stale, 0},
                                                                          {true, stale, 0},
                                                                          {true, applied, 2},
                                                                          {true, applied, 2}}));
  EXPECT_EQ(touched,
            (std::vector<SliceKey>{slice("kept", "*"),
                                   // m1 v2: its old row, then its new rows
                                   slice("web", "p1"), slice("app", "*"), slice("web", "*"),
                                   // m2
                                   slice("web", "p1"), slice("web", "p2"),
                                   // the delete of m1 v2's rows
                                   slice("app", "*"), slice("web", "*")}));
  EXPECT_TRUE(Read("app").empty());
  EXPECT_EQ(Records().size(), 2u);  // m1 (tombstone) and m2; nothing of the rejected event
  EXPECT_TRUE(ApplyAll(origin_.get(), {}).empty());
  EXPECT_TRUE(ApplyAll(origin_.get(), {mismatched})[0].status.code() ==
              Status::Code::kInvalidArgument);
}

TEST_P(OriginConformanceTest, Rule14_ApplyBatchKeepsTenantCounts) {
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

// ---- durability: reopen and Sync ---------------------------------------------------------------

TEST_P(OriginConformanceTest, Rule7_ReopenKeepsRowsRecordsAndTenants) {
  Apply(ModuleEvent("t1", "m1", 4, {"web"}, {"p1"}));
  Apply(ExperimentEvent("t1", "e1", 2, {"web"}));
  Apply(ModuleEvent("t2", "gone", 1, {"web"}));
  Apply(DeleteEvent(Kind::kModule, "t2", "gone", 7));
  ASSERT_TRUE(origin_->Sync().ok());
  Reopen();
  EXPECT_EQ(Summary(Read("web", "p1")), (std::vector<RowSummary>{{"*", Kind::kExperiment, "e1", 2},
                                                                 {"p1", Kind::kModule, "m1", 4}}));
  EXPECT_TRUE(Known("t1"));
  EXPECT_FALSE(Known("t2"));
  EXPECT_EQ(Records().size(), 3u);
  EXPECT_EQ(Apply(ModuleEvent("t2", "gone", 7, {"web"})), ApplyOutcome::kStale);
  EXPECT_EQ(Apply(ModuleEvent("t1", "m1", 5, {"web"})), ApplyOutcome::kApplied);
}

TEST_P(OriginConformanceTest, Rule7_RestartKeepsRowsRecordsAndTenants) {
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

TEST_P(OriginConformanceTest, SyncMakesAppliedWritesDurable) {
  Apply(ModuleEvent("t1", "m1", 1, {"web"}));
  Status synced = origin_->Sync();
  ASSERT_TRUE(synced.ok()) << synced.ToString();
  Reopen();
  EXPECT_EQ(Summary(Read("web")), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 1}}));
}

// ---- the outbox (origin.h) ---------------------------------------------------------------------

TEST_P(OriginConformanceTest, Outbox_RecordedWithItsBatchReplacedClearedAndInvisible) {
  // A second store fed the same events without the outbox: what every read must match.
  std::unique_ptr<Store> plain_store = GetParam().new_store();
  auto plain = plain_store->Open();
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(Pending(origin_.get()), "");  // a new store has none
  const Event m1v1 = ModuleEvent("t1", "m1", 1, {"web"}, {"p1"});
  ApplyAll(origin_.get(), {m1v1});
  ApplyAll(plain->get(), {m1v1});
  EXPECT_EQ(Pending(origin_.get()), "");  // not asked: nothing recorded

  // Each touched slice once, with the highest version of the applied events
  // that touched it; stale and rejected events count for nothing.
  Event mismatched = ModuleEvent("t1", "m9", 7, {"ios"});
  mismatched.key.id = "other";
  const std::vector<Event> batch = {
      ModuleEvent("t1", "m1", 2, {"web", "app"}), ModuleEvent("t2", "m2", 1, {"web"}, {"p1", "p2"}),
      ModuleEvent("t1", "m1", 3, {"web"}), ModuleEvent("t1", "m1", 1, {"ios"}), mismatched};
  std::vector<SliceKey> touched;
  ApplyRecording(origin_.get(), batch, &touched);
  ApplyAll(plain->get(), batch);
  const std::string first =
      "t1/app/home/*@3 t1/web/home/*@3 t1/web/home/p1@2 t2/web/home/p1@1 t2/web/home/p2@1 ";
  EXPECT_EQ(Pending(origin_.get()), first);
  EXPECT_EQ(touched.size(), 8u);  // the caller's slices are reported as without the outbox

  // Invisible to every read: the two stores read and export the same.
  EXPECT_EQ(ExportBytes(origin_.get()), ExportBytes(plain->get()));
  EXPECT_EQ(AllRecords(origin_.get()), AllRecords(plain->get()));
  for (const char* channel : {"web", "app", "ios"}) {
    for (const char* scope : {"*", "p1", "p2"}) {
      EXPECT_EQ(Full(origin_->ReadScope({"t1", channel, kPageType}, scope)),
                Full((*plain)->ReadScope({"t1", channel, kPageType}, scope)));
    }
    EXPECT_EQ(Full(PageRows(origin_.get(), {"t2", channel, kPageType}, "p1")),
              Full(PageRows(plain->get(), {"t2", channel, kPageType}, "p1")));
  }
  EXPECT_TRUE(Known("t1"));
  EXPECT_FALSE(Known("t3"));

  // Survives a reopen; a batch that touches nothing leaves it; the next one replaces it.
  ASSERT_TRUE(origin_->Sync().ok());
  Reopen();
  EXPECT_EQ(Pending(origin_.get()), first);
  ApplyRecording(origin_.get(), {ModuleEvent("t1", "m1", 3, {"web"}), mismatched});
  EXPECT_EQ(Pending(origin_.get()), first);
  ApplyRecording(origin_.get(), {DeleteEvent(Kind::kModule, "t2", "m2", 5)});  // one event alone
  EXPECT_EQ(Pending(origin_.get()), "t2/web/home/p1@5 t2/web/home/p2@5 ");
  EXPECT_FALSE(Known("t2"));

  // Cleared for good; clearing again is harmless.
  ASSERT_TRUE(origin_->ClearPendingInvalidations().ok());
  EXPECT_EQ(Pending(origin_.get()), "");
  ASSERT_TRUE(origin_->ClearPendingInvalidations().ok());
  Reopen();
  EXPECT_EQ(Pending(origin_.get()), "");
  EXPECT_EQ(Records().size(), 2u);
}

}  // namespace
}  // namespace tempo::origin
