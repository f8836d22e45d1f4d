// Tests of what only the PostgreSQL origin (pg_origin.h) does: equivalence
// with RocksDB on the golden data set, racing writers on separate
// connections, a dead or hung database, schema migrations, pool and
// timeouts, tampered tables. The rules every Origin keeps are in
// origin_conformance_test.cc. One PgServer (a real postgres on loopback)
// serves every test of the process; each test gets its own database.
#include "origin/pg_origin.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
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
#include "origin/pg_pool.h"
#include "origin/rocks_origin.h"
#include "origin/schema_version.h"
#include "testing/pg_server.h"
#include "testing/temp_dir.h"

namespace tempo::origin {
namespace {

using events::Event;
using events::Kind;
using events::Op;
using namespace fixtures;  // the event builders, readers and the shared PostgreSQL server

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
  std::vector<int> Ints(const std::string& sql) {
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
  testing::TempDir dir("tempo_origin_test");
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
    EXPECT_EQ(Full(PageRows(pg.get(), s.partition, page)),
              Full(PageRows(rocks->get(), s.partition, page)));
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
    expect_unavailable(PageRows(origin.get(), partition, "p1").status());
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
    pids = raw.Ints(
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

// A backend that the server ends while its connection sits in the pool
// (pg_terminate_backend; a restart does the same) sends its FATAL message
// and closes: the pool's health check reads the message and still sees an
// open session, and the first read on it fails. Reads are retried once on
// a new session, so neither the read nor the tenant lookup fails.
TEST_F(PostgresOriginTest, Rule7_AReadOnASessionTheServerEndedIsRetriedOnce) {
  PostgresOptions options;
  options.pool_size = 1;
  std::unique_ptr<Origin> origin = OpenPg(options);
  ASSERT_NE(origin, nullptr);
  ASSERT_TRUE(origin->Apply(ModuleEvent("t1", "m1", 1, {"web"})).ok());
  RawConnection raw(uri_);
  const auto terminate_the_pooled_session = [&] {
    std::vector<int> pids;
    for (int i = 0; i < 100; ++i) {  // an earlier session may still be exiting
      pids = raw.Ints(
          "SELECT pid FROM pg_stat_activity WHERE application_name = 'tempo' AND datname = "
          "current_database()");
      if (pids.size() <= 1) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(pids.size(), 1u);
    const std::string pid = std::to_string(pids[0]);
    ASSERT_TRUE(raw.Exec("SELECT pg_terminate_backend(" + pid + ")"));
    for (int i = 0; i < 100; ++i) {  // bounded: until the backend is gone
      if (raw.Ints("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid) ==
          std::vector<int>{0}) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "backend " << pid << " did not exit";
  };
  terminate_the_pooled_session();
  auto rows = origin->ReadScope({"t1", "web", kPageType}, "*");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(Summary(*rows), (std::vector<RowSummary>{{"*", Kind::kModule, "m1", 1}}));
  terminate_the_pooled_session();
  auto known = origin->TenantKnown("t1");
  ASSERT_TRUE(known.ok()) << known.status().ToString();
  EXPECT_TRUE(*known);
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
    auto page = PageRows(origin.get(), partition, "p1");
    ASSERT_FALSE(page.ok()) << page->size() << " rows";
    EXPECT_EQ(page.status().code(), Status::Code::kIOError) << page.status().ToString();
    auto known = origin->TenantKnown("t1");
    ASSERT_FALSE(known.ok()) << "known: " << *known;
    EXPECT_EQ(known.status().code(), Status::Code::kIOError) << known.status().ToString();
    Status listed = origin->ForEachRecord([](const StoredRecord&) { return Status::OK(); });
    EXPECT_EQ(listed.code(), Status::Code::kIOError) << listed.ToString();
  }
}

// ---- the schema version (schema_version.h) -------------------------------------------

TEST_F(PostgresOriginTest, SchemaVersion_ANewStoreRecordsIt) {
  ASSERT_NE(OpenPg(), nullptr);
  RawConnection raw(uri_);
  EXPECT_EQ(raw.Ints("SELECT version FROM tempo_schema_version"),
            std::vector<int>{static_cast<int>(kStoreSchemaVersion)});
}

TEST_F(PostgresOriginTest, SchemaVersion_AStoreWithoutOneOpensAndAWriterRecordsIt) {
  std::unique_ptr<Origin> writer = OpenPg();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Apply(ModuleEvent("t1", "m1", 1, {"web"})).ok());
  writer.reset();
  RawConnection raw(uri_);
  const std::string tables =
      "SELECT count(*) FROM pg_class WHERE relname = 'tempo_schema_version' AND "
      "pg_table_is_visible(oid)";
  // An empty version table, then none, as tempo 0.15 and earlier migrated a store.
  for (const char* unrecorded :
       {"DELETE FROM tempo_schema_version", "DROP TABLE tempo_schema_version"}) {
    ASSERT_TRUE(raw.Exec(unrecorded));
    PostgresOptions reading;
    reading.create_schema = false;
    std::unique_ptr<Origin> reader = OpenPg(reading);
    ASSERT_NE(reader, nullptr) << unrecorded;
    EXPECT_EQ(Full(reader->ReadScope({"t1", "web", kPageType}, "*")),
              (std::vector<FullRow>{{"*", Kind::kModule, "m1", 1, Body("m1", 1)}}));
  }
  EXPECT_EQ(raw.Ints(tables), std::vector<int>{0});  // the readers recorded nothing

  writer = OpenPg();  // a writer's open migrates, and records the version
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(raw.Ints("SELECT version FROM tempo_schema_version"),
            std::vector<int>{static_cast<int>(kStoreSchemaVersion)});
  EXPECT_EQ(AllRecords(writer.get()).size(), 1u);
}

TEST_F(PostgresOriginTest, SchemaVersion_ANewerStoreIsRefusedBeforeAnythingChanges) {
  ASSERT_NE(OpenPg(), nullptr);
  RawConnection raw(uri_);
  const int newer = static_cast<int>(kStoreSchemaVersion) + 1;
  // A table this release's migration would create again, to show it did not run.
  ASSERT_TRUE(raw.Exec("DROP TABLE tempo_outbox"));
  ASSERT_TRUE(raw.Exec("UPDATE tempo_schema_version SET version = " + std::to_string(newer)));
  const std::string expected = "store schema version " + std::to_string(newer) +
                               " is newer than this tempo supports (" +
                               std::to_string(kStoreSchemaVersion) + "); upgrade tempo";
  PostgresOptions reading;
  reading.create_schema = false;
  for (const Status& refused :
       {OpenPostgresOrigin(uri_).status(), OpenPostgresOrigin(uri_, reading).status(),
        MigratePostgres(uri_)}) {
    EXPECT_EQ(refused.code(), Status::Code::kInvalidArgument) << refused.ToString();
    EXPECT_NE(refused.message().find(expected), std::string::npos) << refused.message();
  }
  EXPECT_EQ(raw.Ints("SELECT count(*) FROM pg_class WHERE relname = 'tempo_outbox'"),
            std::vector<int>{0});
  EXPECT_EQ(raw.Ints("SELECT version FROM tempo_schema_version"), std::vector<int>{newer});
}

// Captures what the process writes to stderr (descriptor 2) until Stop().
class StderrCapture {
 public:
  StderrCapture() : path_(dir_.path() + "/stderr") {
    std::fflush(stderr);
    saved_ = dup(STDERR_FILENO);
    const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_GE(dup2(fd, STDERR_FILENO), 0);
    close(fd);
  }
  ~StderrCapture() { (void)Stop(); }

  // Restores stderr; what was written to it meanwhile.
  std::string Stop() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      dup2(saved_, STDERR_FILENO);
      close(saved_);
      saved_ = -1;
    }
    std::ifstream in(path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

 private:
  testing::TempDir dir_{"tempo_stderr"};
  std::string path_;
  int saved_ = -1;
};

TEST_F(PostgresOriginTest, NoticesGoToTheProcessLog) {
  pg::Connection conn;
  const pg::ConnectionConfig config{uri_, PostgresOptions(), /*prepared=*/{}};
  ASSERT_TRUE(conn.Connect(config).ok());
  StderrCapture captured;
  auto done = conn.Simple("DO $$ BEGIN RAISE WARNING 'tempo notice test'; END $$",
                          pg::Clock::now() + config.StatementBudget());
  const std::string err = captured.Stop();
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  // One log line of the "postgres" component, the notice without its newline.
  const size_t at = err.find("WARNING:  tempo notice test");
  ASSERT_NE(at, std::string::npos) << err;
  const size_t line_start = err.rfind('\n', at) == std::string::npos ? 0 : err.rfind('\n', at) + 1;
  const std::string line = err.substr(line_start, err.find('\n', at) - line_start);
  EXPECT_NE(line.find("postgres"), std::string::npos) << line;
  EXPECT_EQ(err.find("tempo notice test\n\n"), std::string::npos) << err;
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
