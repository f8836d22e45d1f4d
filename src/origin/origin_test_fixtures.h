// Fixtures shared by the origin backends' tests: events built field by
// field (no JSON decoding), a temporary directory, and ApplyBatch over a
// vector of events. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "events/events.h"
#include "origin/origin.h"

namespace tempo::origin::fixtures {

using events::Event;
using events::Kind;
using events::Op;

inline constexpr char kPageType[] = "home";

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base ? base : "/tmp") + "/tempo_origin_test.XXXXXX";
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

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

}  // namespace tempo::origin::fixtures
