// Tests for `tempo gen`: determinism, shape of the data set and request log.
#include "gen/generator.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/time.h"
#include "gen/manifest.h"

namespace tempo::gen {
namespace {

struct Output {
  Status status;
  std::string events;
  std::string requests;
  Manifest manifest;
};

Output GenerateAll(const GenOptions& options) {
  std::ostringstream events, requests;
  Output out;
  out.status = GenerateWithManifest(options, events, &requests, nullptr, &out.manifest);
  out.events = events.str();
  out.requests = requests.str();
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::set<uint64_t> InvalidLines(const Manifest& m) {
  std::set<uint64_t> lines;
  for (const auto& e : m.invalid_events) lines.insert(e.line);
  return lines;
}

GenOptions Options(uint64_t seed, int tenants, int modules, int requests) {
  GenOptions o;
  o.seed = seed;
  o.tenants = tenants;
  o.modules = modules;
  o.requests = requests;
  return o;
}

TEST(Generate, SameOptionsGiveSameBytes) {
  const GenOptions o = Options(42, 3, 400, 3000);
  const Output a = GenerateAll(o);
  const Output b = GenerateAll(o);
  ASSERT_TRUE(a.status.ok()) << a.status.ToString();
  EXPECT_FALSE(a.events.empty());
  EXPECT_FALSE(a.requests.empty());
  EXPECT_TRUE(a.events == b.events);
  EXPECT_TRUE(a.requests == b.requests);
}

TEST(Generate, DifferentSeedsDiffer) {
  const Output a = GenerateAll(Options(1, 2, 200, 500));
  const Output b = GenerateAll(Options(2, 2, 200, 500));
  ASSERT_TRUE(a.status.ok() && b.status.ok());
  EXPECT_NE(a.events, b.events);
  EXPECT_NE(a.requests, b.requests);
}

TEST(Generate, RequestsAreOptional) {
  std::ostringstream events;
  ASSERT_TRUE(Generate(Options(1, 1, 50, 100), events, nullptr, nullptr).ok());
  EXPECT_FALSE(events.str().empty());
}

TEST(Generate, RejectsBadOptions) {
  std::ostringstream events;
  EXPECT_EQ(Generate(Options(1, 0, 10, 0), events, nullptr, nullptr).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(Generate(Options(1, 1, 0, 0), events, nullptr, nullptr).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(Generate(Options(1, 1, 10, -1), events, nullptr, nullptr).code(),
            Status::Code::kInvalidArgument);
}

TEST(Generate, ProgressReachesTotal) {
  std::ostringstream events, requests;
  uint64_t last_done = 0, last_total = 0;
  int calls = 0;
  bool monotonic = true;
  auto progress = [&](uint64_t done, uint64_t total) {
    monotonic = monotonic && done >= last_done && done <= total;
    last_done = done;
    last_total = total;
    ++calls;
  };
  ASSERT_TRUE(Generate(Options(3, 2, 5000, 9000), events, &requests, progress).ok());
  EXPECT_GT(calls, 3);
  EXPECT_TRUE(monotonic);
  EXPECT_EQ(last_done, last_total);
  EXPECT_GT(last_total, 0u);
}

// Every line is an envelope object; counts, histories and tenants are as asked.
TEST(Generate, EventsAreEnvelopesWithTheRequestedModules) {
  const GenOptions o = Options(9, 5, 700, 0);
  const Output out = GenerateAll(o);
  ASSERT_TRUE(out.status.ok());
  const auto lines = Lines(out.events);
  ASSERT_EQ(lines.size(), out.manifest.event_lines);
  const auto invalid = InvalidLines(out.manifest);

  simdjson::dom::parser parser;
  std::map<std::string, std::set<std::string>> module_ids;  // tenant -> ids upserted
  std::map<std::string, int64_t> max_version;               // tenant/kind/id -> highest so far
  std::map<std::string, bool> deleted;
  int out_of_order = 0, deletes = 0, recreated = 0, republished = 0, experiments = 0, templates = 0;
  std::set<std::string> tenants;
  for (uint64_t i = 0; i < lines.size(); ++i) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(lines[i]).get(doc), simdjson::SUCCESS) << lines[i];
    simdjson::dom::object env;
    ASSERT_EQ(doc.get_object().get(env), simdjson::SUCCESS) << lines[i];
    for (const char* key : {"schema", "kind", "op", "record", "publishedAt"}) {
      EXPECT_EQ(env[key].error(), simdjson::SUCCESS) << key << " in " << lines[i];
    }
    if (invalid.count(i)) continue;

    int64_t schema = 0;
    std::string_view kind, op;
    simdjson::dom::object record;
    ASSERT_EQ(env["schema"].get_int64().get(schema), simdjson::SUCCESS);
    EXPECT_EQ(schema, 1);
    ASSERT_EQ(env["kind"].get_string().get(kind), simdjson::SUCCESS);
    ASSERT_EQ(env["op"].get_string().get(op), simdjson::SUCCESS);
    ASSERT_EQ(env["record"].get_object().get(record), simdjson::SUCCESS) << lines[i];
    std::string_view tenant;
    ASSERT_EQ(record["tenant"].get_string().get(tenant), simdjson::SUCCESS) << lines[i];
    int64_t version = 0;
    ASSERT_EQ(record["version"].get_int64().get(version), simdjson::SUCCESS) << lines[i];
    EXPECT_GE(version, 1);
    if (tenant != "GONE") tenants.insert(std::string(tenant));

    std::string key = std::string(tenant) + "/" + std::string(kind) + "/";
    if (kind == "template") {
      std::string_view channel, page_type;
      ASSERT_EQ(record["channel"].get_string().get(channel), simdjson::SUCCESS);
      ASSERT_EQ(record["pageType"].get_string().get(page_type), simdjson::SUCCESS);
      key += std::string(channel) + ":" + std::string(page_type);
      ++templates;
    } else {
      std::string_view id;
      ASSERT_EQ(record["id"].get_string().get(id), simdjson::SUCCESS) << lines[i];
      key += id;
      if (kind == "module" && op == "upsert")
        module_ids[std::string(tenant)].insert(std::string(id));
      if (kind == "experiment") ++experiments;
    }
    auto it = max_version.find(key);
    if (it != max_version.end()) {
      if (version < it->second) ++out_of_order;
      if (op == "upsert" && deleted[key] && version > it->second) ++recreated;
      if (op == "upsert" && !deleted[key] && version > it->second) ++republished;
    }
    if (op == "delete") {
      ++deletes;
      if (it == max_version.end() || version > it->second) deleted[key] = true;
    } else if (it == max_version.end() || version > it->second) {
      deleted[key] = false;
    }
    if (it == max_version.end() || version > it->second) max_version[key] = version;
  }
  EXPECT_EQ(tenants.size(), 5u);
  EXPECT_TRUE(tenants.count("ACME") && tenants.count("Globex") && tenants.count("initech") &&
              tenants.count("WM_GLASS"));
  for (const auto& [tenant, ids] : module_ids) {
    EXPECT_EQ(ids.size(), static_cast<size_t>(o.modules)) << tenant;
  }
  EXPECT_EQ(module_ids.size(), 5u);
  // Version histories: edits, stale events, deletes and re-creation all occur.
  EXPECT_GT(republished, 100);
  EXPECT_GT(out_of_order, 0);
  EXPECT_GT(deletes, 20);
  EXPECT_GT(recreated, 5);
  EXPECT_GT(experiments, 10);
  EXPECT_GT(templates, 20);
}

TEST(Generate, InvalidEventsAreAboutOnePercent) {
  const Output out = GenerateAll(Options(5, 4, 1000, 0));
  ASSERT_TRUE(out.status.ok());
  const double fraction = static_cast<double>(out.manifest.invalid_events.size()) /
                          static_cast<double>(out.manifest.event_lines);
  EXPECT_GT(fraction, 0.004);
  EXPECT_LT(fraction, 0.02);
  std::set<std::string> defects;
  for (const auto& e : out.manifest.invalid_events) defects.insert(e.defect);
  EXPECT_GT(defects.size(), 15u);
}

// Schedules use every RFC 3339 form the spec allows, and all of them parse.
TEST(Generate, ScheduleInstantsParse) {
  const Output out = GenerateAll(Options(11, 2, 2000, 0));
  ASSERT_TRUE(out.status.ok());
  const auto lines = Lines(out.events);
  const auto invalid = InvalidLines(out.manifest);
  simdjson::dom::parser parser;
  int instants = 0, with_offset = 0, with_fraction = 0, open_ended = 0;
  for (uint64_t i = 0; i < lines.size(); ++i) {
    if (invalid.count(i)) continue;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(lines[i]).get(doc), simdjson::SUCCESS);
    simdjson::dom::object schedule;
    if (doc["record"]["schedule"].get_object().get(schedule) != simdjson::SUCCESS) continue;
    int bounds = 0;
    for (const char* bound : {"start", "end"}) {
      std::string_view text;
      if (schedule[bound].get_string().get(text) != simdjson::SUCCESS) continue;
      ++bounds;
      ++instants;
      EXPECT_TRUE(ParseRfc3339(text).has_value()) << text;
      if (text.back() != 'Z') ++with_offset;
      if (text.find('.') != std::string_view::npos) ++with_fraction;
    }
    if (bounds < 2) ++open_ended;
  }
  EXPECT_GT(instants, 500);
  EXPECT_GT(with_offset, 50);
  EXPECT_GT(with_fraction, 50);
  EXPECT_GT(open_ended, 50);
  // The publish times parse too.
  for (uint64_t i = 0; i < lines.size(); i += 97) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(lines[i]).get(doc), simdjson::SUCCESS);
    std::string_view at;
    ASSERT_EQ(doc["publishedAt"].get_string().get(at), simdjson::SUCCESS);
    EXPECT_TRUE(ParseRfc3339(at).has_value()) << at;
  }
}

// Targeting uses the operators and attributes the brief asks for.
TEST(Generate, TargetingCoversOperators) {
  const Output out = GenerateAll(Options(13, 2, 3000, 0));
  ASSERT_TRUE(out.status.ok());
  for (const char* op : {"$eq", "$ne", "$in", "$nin", "$gt", "$lt", "$regex", "$exists",
                         "$elemMatch", "$all", "$size", "$vgte", "$or", "$and", "$not", "$nor"}) {
    EXPECT_NE(out.events.find(std::string("\"") + op + "\""), std::string::npos) << op;
  }
  for (const char* attr :
       {"segment", "geo", "device", "appVersion", "age", "tags", "userId", "tags.0"}) {
    EXPECT_NE(out.events.find(std::string("\"") + attr + "\":"), std::string::npos) << attr;
  }
  for (const char* exp_field :
       {"\"hashVersion\":1", "\"hashVersion\":2", "\"coverage\":0.5", "\"weights\":[",
        "\"condition\":{", "\"remove\":[", "\"add\":[", "\"priority\":{"}) {
    EXPECT_NE(out.events.find(exp_field), std::string::npos) << exp_field;
  }
}

TEST(Generate, RequestLogShape) {
  const GenOptions o = Options(17, 6, 600, 20000);
  const Output out = GenerateAll(o);
  ASSERT_TRUE(out.status.ok());
  const auto lines = Lines(out.requests);
  ASSERT_EQ(lines.size(), 20000u);
  EXPECT_EQ(out.manifest.request_lines, 20000u);
  std::set<uint64_t> failing;
  std::map<std::string, int> codes;
  for (const auto& f : out.manifest.failing_requests) {
    failing.insert(f.line);
    ++codes[f.code];
  }
  int bad_paths = 0, v1 = 0, v2 = 0;
  std::map<std::string, int> page_hits;
  for (uint64_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    EXPECT_EQ(line.find("?at="), std::string::npos) << line;
    EXPECT_EQ(line.find("&at="), std::string::npos) << line;
    if (line.rfind("/api/v1/tempo/layouts?", 0) == 0) {
      ++v1;
    } else if (line.rfind("/api/v2/tempo/layouts?", 0) == 0) {
      ++v2;
    } else {
      ++bad_paths;
      EXPECT_TRUE(failing.count(i)) << line;
    }
    if (!failing.count(i)) {
      // Popularity per (tenant, pageId) among valid requests.
      const size_t t = line.find("tenant=");
      const size_t p = line.find("pageId=");
      if (t != std::string::npos && p != std::string::npos) {
        page_hits[line.substr(t, line.find('&', t) - t) + line.substr(p, line.find('&', p) - p)]++;
      }
    }
  }
  EXPECT_GT(v1, 3000);
  EXPECT_GT(v2, 10000);
  EXPECT_GT(bad_paths, 0);
  EXPECT_LT(bad_paths, 200);
  const double failing_fraction = static_cast<double>(failing.size()) / 20000.0;
  EXPECT_GT(failing_fraction, 0.03);
  EXPECT_LT(failing_fraction, 0.15);
  for (const char* code : {"missing_parameter", "invalid_parameter", "value_too_long",
                           "too_many_attributes", "uri_too_long", "unknown_tenant", "not_found"}) {
    EXPECT_GT(codes[code], 0) << code;
  }
  // Zipf popularity: the hottest page gets far more than an average one.
  int hottest = 0, total = 0;
  for (const auto& [page, n] : page_hits) {
    hottest = std::max(hottest, n);
    total += n;
  }
  ASSERT_GT(page_hits.size(), 100u);
  EXPECT_GT(hottest, 10 * total / static_cast<int>(page_hits.size()));
  // Requests carry targeting, zones, variants and visitors.
  for (const char* param : {"t.segment=", "t.geo=", "t.device=", "t.appVersion=", "t.age=",
                            "t.tags=", "t.userId=", "zone=", "variant=", "visitorId="}) {
    EXPECT_NE(out.requests.find(param), std::string::npos) << param;
  }
}

// A request built to exceed the URI limit does; the others stay within it.
TEST(Generate, RequestSizesMatchTheirIntent) {
  const Output out = GenerateAll(Options(19, 3, 300, 20000));
  ASSERT_TRUE(out.status.ok());
  const auto lines = Lines(out.requests);
  std::map<uint64_t, std::string> codes;
  for (const auto& f : out.manifest.failing_requests) codes[f.line] = f.code;
  for (uint64_t i = 0; i < lines.size(); ++i) {
    const auto it = codes.find(i);
    if (it != codes.end() && it->second == "uri_too_long") {
      EXPECT_GT(lines[i].size(), 8192u);
    } else {
      EXPECT_LE(lines[i].size(), 8192u) << lines[i].substr(0, 200);
    }
  }
}

}  // namespace
}  // namespace tempo::gen
