// Fixtures shared by the origin backends' tests: events built field by
// field (no JSON decoding), ApplyBatch over a vector of events, readable
// summaries of rows, records and the outbox, and the throw-away PostgreSQL
// server with a fresh database per test. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "events/events.h"
#include "origin/origin.h"
#include "testing/pg_server.h"

namespace tempo::events {
// Readable failure messages for record keys (found by argument lookup).
inline void PrintTo(const RecordKey& key, std::ostream* os) {
  *os << ::testing::PrintToString(key.tenant) << "/kind" << static_cast<int>(key.kind) << "/"
      << ::testing::PrintToString(key.id);
}
// Readable failure messages for slice keys (found by argument lookup).
inline void PrintTo(const SliceKey& s, std::ostream* os) {
  *os << ::testing::PrintToString(s.partition.tenant) << "/"
      << ::testing::PrintToString(s.partition.channel) << "/"
      << ::testing::PrintToString(s.partition.page_type) << "/"
      << ::testing::PrintToString(s.scope);
}
}  // namespace tempo::events

namespace tempo::origin::fixtures {

using events::Event;
using events::Kind;
using events::Op;

inline constexpr char kPageType[] = "home";

// A distinct body per (id, version) so tests can tell which write a row holds.
inline std::string Body(std::string_view id, int64_t version) {
  return "{\"id\":\"" + std::string(id) + "\",\"version\":" + std::to_string(version) + "}";
}

inline Event ModuleEvent(const std::string& tenant, const std::string& id, int64_t version,
                         std::vector<std::string> channels, std::vector<std::string> page_ids = {},
                         const std::string& page_type = kPageType) {
  events::Module m;
  m.id = id;
  m.tenant = tenant;
  m.page_type = page_type;
  m.zone = "main";
  m.channels = std::move(channels);
  m.page_ids = std::move(page_ids);
  m.version = version;
  Event e;
  e.kind = Kind::kModule;
  e.op = Op::kUpsert;
  e.key = {tenant, Kind::kModule, id};
  e.version = version;
  e.published_at = "2026-11-22T10:00:00Z";
  e.record_json = Body(id, version);
  e.record = std::move(m);
  return e;
}

inline Event ExperimentEvent(const std::string& tenant, const std::string& id, int64_t version,
                             std::vector<std::string> channels) {
  events::Experiment x;
  x.id = id;
  x.tenant = tenant;
  x.page_type = kPageType;
  x.channels = std::move(channels);
  x.version = version;
  x.variants.push_back(events::Variant{"control", {}, {}, {}});
  Event e;
  e.kind = Kind::kExperiment;
  e.key = {tenant, Kind::kExperiment, id};
  e.version = version;
  e.record_json = Body(id, version);
  e.record = std::move(x);
  return e;
}

inline Event TemplateEvent(const std::string& tenant, const std::string& channel, int64_t version) {
  events::Template t;
  t.tenant = tenant;
  t.channel = channel;
  t.page_type = kPageType;
  t.version = version;
  t.zones.push_back({"main", std::nullopt});
  Event e;
  e.kind = Kind::kTemplate;
  e.key = {tenant, Kind::kTemplate, channel + ":" + kPageType};
  e.version = version;
  e.record_json = Body("template", version);
  e.record = std::move(t);
  return e;
}

inline Event DeleteEvent(Kind kind, const std::string& tenant, const std::string& id,
                         int64_t version) {
  Event e;
  e.kind = kind;
  e.op = Op::kDelete;
  e.key = {tenant, kind, id};
  e.version = version;
  e.published_at = "2026-11-23T00:00:00Z";
  e.record_json = "{\"deleted\":\"" + id + "\",\"version\":" + std::to_string(version) + "}";
  return e;
}

// (scope, kind, id, version) of each row, for compact expectations.
using RowSummary = std::tuple<std::string, Kind, std::string, int64_t>;
// ApplyBatch over `events` on `origin`, expecting OK.
inline std::vector<ApplyResult> ApplyAll(Origin* origin, const std::vector<Event>& events,
                                         std::vector<SliceKey>* touched = nullptr) {
  std::vector<const Event*> pointers;
  for (const Event& e : events) pointers.push_back(&e);
  std::vector<ApplyResult> results;
  Status s = origin->ApplyBatch(pointers, &results, touched);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(results.size(), s.ok() ? events.size() : 0);
  return results;
}

inline std::vector<RowSummary> Summary(const std::vector<Row>& rows) {
  std::vector<RowSummary> out;
  for (const Row& r : rows) out.emplace_back(r.scope, r.kind, r.id, r.version);
  return out;
}

// The rows a page read serves, as the serving path reads them: the rows of
// scope "*", then those of the page's scope when `page_id` is set and not
// "*" itself (scope "" never has rows, rule 16). OK only if both reads are.
inline Result<std::vector<Row>> PageRows(Origin* origin, const PartitionKey& partition,
                                         std::optional<std::string_view> page_id) {
  auto rows = origin->ReadScope(partition, "*");
  if (!rows.ok() || !page_id || *page_id == "*") return rows;
  auto page = origin->ReadScope(partition, *page_id);
  if (!page.ok()) return page.status();
  rows->insert(rows->end(), page->begin(), page->end());
  return rows;
}

// Every field of a row or a record, for comparisons between stores.
using FullRow = std::tuple<std::string, Kind, std::string, int64_t, std::string>;
using FullRecord =
    std::tuple<std::string, Kind, std::string, int64_t, bool, std::string, std::string>;

inline std::vector<FullRow> Full(const Result<std::vector<Row>>& rows) {
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<FullRow> out;
  if (!rows.ok()) return out;
  for (const Row& r : *rows) out.emplace_back(r.scope, r.kind, r.id, r.version, r.body);
  return out;
}

inline std::vector<FullRecord> AllRecords(Origin* origin) {
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
inline std::string ExportBytes(Origin* origin) {
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

// ApplyBatch over `events` with record_pending, expecting OK; the results.
inline std::vector<ApplyResult> ApplyRecording(Origin* origin, const std::vector<Event>& events,
                                               std::vector<SliceKey>* touched = nullptr) {
  std::vector<const Event*> pointers;
  for (const Event& e : events) pointers.push_back(&e);
  std::vector<ApplyResult> results;
  Status s = origin->ApplyBatch(pointers, &results, touched, /*record_pending=*/true);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return results;
}

// The pending invalidations as "tenant/channel/pageType/scope@version ...".
inline std::string Pending(Origin* origin) {
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

// ---- the shared PostgreSQL server ---------------------------------------------

// Started by the first test that needs it; one per test process.
inline testing::PgServer* SharedServer() {
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

// A fresh, empty database on the shared server; "" when there is none.
inline std::string FreshDatabase() {
  static int next = 0;
  testing::PgServer* server = SharedServer();
  if (server == nullptr) return "";
  auto uri = server->CreateDatabase("store" + std::to_string(next++));
  EXPECT_TRUE(uri.ok()) << uri.status().ToString();
  return uri.ok() ? *uri : "";
}

// What the origin tests do with the origin under test; the fixture that
// derives from it opens origin_.
class OriginUser {
 protected:
  ApplyOutcome Apply(const Event& e) {
    auto r = origin_->Apply(e);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ApplyOutcome::kStale;
  }

  // The rows of a page read (PageRows): scope "*", then the page's.
  std::vector<Row> Read(const std::string& channel,
                        std::optional<std::string_view> page_id = std::nullopt,
                        const std::string& tenant = "t1",
                        const std::string& page_type = kPageType) {
    auto r = PageRows(origin_.get(), {tenant, channel, page_type}, page_id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<Row>{};
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

  std::unique_ptr<Origin> origin_;
};

}  // namespace tempo::origin::fixtures
