// Tests of the PostgreSQL origin (pg_origin.h) against SPEC §7 and §11.13-18.
//
// The behaviour tests run over both backends (RocksDB and PostgreSQL), so
// they pin down that the two are interchangeable; the PostgreSQL-only tests
// cover equivalence on the golden data set, racing writers, a dead database,
// migrations and timeouts. One PgServer (a real postgres on loopback) serves
// every test of the process; each test gets its own database.
#include "origin/pg_origin.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "events/events.h"
#include "libpq-fe.h"
#include "origin/origin.h"
#include "origin/origin_test_fixtures.h"
#include "testing/pg_server.h"

namespace tempo::events {
// Readable failure messages for record keys (found by argument lookup).
void PrintTo(const RecordKey& key, std::ostream* os) {
  *os << ::testing::PrintToString(key.tenant) << "/kind" << static_cast<int>(key.kind) << "/"
      << ::testing::PrintToString(key.id);
}
}  // namespace tempo::events

namespace tempo::origin {

void PrintTo(const SliceKey& s, std::ostream* os) {
  *os << ::testing::PrintToString(s.partition.tenant) << "/"
      << ::testing::PrintToString(s.partition.channel) << "/"
      << ::testing::PrintToString(s.partition.page_type) << "/"
      << ::testing::PrintToString(s.scope);
}

namespace {

using events::Event;
using events::Kind;
using events::Op;
using namespace fixtures;  // the event builders, TempDir and ApplyAll of both backends

// Every field of a row, for comparisons between backends.
using FullRow = std::tuple<std::string, Kind, std::string, int64_t, std::string>;
using FullRecord =
    std::tuple<std::string, Kind, std::string, int64_t, bool, std::string, std::string>;

std::vector<RowSummary> Summary(const std::vector<Row>& rows) {
  std::vector<RowSummary> out;
  for (const Row& r : rows) out.emplace_back(r.scope, r.kind, r.id, r.version);
  return out;
}

std::vector<FullRow> Full(const Result<std::vector<Row>>& rows) {
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<FullRow> out;
  if (!rows.ok()) return out;
  for (const Row& r : *rows) out.emplace_back(r.scope, r.kind, r.id, r.version, r.body);
  return out;
}

std::vector<FullRecord> AllRecords(Origin* origin) {
  std::vector<FullRecord> out;
  Status s = origin->ForEachRecord([&](const StoredRecord& r) {
    out.emplace_back(r.key.tenant, r.key.kind, r.key.id, r.version, r.tombstone, r.published_at,
                     r.record_json);
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// `tempo export`'s bytes (export_command.cc renders each record this way).
std::string ExportBytes(Origin* origin) {
  std::string out;
  Status s = origin->ForEachRecord([&](const StoredRecord& r) {
    out += events::EncodeEnvelope(r.key.kind, r.tombstone ? Op::kDelete : Op::kUpsert,
                                  r.published_at, r.record_json);
    out += '\n';
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// ---- the shared server ----------------------------------------------------------

// Started by the first test that needs it; one per test process.
testing::PgServer* SharedServer() {
  static std::unique_ptr<testing::PgServer> server;
  static Status start_status;
  if (server == nullptr && start_status.ok()) {
    auto started = testing::PgServer::Start();
    if (started.ok()) {
      server = std::move(*started);
    } else {
      start_status = started.status();
    }
  }
  EXPECT_TRUE(start_status.ok()) << start_status.ToString();
  return server.get();
}

// A fresh, empty database on the shared server.
std::string FreshDatabase() {
  static int next = 0;
  testing::PgServer* server = SharedServer();
  if (server == nullptr) return "";
  auto uri = server->CreateDatabase("store" + std::to_string(next++));
  EXPECT_TRUE(uri.ok()) << uri.status().ToString();
  return uri.ok() ? *uri : "";
}

// Runs SQL on a plain libpq connection, bypassing the origin.
class RawConnection {
 public:
  explicit RawConnection(const std::string& uri) : conn_(PQconnectdb(uri.c_str())) {
    EXPECT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
  }
  ~RawConnection() { PQfinish(conn_); }
  // True when every statement succeeded.
  bool Exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    ExecStatusType status = PQresultStatus(r);
    bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    EXPECT_TRUE(ok) << sql << ": " << PQresultErrorMessage(r);
    PQclear(r);
    return ok;
  }
  // The integers of the first column of a query's rows.
  std::vector<int> Pids(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
    std::vector<int> out;
    for (int i = 0; i < PQntuples(r); ++i) out.push_back(atoi(PQgetvalue(r, i, 0)));
    PQclear(r);
    return out;
  }

 private:
  PGconn* conn_;
};

// ---- behaviour over both backends ---------------------------------------------

enum class Backend { kRocks, kPostgres };

class OriginTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      uri_ = FreshDatabase();
      ASSERT_FALSE(uri_.empty());
    }
    Open();
  }

  void Open() {
    auto opened =
        GetParam() == Backend::kRocks ? OpenRocksOrigin(dir_.path()) : OpenPostgresOrigin(uri_);
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
  std::string uri_;
  std::unique_ptr<Origin> origin_;
};

INSTANTIATE_TEST_SUITE_P(Backends, OriginTest,
                         ::testing::Values(Backend::kRocks, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kRocks ? "Rocks" : "Postgres";
                         });

TEST_P(OriginTest, Rule7_RowsServeEveryChannelAndPageInReadOrder) {
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

TEST_P(OriginTest, Rule13_KindOrderAndBytewiseKeysInRowsAndRecords) {
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

TEST_P(OriginTest, Rule14_StrictlyHigherVersionWins) {
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

TEST_P(OriginTest, Rule14_DeletesLeaveTombstonesUnderTheVersionRule) {
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

TEST_P(OriginTest, Rule14_UpsertThatMovesChannelsPagesAndTypeMovesRows) {
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
  Apply(ModuleEvent("t1", "m1", 3, {"web"}));
  EXPECT_EQ(Summary(Read("web", "p1")), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 3}}));
  EXPECT_TRUE(Read("ios", "p2").empty());
  EXPECT_TRUE(Read("app", "p3").empty());
  Apply(ModuleEvent("t1", "m1", 4, {"web"}, {}, "search"));
  EXPECT_TRUE(Read("web").empty());
  EXPECT_EQ(Summary(Read("web", std::nullopt, "t1", "search")),
            (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 4}}));
}

TEST_P(OriginTest, Rule18_OnlyLiveRecordsMakeATenantKnown) {
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

TEST_P(OriginTest, Rule16_StarEmptyAndDuplicatePageIds) {
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

TEST_P(OriginTest, Rule7_TouchedSlicesAreTheOldAndNewRows) {
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

TEST_P(OriginTest, Rule14_ApplyBatchKeepsTheVersionRuleInsideABatchInAnyOrder) {
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
  EXPECT_EQ(Summary(Read("web", "p2")),
            (std::vector<RowSummary>{{"*", Kind::kTemplate, "", 1}, {"p2", Kind::kModule, "m2", 1}}));
  EXPECT_EQ(Summary(Read("ios", "p1")), (std::vector<RowSummary>{{"p1", Kind::kModule, "m1", 3}}));
  EXPECT_TRUE(Read("app").empty());
  EXPECT_TRUE(Known("t1"));
  EXPECT_FALSE(Known("t2"));

  // The same events in the opposite order, in one batch, give the same store.
  TempDir other_dir;
  auto other = GetParam() == Backend::kRocks ? OpenRocksOrigin(other_dir.path())
                                             : OpenPostgresOrigin(FreshDatabase());
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

TEST_P(OriginTest, Rule7_ApplyBatchReportsEachEventsOutcomeAndSlicesInOrder) {
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
       ModuleEvent("t1", "m2", 1, {"web"}, {"p1", "p2"}), DeleteEvent(Kind::kModule, "t1", "m1", 3)},
      &touched);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[1].status.code(), Status::Code::kInvalidArgument);
  std::vector<std::tuple<bool, ApplyOutcome, size_t>> summary;
  for (const ApplyResult& r : results) summary.emplace_back(r.status.ok(), r.outcome, r.touched);
  const ApplyOutcome applied = ApplyOutcome::kApplied, stale = ApplyOutcome::kStale;
  EXPECT_EQ(summary, (std::vector<std::tuple<bool, ApplyOutcome, size_t>>{
                         {true, applied, 3}, {false, stale, 0}, {true, stale, 0},
                         {true, applied, 2}, {true, applied, 2}}));
  EXPECT_EQ(touched, (std::vector<SliceKey>{slice("kept", "*"),
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

TEST_P(OriginTest, Rule7_ReopenKeepsRowsRecordsAndTenants) {
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

TEST_P(OriginTest, Rule13_BadEventsAreRejectedAndListingStopsAtFirstError) {
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

TEST_P(OriginTest, Rule7_PageReadIsOneSnapshot) {
  // A writer moves one module between type-wide and page p1; every read of
  // page p1 must see it exactly once.
  Apply(ModuleEvent("t1", "mover", 1, {"web"}));
  std::atomic<bool> done{false};
  std::atomic<int> bad_reads{0}, reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto rows = origin_->ReadPage({"t1", "web", kPageType}, "p1");
      if (!rows.ok() || rows->size() != 1) bad_reads.fetch_add(1);
      reads.fetch_add(1);
    }
  });
  while (reads.load() == 0) std::this_thread::yield();  // overlap the reader with the writes
  constexpr int kMoves = 200;
  for (int v = 2; v < 2 + kMoves; ++v) {
    auto page_ids = v % 2 == 0 ? std::vector<std::string>{"p1"} : std::vector<std::string>{};
    ASSERT_TRUE(origin_->Apply(ModuleEvent("t1", "mover", v, {"web"}, page_ids)).ok());
  }
  done.store(true);
  reader.join();
  EXPECT_EQ(bad_reads.load(), 0);
}

// ---- the outbox (origin.h) ------------------------------------------------------------

// ApplyBatch over `events` with record_pending, expecting OK; the results.
std::vector<ApplyResult> ApplyRecording(Origin* origin, const std::vector<Event>& events,
                                        std::vector<SliceKey>* touched = nullptr) {
  std::vector<const Event*> pointers;
  for (const Event& e : events) pointers.push_back(&e);
  std::vector<ApplyResult> results;
  Status s = origin->ApplyBatch(pointers, &results, touched, /*record_pending=*/true);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return results;
}

// The pending invalidations as "tenant/channel/pageType/scope@version ...".
std::string Pending(Origin* origin) {
  auto pending = origin->PendingInvalidations();
  EXPECT_TRUE(pending.ok()) << pending.status().ToString();
  if (!pending.ok()) return "error";
  std::string out;
  for (const SliceTouch& t : *pending) {
    out += t.slice.partition.tenant + "/" + t.slice.partition.channel + "/" +
           t.slice.partition.page_type + "/" + t.slice.scope + "@" + std::to_string(t.version) +
           " ";
  }
  return out;
}

TEST_P(OriginTest, Outbox_RecordedWithItsBatchReplacedClearedAndInvisible) {
  // A second store fed the same events without the outbox: what every read must match.
  TempDir plain_dir;
  auto plain = GetParam() == Backend::kRocks ? OpenRocksOrigin(plain_dir.path())
                                             : OpenPostgresOrigin(FreshDatabase());
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
    EXPECT_EQ(Full(origin_->ReadPage({"t2", channel, kPageType}, "p1")),
              Full((*plain)->ReadPage({"t2", channel, kPageType}, "p1")));
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

// ---- PostgreSQL only ------------------------------------------------------------------

class PostgresOriginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uri_ = FreshDatabase();
    ASSERT_FALSE(uri_.empty());
  }

  std::unique_ptr<Origin> OpenPg(const PostgresOptions& options = {}) {
    auto opened = OpenPostgresOrigin(uri_, options);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(*opened) : nullptr;
  }

  std::string uri_;
};

std::vector<Event> GoldenEvents() {
  const std::string path = std::string(TEMPO_SHARED_DIR) + "/golden/data.ndjson";
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::vector<Event> out;
  std::string line;
  while (std::getline(in, line)) {
    auto event = events::DecodeEvent(line);
    if (event.ok()) out.push_back(std::move(*event));
  }
  return out;
}

TEST_F(PostgresOriginTest, Rule7_GoldenDataGivesTheSameStoreAsRocksDb) {
  std::vector<Event> events = GoldenEvents();
  ASSERT_GT(events.size(), 900u);
  TempDir dir;
  auto rocks = OpenRocksOrigin(dir.path());
  ASSERT_TRUE(rocks.ok()) << rocks.status().ToString();
  std::unique_ptr<Origin> pg = OpenPg();
  ASSERT_NE(pg, nullptr);

  std::set<SliceKey> slices;
  std::set<std::string> tenants = {"no-such-tenant"};
  int applied = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    std::vector<SliceKey> rocks_touched, pg_touched;
    auto a = (*rocks)->Apply(events[i], &rocks_touched);
    auto b = pg->Apply(events[i], &pg_touched);
    ASSERT_TRUE(a.ok() && b.ok()) << i << ": " << a.status().ToString() << " / "
                                  << b.status().ToString();
    ASSERT_EQ(*a, *b) << "event " << i;
    ASSERT_EQ(rocks_touched, pg_touched) << "event " << i;
    applied += *a == ApplyOutcome::kApplied;
    slices.insert(rocks_touched.begin(), rocks_touched.end());
    tenants.insert(events[i].key.tenant);
  }
  EXPECT_GT(applied, 500);
  EXPECT_LT(applied, static_cast<int>(events.size()));  // the data set holds stale events

  const std::string exported = ExportBytes(rocks->get());
  EXPECT_EQ(ExportBytes(pg.get()), exported);
  EXPECT_EQ(AllRecords(pg.get()), AllRecords(rocks->get()));
  int rows = 0;
  for (const SliceKey& s : slices) {
    std::vector<FullRow> expected = Full((*rocks)->ReadScope(s.partition, s.scope));
    EXPECT_EQ(Full(pg->ReadScope(s.partition, s.scope)), expected);
    std::optional<std::string_view> page;
    if (s.scope != "*") page = s.scope;
    EXPECT_EQ(Full(pg->ReadPage(s.partition, page)), Full((*rocks)->ReadPage(s.partition, page)));
    rows += static_cast<int>(expected.size());
  }
  EXPECT_GT(rows, 100);
  for (const std::string& tenant : tenants) {
    auto a = (*rocks)->TenantKnown(tenant);
    auto b = pg->TenantKnown(tenant);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(*a, *b) << tenant;
  }
  // Replaying the stream changes nothing (the sync service's replay after a crash).
  for (const Event& e : events) {
    auto b = pg->Apply(e);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*b, ApplyOutcome::kStale);
  }
  EXPECT_EQ(ExportBytes(pg.get()), exported);
}

TEST_F(PostgresOriginTest, Rule14_RacingWritersOnSeparateConnectionsNeverRegress) {
  // Two origins (as two sync processes would have), two threads each; every
  // version of every key is applied by exactly one thread, in shuffled order.
  std::unique_ptr<Origin> first = OpenPg(), second = OpenPg();
  ASSERT_TRUE(first && second);
  constexpr int kKeys = 4, kVersions = 120, kThreads = 4;
  auto event_for = [](int key, int version) {
    const std::string id = "m" + std::to_string(key);
    if (version % 7 == 0) return DeleteEvent(Kind::kModule, "t1", id, version);
    std::vector<std::string> pages;
    if (version % 2 == 1) pages = {"p" + std::to_string(version % 5)};
    return ModuleEvent("t1", id, version, {"c" + std::to_string(version % 3)}, pages);
  };
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::pair<int, int>> work;
      for (int key = 0; key < kKeys; ++key) {
        for (int v = 1 + t; v <= kVersions; v += kThreads) work.emplace_back(key, v);
      }
      std::shuffle(work.begin(), work.end(), std::mt19937(t));
      Origin* origin = t % 2 == 0 ? first.get() : second.get();
      for (auto [key, v] : work) {
        if (!origin->Apply(event_for(key, v)).ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);

  // Every key holds exactly the rows of its highest version, nothing else.
  const Event last = event_for(0, kVersions);
  ASSERT_EQ(last.op, Op::kUpsert);
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> expected;
  for (int key = 0; key < kKeys; ++key) {
    const Event winner = event_for(key, kVersions);
    const auto& m = std::get<events::Module>(*winner.record);
    for (const std::string& c : m.channels) {
      for (const std::string& p : m.page_ids.empty() ? std::vector<std::string>{"*"} : m.page_ids) {
        expected[{c, p}].push_back(m.id);
      }
    }
  }
  for (int c = 0; c < 3; ++c) {
    for (std::string scope : {"*", "p0", "p1", "p2", "p3", "p4"}) {
      const std::string channel = "c" + std::to_string(c);
      auto rows = first->ReadScope({"t1", channel, kPageType}, scope);
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      std::vector<std::string> ids;
      for (const Row& r : *rows) {
        ids.push_back(r.id);
        EXPECT_EQ(r.version, kVersions);
      }
      EXPECT_EQ(ids, (expected[{channel, scope}])) << channel << " " << scope;
    }
  }
  std::vector<FullRecord> records = AllRecords(second.get());
  ASSERT_EQ(records.size(), static_cast<size_t>(kKeys));
  for (const FullRecord& r : records) {
    EXPECT_EQ(std::get<3>(r), kVersions);
    EXPECT_FALSE(std::get<4>(r));
  }
}

TEST_F(PostgresOriginTest, Rule7_DeadDatabaseIsUnavailableThenRecovers) {
  PostgresOptions options;
  options.statement_timeout_ms = 1000;
  options.connect_timeout_ms = 1000;
  std::unique_ptr<Origin> origin = OpenPg(options);
  ASSERT_NE(origin, nullptr);
  ASSERT_TRUE(origin->Apply(ModuleEvent("t1", "m1", 1, {"web"})).ok());
  ASSERT_TRUE(origin->Sync().ok());  // survives the crash below

  ASSERT_TRUE(SharedServer()->Stop().ok());
  const PartitionKey partition{"t1", "web", kPageType};
  auto expect_unavailable = [](const Status& s) {
    EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  };
  // Twice: first on the pooled connections the crash broke, then on new ones.
  for (int round = 0; round < 2; ++round) {
    expect_unavailable(origin->ReadScope(partition, "*").status());
    expect_unavailable(origin->ReadPage(partition, "p1").status());
    expect_unavailable(origin->Apply(ModuleEvent("t1", "m1", 2, {"web"})).status());
    expect_unavailable(origin->TenantKnown("t1").status());
    expect_unavailable(origin->Sync());
    expect_unavailable(origin->ForEachRecord([](const StoredRecord&) { return Status::OK(); }));
  }
  auto reopened = OpenPostgresOrigin(uri_, options);
  ASSERT_FALSE(reopened.ok());
  expect_unavailable(reopened.status());

  ASSERT_TRUE(SharedServer()->Restart().ok());
  auto rows = origin->ReadScope(partition, "*");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(Summary(*rows), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 1}}));
  auto applied = origin->Apply(ModuleEvent("t1", "m1", 2, {"web"}));
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, ApplyOutcome::kApplied);
}

TEST_F(PostgresOriginTest, Rule7_SchemaMigrationIsIdempotentAndConcurrent) {
  PostgresOptions no_create;
  no_create.create_schema = false;
  auto missing = OpenPostgresOrigin(uri_, no_create);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kIOError);
  EXPECT_NE(missing.status().message().find("tempo migrate"), std::string::npos)
      << missing.status().message();

  std::vector<Status> results(4);
  std::vector<std::thread> threads;
  for (Status& result : results) {
    threads.emplace_back([&] { result = MigratePostgres(uri_); });
  }
  for (std::thread& t : threads) t.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  std::unique_ptr<Origin> origin = OpenPg(no_create);
  ASSERT_NE(origin, nullptr);
  ASSERT_TRUE(origin->Apply(ModuleEvent("t1", "m1", 1, {"web"})).ok());
  // Migrating again keeps the data.
  ASSERT_TRUE(MigratePostgres(uri_).ok());
  std::unique_ptr<Origin> again = OpenPg();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(AllRecords(again.get()).size(), 1u);
}

TEST_F(PostgresOriginTest, Rule7_BlockedStatementTimesOutAsUnavailable) {
  PostgresOptions options;
  options.statement_timeout_ms = 300;
  std::unique_ptr<Origin> origin = OpenPg(options);
  ASSERT_NE(origin, nullptr);
  ASSERT_TRUE(origin->Apply(ModuleEvent("t1", "m1", 1, {"web"})).ok());
  {
    RawConnection holder(uri_);
    ASSERT_TRUE(holder.Exec("BEGIN; SELECT * FROM tempo_records FOR UPDATE"));
    auto blocked = origin->Apply(ModuleEvent("t1", "m1", 2, {"web"}));
    ASSERT_FALSE(blocked.ok());
    EXPECT_EQ(blocked.status().code(), Status::Code::kUnavailable) << blocked.status().ToString();
    // Readers are not blocked by a writer's lock.
    EXPECT_TRUE(origin->ReadScope({"t1", "web", kPageType}, "*").ok());
  }
  auto applied = origin->Apply(ModuleEvent("t1", "m1", 2, {"web"}));
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, ApplyOutcome::kApplied);
}

TEST_F(PostgresOriginTest, Rule7_AFailedBatchAppliesNothingOfIt) {
  PostgresOptions options;
  options.statement_timeout_ms = 300;
  options.pool_size = 1;  // the batch's connection is reused afterwards
  std::unique_ptr<Origin> origin = OpenPg(options);
  ASSERT_NE(origin, nullptr);
  ASSERT_TRUE(origin->Apply(ModuleEvent("t1", "locked", 1, {"web"})).ok());
  const std::vector<Event> batch = {ModuleEvent("t1", "m1", 1, {"web"}),
                                    ModuleEvent("t1", "locked", 2, {"web"}),
                                    ModuleEvent("t1", "m2", 1, {"web"})};
  std::vector<const Event*> pointers;
  for (const Event& e : batch) pointers.push_back(&e);
  std::vector<ApplyResult> results;
  std::vector<SliceKey> touched;
  {
    // The second event waits for this lock until the statement times out.
    RawConnection holder(uri_);
    ASSERT_TRUE(holder.Exec("BEGIN; SELECT * FROM tempo_records WHERE id = 'locked' FOR UPDATE"));
    Status s = origin->ApplyBatch(pointers, &results, &touched);
    EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
    EXPECT_TRUE(results.empty());
    EXPECT_TRUE(touched.empty());
  }
  // m1, written before the failure in the same transaction, was rolled back.
  EXPECT_EQ(AllRecords(origin.get()).size(), 1u);
  ASSERT_TRUE(origin->ApplyBatch(pointers, &results, &touched).ok());
  ASSERT_EQ(results.size(), 3u);
  for (const ApplyResult& r : results) EXPECT_EQ(r.outcome, ApplyOutcome::kApplied);
  EXPECT_EQ(AllRecords(origin.get()).size(), 3u);
}

TEST_F(PostgresOriginTest, Outbox_AFailedBatchLeavesThePendingSetAsItWas) {
  PostgresOptions options;
  options.statement_timeout_ms = 300;
  options.pool_size = 1;
  std::unique_ptr<Origin> origin = OpenPg(options);
  ASSERT_NE(origin, nullptr);
  ApplyRecording(origin.get(), {ModuleEvent("t1", "locked", 1, {"web"})});
  ASSERT_EQ(Pending(origin.get()), "t1/web/home/*@1 ");
  const std::vector<Event> batch = {ModuleEvent("t1", "m1", 1, {"app"}),
                                    ModuleEvent("t1", "locked", 2, {"ios"})};
  std::vector<const Event*> pointers;
  for (const Event& e : batch) pointers.push_back(&e);
  std::vector<ApplyResult> results;
  {
    RawConnection holder(uri_);
    ASSERT_TRUE(holder.Exec("BEGIN; SELECT * FROM tempo_records WHERE id = 'locked' FOR UPDATE"));
    Status s = origin->ApplyBatch(pointers, &results, nullptr, /*record_pending=*/true);
    EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  }
  EXPECT_EQ(Pending(origin.get()), "t1/web/home/*@1 ");
  ASSERT_TRUE(origin->ApplyBatch(pointers, &results, nullptr, /*record_pending=*/true).ok());
  EXPECT_EQ(Pending(origin.get()), "t1/app/home/*@1 t1/ios/home/*@2 t1/web/home/*@2 ");
}

TEST_F(PostgresOriginTest, Outbox_AStoreMigratedByAnOlderBinaryStillServesReaders) {
  std::unique_ptr<Origin> writer = OpenPg();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Apply(ModuleEvent("t1", "m1", 1, {"web"})).ok());
  writer.reset();
  RawConnection raw(uri_);
  ASSERT_TRUE(raw.Exec("DROP TABLE tempo_outbox"));  // as an older binary's migration left it

  // A reader does not own the schema: it opens and reads without the table.
  PostgresOptions reading;
  reading.create_schema = false;
  reading.connect_all = true;
  std::unique_ptr<Origin> reader = OpenPg(reading);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(Full(reader->ReadScope({"t1", "web", kPageType}, "*")),
            (std::vector<FullRow>{{"*", Kind::kModule, "m1", 1, Body("m1", 1)}}));
  auto known = reader->TenantKnown("t1");
  ASSERT_TRUE(known.ok()) << known.status().ToString();
  EXPECT_TRUE(*known);
  EXPECT_EQ(AllRecords(reader.get()).size(), 1u);
  auto pending = reader->PendingInvalidations();
  ASSERT_FALSE(pending.ok());
  EXPECT_NE(pending.status().message().find("tempo migrate"), std::string::npos)
      << pending.status().ToString();

  // Opening a writer (`tempo sync` does) creates it, and the reader sees what it records.
  writer = OpenPg();
  ASSERT_NE(writer, nullptr);
  ApplyRecording(writer.get(), {ModuleEvent("t1", "m1", 2, {"app"})});
  EXPECT_EQ(Pending(reader.get()), "t1/app/home/*@2 t1/web/home/*@2 ");
}

TEST_F(PostgresOriginTest, Rule7_HungBackendHitsTheClientDeadline) {
  // A stopped backend cannot run its own statement_timeout: only the
  // client-side deadline ends the call.
  PostgresOptions options;
  options.pool_size = 1;
  options.statement_timeout_ms = 300;
  std::unique_ptr<Origin> origin = OpenPg(options);
  ASSERT_NE(origin, nullptr);
  ASSERT_TRUE(origin->TenantKnown("t1").ok());
  RawConnection raw(uri_);
  // A backend of an earlier test's origin can still be exiting (backends end
  // asynchronously after their client disconnects): wait, bounded, until
  // only this origin's connection is left.
  std::vector<int> pids;
  for (int i = 0; i < 100; ++i) {
    pids = raw.Pids(
        "SELECT pid FROM pg_stat_activity WHERE application_name = "
        "'tempo' AND datname = current_database()");
    if (pids.size() <= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(pids.size(), 1u);
  ASSERT_EQ(kill(pids[0], SIGSTOP), 0);
  auto hung = origin->ReadScope({"t1", "web", kPageType}, "*");
  ASSERT_EQ(kill(pids[0], SIGCONT), 0);
  ASSERT_FALSE(hung.ok());
  EXPECT_EQ(hung.status().code(), Status::Code::kUnavailable) << hung.status().ToString();
  auto again = origin->ReadScope({"t1", "web", kPageType}, "*");  // on a new connection
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

TEST_F(PostgresOriginTest, Rule7_TamperedStoreIsReportedNotFatal) {
  PostgresOptions one_connection;  // so every call below reuses the same connection
  one_connection.pool_size = 1;
  std::unique_ptr<Origin> origin = OpenPg(one_connection);
  ASSERT_NE(origin, nullptr);
  RawConnection raw(uri_);
  ASSERT_TRUE(raw.Exec(
      "INSERT INTO tempo_rows VALUES ('t1', 'web', 'home', '*', 9, 'm', 1, '{}');"
      "INSERT INTO tempo_records VALUES ('t1', 9, 'm', 1, false, '', '{}', 'home', '{}', '{}')"));
  auto read = origin->ReadScope({"t1", "web", kPageType}, "*");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kCorruption);
  Status listed = origin->ForEachRecord([](const StoredRecord&) { return Status::OK(); });
  EXPECT_EQ(listed.code(), Status::Code::kCorruption);
  EXPECT_TRUE(origin->ReadScope({"t1", "ios", kPageType}, "*").ok());  // other slices still read

  // A multi-statement call that fails half-way leaves no transaction behind.
  ASSERT_TRUE(raw.Exec("DROP TABLE tempo_meta"));
  Status synced = origin->Sync();
  EXPECT_EQ(synced.code(), Status::Code::kIOError) << synced.ToString();
  auto after = origin->TenantKnown("t1");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(*after);  // the tampered record above is live
}

// A read that fails is an error, never an empty page or an unknown tenant
// (issue 12): here the tables are gone under a running reader, whose
// prepared statements then fail to plan.
TEST_F(PostgresOriginTest, Rule7_AFailedReadIsNeverAnEmptyPage) {
  std::unique_ptr<Origin> origin = OpenPg();
  ASSERT_NE(origin, nullptr);
  ASSERT_TRUE(origin->Apply(ModuleEvent("t1", "m1", 1, {"web"}, {"p1"})).ok());
  const PartitionKey partition{"t1", "web", kPageType};
  ASSERT_TRUE(origin->ReadScope(partition, "p1").ok());  // the statements are prepared
  RawConnection raw(uri_);
  ASSERT_TRUE(raw.Exec("DROP TABLE tempo_rows, tempo_records CASCADE"));
  // Twice: a failed statement must not leave its connection answering empty.
  for (int round = 0; round < 2; ++round) {
    auto scope = origin->ReadScope(partition, "p1");
    ASSERT_FALSE(scope.ok()) << scope->size() << " rows";
    EXPECT_EQ(scope.status().code(), Status::Code::kIOError) << scope.status().ToString();
    auto page = origin->ReadPage(partition, "p1");
    ASSERT_FALSE(page.ok()) << page->size() << " rows";
    EXPECT_EQ(page.status().code(), Status::Code::kIOError) << page.status().ToString();
    auto known = origin->TenantKnown("t1");
    ASSERT_FALSE(known.ok()) << "known: " << *known;
    EXPECT_EQ(known.status().code(), Status::Code::kIOError) << known.status().ToString();
    Status listed = origin->ForEachRecord([](const StoredRecord&) { return Status::OK(); });
    EXPECT_EQ(listed.code(), Status::Code::kIOError) << listed.ToString();
  }
}

// ---- no server needed -------------------------------------------------------------

TEST(PostgresOriginOpen, Rule7_BadUriOrOptionsAreInvalidArgument) {
  auto bad_uri = OpenPostgresOrigin("postgres://[::1");
  ASSERT_FALSE(bad_uri.ok());
  EXPECT_EQ(bad_uri.status().code(), Status::Code::kInvalidArgument);
  PostgresOptions no_pool;
  no_pool.pool_size = 0;
  EXPECT_EQ(OpenPostgresOrigin("postgres://u@127.0.0.1:1/db", no_pool).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(MigratePostgres("postgres://u@127.0.0.1:1/db?nosuchparam=1").code(),
            Status::Code::kInvalidArgument);
}

TEST(PostgresOriginOpen, Rule7_SilentServerTimesOutAsUnavailable) {
  // A listener that never accepts: the kernel completes the TCP handshake,
  // then nothing answers the startup packet, like a hung server.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string uri =
      "postgres://tempo@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/tempo";
  PostgresOptions options;
  options.connect_timeout_ms = 200;
  auto opened = OpenPostgresOrigin(uri, options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kUnavailable) << opened.status().ToString();
  EXPECT_EQ(MigratePostgres(uri, options).code(), Status::Code::kUnavailable);
  close(fd);
  // Nothing listens any more: refused at once.
  EXPECT_EQ(OpenPostgresOrigin(uri, options).status().code(), Status::Code::kUnavailable);
}

}  // namespace
}  // namespace tempo::origin
