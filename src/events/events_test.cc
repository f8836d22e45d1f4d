// Tests of event and record decoding, one or more per rule of SPEC §11.13-17 (and rule 24).
#include "events/events.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <variant>

namespace tempo::events {
namespace {

constexpr std::string_view kModule =
    R"({"id":"m1","tenant":"T","channels":["web"],"pageType":"home","zone":"hero","version":3})";
constexpr std::string_view kExperiment =
    R"({"id":"x1","tenant":"T","channels":["web"],"pageType":"home","version":2,)"
    R"("variants":[{"key":"control"},{"key":"B"}]})";
constexpr std::string_view kTemplate =
    R"({"tenant":"T","channel":"web","pageType":"home","version":4,"zones":[{"zone":"hero"}]})";

std::string Envelope(std::string_view kind, std::string_view op, std::string_view record) {
  return std::string(R"({"schema":1,"kind":")") + std::string(kind) + R"(","op":")" +
         std::string(op) + R"(","record":)" + std::string(record) + "}";
}

// `record` (an object's text) with `field` set to `value` (raw JSON), appended
// as a last member: a later duplicate key wins, so this also overrides.
std::string With(std::string_view record, std::string_view field, std::string_view value) {
  std::string out(record.substr(0, record.size() - 1));
  out += ",\"" + std::string(field) + "\":" + std::string(value) + "}";
  return out;
}

// `record` without the member `"field":<value>` where value is a simple token
// or a balanced object/array.
std::string Without(std::string_view record, std::string_view field) {
  std::string s(record);
  const std::string key = "\"" + std::string(field) + "\":";
  size_t at = s.find(key);
  if (at == std::string::npos) return s;
  size_t end = at + key.size();
  int depth = 0;
  bool in_string = false;
  for (; end < s.size(); ++end) {
    char c = s[end];
    if (in_string) {
      if (c == '\\')
        ++end;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{')
      ++depth;
    else if (c == ']' || c == '}') {
      if (depth == 0) break;
      --depth;
    } else if (c == ',' && depth == 0) {
      break;
    }
  }
  if (end < s.size() && s[end] == ',') {
    s.erase(at, end + 1 - at);
  } else {
    s.erase(at, end - at);
    if (at > 0 && s[at - 1] == ',') s.erase(at - 1, 1);
  }
  return s;
}

Result<Event> Module(std::string_view record) {
  return DecodeEvent(Envelope("module", "upsert", record));
}
Result<Event> Experiment(std::string_view record) {
  return DecodeEvent(Envelope("experiment", "upsert", record));
}
Result<Event> Template(std::string_view record) {
  return DecodeEvent(Envelope("template", "upsert", record));
}

// The error message of a failed decode, or "OK".
std::string Error(const Result<Event>& r) { return r.ok() ? "OK" : r.status().message(); }

const events::Module& AsModule(const Result<Event>& r) {
  return std::get<events::Module>(*r.value().record);
}
const events::Experiment& AsExperiment(const Result<Event>& r) {
  return std::get<events::Experiment>(*r.value().record);
}
const events::Template& AsTemplate(const Result<Event>& r) {
  return std::get<events::Template>(*r.value().record);
}

TEST(KindAndOpNames, MatchEnvelopeSpelling) {
  EXPECT_STREQ(KindName(Kind::kModule), "module");
  EXPECT_STREQ(KindName(Kind::kExperiment), "experiment");
  EXPECT_STREQ(KindName(Kind::kTemplate), "template");
  EXPECT_STREQ(OpName(Op::kUpsert), "upsert");
  EXPECT_STREQ(OpName(Op::kDelete), "delete");
}

TEST(DecodeEvent, DecodesAFullModule) {
  auto r = DecodeEvent(
      R"({"schema":1,"kind":"module","op":"upsert","publishedAt":"2026-11-22T10:00:00.123Z",)"
      R"("record":{"id":"hero-bf","tenant":"WM_GLASS","channels":["web","ios"],)"
      R"("pageType":"homepage","pageIds":["p1"],"zone":"hero","priority":100,"type":"carousel",)"
      R"("version":17,"schedule":{"start":"2026-11-20T00:00:00Z","end":"2026-12-01T00:00:00Z"},)"
      R"("targeting":{"segment":{"$in":["gold"]}},"content":{"title":"Black Friday"}}})");
  ASSERT_TRUE(r.ok()) << Error(r);
  const Event& e = *r;
  EXPECT_EQ(e.kind, Kind::kModule);
  EXPECT_EQ(e.op, Op::kUpsert);
  EXPECT_EQ(e.key, (RecordKey{"WM_GLASS", Kind::kModule, "hero-bf"}));
  EXPECT_EQ(e.version, 17);
  EXPECT_EQ(e.published_at, "2026-11-22T10:00:00.123Z");
  const events::Module& m = AsModule(r);
  EXPECT_EQ(m.id, "hero-bf");
  EXPECT_EQ(m.tenant, "WM_GLASS");
  EXPECT_EQ(m.page_type, "homepage");
  EXPECT_EQ(m.zone, "hero");
  EXPECT_EQ(m.type, "carousel");
  EXPECT_EQ(m.channels, (std::vector<std::string>{"web", "ios"}));
  EXPECT_TRUE(m.has_channels);
  EXPECT_EQ(m.page_ids, (std::vector<std::string>{"p1"}));
  EXPECT_EQ(m.priority, 100);
  EXPECT_EQ(m.version, 17);
  EXPECT_EQ(m.schedule.start, ParseRfc3339("2026-11-20T00:00:00Z"));
  EXPECT_EQ(m.schedule.end, ParseRfc3339("2026-12-01T00:00:00Z"));
  EXPECT_EQ(m.targeting_json, R"({"segment":{"$in":["gold"]}})");
  EXPECT_EQ(m.content_json, R"({"title":"Black Friday"})");
}

// --- Rule 13: record keys ---

TEST(DecodeEvent, Rule13_ModuleAndExperimentKeysAreTenantKindId) {
  auto m = Module(kModule);
  ASSERT_TRUE(m.ok()) << Error(m);
  EXPECT_EQ(m->key, (RecordKey{"T", Kind::kModule, "m1"}));
  auto x = Experiment(kExperiment);
  ASSERT_TRUE(x.ok()) << Error(x);
  EXPECT_EQ(x->key, (RecordKey{"T", Kind::kExperiment, "x1"}));
}

TEST(DecodeEvent, Rule13_TemplateKeyIsChannelColonPageType) {
  auto t = Template(kTemplate);
  ASSERT_TRUE(t.ok()) << Error(t);
  EXPECT_EQ(t->key, (RecordKey{"T", Kind::kTemplate, "web:home"}));
}

TEST(DecodeEvent, Rule13_DeletesNeedOnlyKeyFieldsAndVersion) {
  auto m = DecodeEvent(Envelope("module", "delete", R"({"id":"m1","tenant":"T","version":9})"));
  ASSERT_TRUE(m.ok()) << Error(m);
  EXPECT_EQ(m->op, Op::kDelete);
  EXPECT_EQ(m->key, (RecordKey{"T", Kind::kModule, "m1"}));
  EXPECT_EQ(m->version, 9);
  EXPECT_FALSE(m->record.has_value());

  auto x = DecodeEvent(Envelope("experiment", "delete", R"({"tenant":"T","id":"x1","version":2})"));
  ASSERT_TRUE(x.ok()) << Error(x);
  EXPECT_EQ(x->key, (RecordKey{"T", Kind::kExperiment, "x1"}));

  // Other fields are not checked on a delete, and the record is kept as given (compacted).
  auto loose = DecodeEvent(
      Envelope("module", "delete",
               R"({ "id" : "m1", "tenant":"T", "version":9, "zone":5, "channels":"x" })"));
  ASSERT_TRUE(loose.ok()) << Error(loose);
  EXPECT_EQ(loose->record_json, R"({"id":"m1","tenant":"T","version":9,"zone":5,"channels":"x"})");

  EXPECT_EQ(Error(DecodeEvent(Envelope("module", "delete", R"({"id":"m1","tenant":"T"})"))),
            "record.version: is required");
  EXPECT_EQ(Error(DecodeEvent(Envelope("module", "delete", R"({"tenant":"T","version":1})"))),
            "record.id: is required");
  EXPECT_EQ(
      Error(DecodeEvent(Envelope("module", "delete", R"({"id":"","tenant":"T","version":1})"))),
      "record.id: must be a non-empty string");
  EXPECT_EQ(Error(DecodeEvent(Envelope("experiment", "delete", R"({"id":"x","version":1})"))),
            "record.tenant: is required");
  EXPECT_EQ(
      Error(DecodeEvent(Envelope("module", "delete", R"({"id":"m1","tenant":"T","version":0})"))),
      "record.version: must be an integer in 1..2^63-1");
}

TEST(DecodeEvent, Rule13_TemplateDeleteCarriesTenantChannelPageTypeVersion) {
  auto t = DecodeEvent(Envelope("template", "delete",
                                R"({"tenant":"T","channel":"web","pageType":"home","version":5})"));
  ASSERT_TRUE(t.ok()) << Error(t);
  EXPECT_EQ(t->key, (RecordKey{"T", Kind::kTemplate, "web:home"}));
  EXPECT_EQ(t->version, 5);
  EXPECT_EQ(Error(DecodeEvent(
                Envelope("template", "delete", R"({"tenant":"T","pageType":"home","version":5})"))),
            "record.channel: is required");
  EXPECT_EQ(Error(DecodeEvent(
                Envelope("template", "delete", R"({"tenant":"T","channel":"web","version":5})"))),
            "record.pageType: is required");
  // An id is not a template's key.
  EXPECT_EQ(
      Error(DecodeEvent(Envelope("template", "delete", R"({"tenant":"T","id":"x","version":5})"))),
      "record.channel: is required");
}

// --- Rule 14: versions are decoded for the origin's ordering ---

TEST(DecodeEvent, Rule14_VersionIsCarriedOnEveryEvent) {
  auto m = Module(With(kModule, "version", "9223372036854775807"));
  ASSERT_TRUE(m.ok()) << Error(m);
  EXPECT_EQ(m->version, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(AsModule(m).version, std::numeric_limits<int64_t>::max());
  auto x = Experiment(kExperiment);
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->version, 2);
  EXPECT_EQ(AsExperiment(x).version, 2);
  auto t = Template(kTemplate);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->version, 4);
  EXPECT_EQ(AsTemplate(t).version, 4);
}

// --- Rule 15: invalid events ---

TEST(DecodeEvent, Rule15_NotUtf8IsInvalid) {
  std::string line = Envelope("module", "upsert", With(kModule, "content", "\"caf\xe9\""));
  EXPECT_EQ(Error(DecodeEvent(line)), "json: not valid UTF-8");
  // Invalid UTF-8 inside an ignored field still invalidates the event.
  line = Envelope("module", "upsert", With(kModule, "editor", "\"\xed\xa0\x80\""));
  EXPECT_EQ(Error(DecodeEvent(line)), "json: not valid UTF-8");
}

TEST(DecodeEvent, Rule15_NotJsonIsInvalid) {
  EXPECT_EQ(Error(DecodeEvent("not json at all")),
            "json: not valid JSON (invalid literal at byte 0)");
  EXPECT_EQ(Error(DecodeEvent(R"({"schema":1,"kind":"module","op":"upsert","record":{"id":"b")")),
            "json: not valid JSON (unexpected end of input at byte 60)");
  EXPECT_EQ(Error(DecodeEvent("")), "json: not valid JSON (unexpected end of input at byte 0)");
  // Errors inside fields nobody reads are found too (On-Demand alone would skip them).
  EXPECT_NE(Error(Module(With(kModule, "editor", "[1,]"))), "OK");
  EXPECT_NE(Error(Module(With(kModule, "content", "{\"a\":01}"))), "OK");
  EXPECT_NE(Error(Module(With(kModule, "content", "NaN"))), "OK");
  EXPECT_NE(Error(DecodeEvent(Envelope("module", "upsert", kModule) + "x")), "OK");
  EXPECT_NE(Error(DecodeEvent(Envelope("module", "upsert", kModule) + "{}")), "OK");
  // Surrounding whitespace (an NDJSON line's "\r\n") is fine.
  EXPECT_EQ(Error(DecodeEvent(" " + Envelope("module", "upsert", kModule) + "\r\n")), "OK");
}

TEST(DecodeEvent, Rule15_EnvelopeMustBeAnObject) {
  EXPECT_EQ(Error(DecodeEvent("[]")), "envelope: must be an object");
  EXPECT_EQ(Error(DecodeEvent("1")), "envelope: must be an object");
  EXPECT_EQ(Error(DecodeEvent("\"x\"")), "envelope: must be an object");
}

TEST(DecodeEvent, Rule15_SchemaMustBeTheIntegerLiteralOne) {
  const std::string rest = R"("kind":"module","op":"upsert","record":)" + std::string(kModule);
  EXPECT_EQ(Error(DecodeEvent("{\"schema\":1," + rest + "}")), "OK");
  for (const char* schema :
       {"2", "0", "1.0", "1e0", "10e-1", "-1", "\"1\"", "true", "null", "[1]", "{\"v\":1}"}) {
    EXPECT_EQ(Error(DecodeEvent(std::string("{\"schema\":") + schema + "," + rest + "}")),
              "schema: must be the integer 1")
        << schema;
  }
  EXPECT_EQ(Error(DecodeEvent("{" + rest + "}")), "schema: must be the integer 1");
  // Whitespace around the literal is not part of it.
  EXPECT_EQ(Error(DecodeEvent("{\"schema\" : 1 ," + rest + "}")), "OK");
}

TEST(DecodeEvent, Rule15_UnknownKindOrOpIsInvalid) {
  EXPECT_EQ(Error(DecodeEvent(Envelope("widget", "upsert", kModule))),
            R"(kind: must be "module", "experiment" or "template")");
  EXPECT_EQ(Error(DecodeEvent(Envelope("Module", "upsert", kModule))),
            R"(kind: must be "module", "experiment" or "template")");
  EXPECT_EQ(Error(DecodeEvent(Envelope("module", "insert", kModule))),
            R"(op: must be "upsert" or "delete")");
  EXPECT_EQ(Error(DecodeEvent(Envelope("module", "", kModule))),
            R"(op: must be "upsert" or "delete")");
  EXPECT_EQ(Error(DecodeEvent(R"({"schema":1,"kind":"module","record":{}})")),
            R"(op: must be "upsert" or "delete")");
  EXPECT_EQ(Error(DecodeEvent(R"({"schema":1,"kind":1,"op":"upsert","record":{}})")),
            R"(kind: must be "module", "experiment" or "template")");
  // Escaped spellings of a valid name are that name.
  EXPECT_EQ(Error(DecodeEvent(Envelope("modul\\u0065", "upsert", kModule))), "OK");
}

TEST(DecodeEvent, Rule15_RecordMustBeAnObject) {
  for (const char* record : {"[]", "null", "\"{}\"", "1", "[{\"id\":\"m1\"}]"}) {
    EXPECT_EQ(Error(DecodeEvent(Envelope("module", "upsert", record))), "record: must be an object")
        << record;
  }
  EXPECT_EQ(Error(DecodeEvent(R"({"schema":1,"kind":"module","op":"upsert"})")),
            "record: must be an object");
}

TEST(DecodeEvent, Rule15_VersionMustBeIntegerLiteral) {
  EXPECT_EQ(Error(Module(With(kModule, "version", "1"))), "OK");
  EXPECT_EQ(Error(Module(With(kModule, "version", "9223372036854775807"))), "OK");
  for (const char* version :
       {"0", "-1", "-0", "1.0", "1e2", "1E2", "2.5", "\"3\"", "9223372036854775808",
        "18446744073709551616", "123456789012345678901234", "null", "true", "[1]", "{}"}) {
    EXPECT_EQ(Error(Module(With(kModule, "version", version))),
              "record.version: must be an integer in 1..2^63-1")
        << version;
    EXPECT_EQ(Error(Experiment(With(kExperiment, "version", version))),
              "record.version: must be an integer in 1..2^63-1")
        << version;
    EXPECT_EQ(Error(Template(With(kTemplate, "version", version))),
              "record.version: must be an integer in 1..2^63-1")
        << version;
  }
  EXPECT_EQ(Error(Module(Without(kModule, "version"))), "record.version: is required");
  EXPECT_EQ(Error(Experiment(Without(kExperiment, "version"))), "record.version: is required");
  EXPECT_EQ(Error(Template(Without(kTemplate, "version"))), "record.version: is required");
}

TEST(DecodeEvent, Rule15_ModuleRequiredStringsMustBeNonEmpty) {
  for (const char* field : {"id", "tenant", "pageType", "zone"}) {
    const std::string want = std::string("record.") + field + ": must be a non-empty string";
    EXPECT_EQ(Error(Module(With(kModule, field, "\"\""))), want);
    EXPECT_EQ(Error(Module(With(kModule, field, "5"))), want);
    EXPECT_EQ(Error(Module(With(kModule, field, "null"))), want);
    EXPECT_EQ(Error(Module(With(kModule, field, "[\"a\"]"))), want);
    EXPECT_EQ(Error(Module(Without(kModule, field))),
              std::string("record.") + field + ": is required");
  }
}

TEST(DecodeEvent, Rule15_ModuleChannelsMustBeAListOfStrings) {
  EXPECT_EQ(Error(Module(With(kModule, "channels", "[\"web\",5]"))),
            "record.channels[1]: must be a string");
  EXPECT_EQ(Error(Module(With(kModule, "channels", "[null]"))),
            "record.channels[0]: must be a string");
  EXPECT_EQ(Error(Module(With(kModule, "channels", "\"web\""))),
            "record.channels: must be a list of strings");
  EXPECT_EQ(Error(Module(With(kModule, "channels", "null"))),
            "record.channels: must be a list of strings");
  EXPECT_EQ(Error(Module(Without(kModule, "channels"))), "record.channels: is required");
  auto empty = Module(With(kModule, "channels", "[]"));
  ASSERT_TRUE(empty.ok()) << Error(empty);
  EXPECT_TRUE(AsModule(empty).channels.empty());
}

TEST(DecodeEvent, Rule15_ModulePageIdsIsAnOptionalListOfStrings) {
  auto absent = Module(kModule);
  ASSERT_TRUE(absent.ok());
  EXPECT_TRUE(AsModule(absent).page_ids.empty());
  auto listed = Module(With(kModule, "pageIds", R"(["p1","p2"])"));
  ASSERT_TRUE(listed.ok()) << Error(listed);
  EXPECT_EQ(AsModule(listed).page_ids, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(Error(Module(With(kModule, "pageIds", "[1]"))), "record.pageIds[0]: must be a string");
  EXPECT_EQ(Error(Module(With(kModule, "pageIds", "\"p1\""))),
            "record.pageIds: must be a list of strings");
}

TEST(DecodeEvent, Rule15_ModulePriorityIsAnOptionalInteger) {
  auto absent = Module(kModule);
  EXPECT_EQ(AsModule(absent).priority, 0);
  auto negative = Module(With(kModule, "priority", "-9223372036854775808"));
  ASSERT_TRUE(negative.ok()) << Error(negative);
  EXPECT_EQ(AsModule(negative).priority, std::numeric_limits<int64_t>::min());
  for (const char* priority : {"1.5", "1.0", "1e3", "\"5\"", "true", "9223372036854775808", "{}"}) {
    EXPECT_EQ(Error(Module(With(kModule, "priority", priority))),
              "record.priority: must be a 64-bit integer")
        << priority;
  }
}

TEST(DecodeEvent, Rule15_ModuleTypeIsAnOptionalString) {
  EXPECT_EQ(AsModule(Module(kModule)).type, "");
  EXPECT_EQ(AsModule(Module(With(kModule, "type", "\"grid\""))).type, "grid");
  EXPECT_EQ(Error(Module(With(kModule, "type", "3"))), "record.type: must be a string");
}

TEST(DecodeEvent, Rule15_ModuleScheduleBoundsAreOptionalRfc3339) {
  auto open = Module(With(kModule, "schedule", "{}"));
  ASSERT_TRUE(open.ok()) << Error(open);
  EXPECT_FALSE(AsModule(open).schedule.start);
  EXPECT_FALSE(AsModule(open).schedule.end);
  auto end_only = Module(With(kModule, "schedule", R"({"end":"2026-11-25T14:00:00+02:00"})"));
  ASSERT_TRUE(end_only.ok()) << Error(end_only);
  EXPECT_FALSE(AsModule(end_only).schedule.start);
  EXPECT_EQ(AsModule(end_only).schedule.end, ParseRfc3339("2026-11-25T12:00:00Z"));
  auto nulls = Module(With(kModule, "schedule", R"({"start":null,"end":null})"));
  ASSERT_TRUE(nulls.ok()) << Error(nulls);
  EXPECT_FALSE(AsModule(nulls).schedule.start);

  EXPECT_EQ(Error(Module(With(kModule, "schedule", R"({"start":"2026-11-20"})"))),
            "record.schedule.start: not an RFC 3339 date-time");
  EXPECT_EQ(Error(Module(With(kModule, "schedule", R"({"end":"2026-02-30T00:00:00Z"})"))),
            "record.schedule.end: not an RFC 3339 date-time");
  EXPECT_EQ(Error(Module(With(kModule, "schedule", R"({"end":"2026-11-20t00:00:00z"})"))),
            "record.schedule.end: not an RFC 3339 date-time");
  EXPECT_EQ(Error(Module(With(kModule, "schedule", R"({"start":""})"))),
            "record.schedule.start: not an RFC 3339 date-time");
  EXPECT_EQ(Error(Module(With(kModule, "schedule", R"({"start":1700000000})"))),
            "record.schedule.start: must be an RFC 3339 date-time string");
  EXPECT_EQ(Error(Module(With(kModule, "schedule", R"("2026-11-20T00:00:00Z")"))),
            "record.schedule: must be an object");
}

TEST(DecodeEvent, Rule15_ModuleTargetingIsAnOptionalObject) {
  EXPECT_EQ(AsModule(Module(kModule)).targeting_json, "");
  auto t = Module(With(kModule, "targeting", R"({ "geo" : "US", "n" : { "$gt" : 1.50 } })"));
  ASSERT_TRUE(t.ok()) << Error(t);
  EXPECT_EQ(AsModule(t).targeting_json, R"({"geo":"US","n":{"$gt":1.50}})");
  EXPECT_EQ(Error(Module(With(kModule, "targeting", "[]"))), "record.targeting: must be an object");
  EXPECT_EQ(Error(Module(With(kModule, "targeting", "\"geo\""))),
            "record.targeting: must be an object");
}

TEST(DecodeEvent, Rule15_ModuleContentIsAnyJsonAbsentIsNull) {
  EXPECT_EQ(AsModule(Module(kModule)).content_json, "null");
  EXPECT_EQ(AsModule(Module(With(kModule, "content", "null"))).content_json, "null");
  for (const char* content : {"1", "\"s\"", "true", "[1,{\"a\":[]}]", "{}", "-0.0E+1"}) {
    EXPECT_EQ(AsModule(Module(With(kModule, "content", content))).content_json, content);
  }
}

TEST(DecodeEvent, Rule15_ExperimentRequiredFields) {
  for (const char* field : {"id", "tenant", "pageType"}) {
    EXPECT_EQ(Error(Experiment(With(kExperiment, field, "\"\""))),
              std::string("record.") + field + ": must be a non-empty string");
    EXPECT_EQ(Error(Experiment(Without(kExperiment, field))),
              std::string("record.") + field + ": is required");
  }
  EXPECT_EQ(Error(Experiment(Without(kExperiment, "channels"))), "record.channels: is required");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "channels", "[3]"))),
            "record.channels[0]: must be a string");
  EXPECT_EQ(Error(Experiment(Without(kExperiment, "variants"))), "record.variants: is required");
}

TEST(DecodeEvent, Rule15_ExperimentVariantsNonEmptyListOfObjectsWithKeys) {
  EXPECT_EQ(Error(Experiment(With(kExperiment, "variants", "[]"))),
            "record.variants: must be a non-empty list of objects");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "variants", "null"))),
            "record.variants: must be a non-empty list of objects");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "variants", "{\"key\":\"a\"}"))),
            "record.variants: must be a non-empty list of objects");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "variants", R"([{"key":"a"},"b"])"))),
            "record.variants[1]: must be an object");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "variants", R"([{"key":""}])"))),
            "record.variants[0].key: must be a non-empty string");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "variants", R"([{"remove":["a"]}])"))),
            "record.variants[0].key: is required");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "variants", R"([{"key":"a","remove":[1]}])"))),
            "record.variants[0].remove[0]: must be a string");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "variants", R"([{"key":"a","priority":[1]}])"))),
            "record.variants[0].priority: must be an object");
  EXPECT_EQ(
      Error(Experiment(With(kExperiment, "variants", R"([{"key":"a","priority":{"m":1.5}}])"))),
      "record.variants[0].priority.m: must be a 64-bit integer");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "variants", R"([{"key":"a","add":{}}])"))),
            "record.variants[0].add: must be a list of modules");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "variants", R"([{"key":"a","add":[1]}])"))),
            "record.variants[0].add[0]: must be an object");

  auto x = Experiment(With(kExperiment, "variants",
                           R"([{"key":"control"},{"key":"B","remove":["m1","m2"],)"
                           R"("priority":{"p1":500,"p2":-3},"extra":1}])"));
  ASSERT_TRUE(x.ok()) << Error(x);
  const auto& variants = AsExperiment(x).variants;
  ASSERT_EQ(variants.size(), 2u);
  EXPECT_EQ(variants[0].key, "control");
  EXPECT_TRUE(variants[0].remove.empty());
  EXPECT_EQ(variants[1].key, "B");
  EXPECT_EQ(variants[1].remove, (std::vector<std::string>{"m1", "m2"}));
  EXPECT_EQ(variants[1].priority,
            (std::vector<std::pair<std::string, int64_t>>{{"p1", 500}, {"p2", -3}}));
}

TEST(DecodeEvent, Rule15_ExperimentDefaults) {
  auto x = Experiment(kExperiment);
  ASSERT_TRUE(x.ok()) << Error(x);
  const auto& e = AsExperiment(x);
  EXPECT_EQ(e.hash_attribute, "visitorId");
  EXPECT_EQ(e.seed, "x1");
  EXPECT_EQ(e.hash_version, 1);
  EXPECT_EQ(e.coverage, 1);
  EXPECT_FALSE(e.weights.has_value());
  EXPECT_EQ(e.condition_json, "");

  std::string empties = With(kExperiment, "hashAttribute", "\"\"");
  empties = With(empties, "seed", "\"\"");
  empties = With(empties, "hashVersion", "0");
  auto y = Experiment(empties);
  ASSERT_TRUE(y.ok()) << Error(y);
  EXPECT_EQ(AsExperiment(y).hash_attribute, "visitorId");
  EXPECT_EQ(AsExperiment(y).seed, "x1");
  EXPECT_EQ(AsExperiment(y).hash_version, 1);

  std::string nulls = With(kExperiment, "hashAttribute", "null");
  for (const char* f : {"seed", "hashVersion", "coverage", "weights", "condition"}) {
    nulls = With(nulls, f, "null");
  }
  auto z = Experiment(nulls);
  ASSERT_TRUE(z.ok()) << Error(z);
  EXPECT_EQ(AsExperiment(z).hash_attribute, "visitorId");
  EXPECT_EQ(AsExperiment(z).seed, "x1");
  EXPECT_EQ(AsExperiment(z).hash_version, 1);
  EXPECT_EQ(AsExperiment(z).coverage, 1);
  EXPECT_FALSE(AsExperiment(z).weights.has_value());

  // The seed default is the id even when "seed" comes before "id".
  auto early = Experiment(R"({"seed":"","id":"late","tenant":"T","channels":[],"pageType":"p",)"
                          R"("version":1,"variants":[{"key":"a"}]})");
  ASSERT_TRUE(early.ok()) << Error(early);
  EXPECT_EQ(AsExperiment(early).seed, "late");
}

TEST(DecodeEvent, Rule15_ExperimentNumbersKeptAsGiven) {
  std::string r = With(kExperiment, "hashAttribute", "\"deviceId\"");
  r = With(r, "seed", "\"s-1\"");
  r = With(r, "hashVersion", "2");
  r = With(r, "coverage", "0.25");
  r = With(r, "weights", "[0.5,0.5]");
  r = With(r, "condition", R"({ "geo" : "US" })");
  auto x = Experiment(r);
  ASSERT_TRUE(x.ok()) << Error(x);
  const auto& e = AsExperiment(x);
  EXPECT_EQ(e.hash_attribute, "deviceId");
  EXPECT_EQ(e.seed, "s-1");
  EXPECT_EQ(e.hash_version, 2);
  EXPECT_EQ(e.coverage, 0.25);
  EXPECT_EQ(e.weights, (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ(e.condition_json, R"({"geo":"US"})");
  // Unusual numbers are the selector's business, not the decoder's.
  EXPECT_EQ(AsExperiment(Experiment(With(kExperiment, "hashVersion", "3"))).hash_version, 3);
  EXPECT_EQ(AsExperiment(Experiment(With(kExperiment, "coverage", "1.5e0"))).coverage, 1.5);
  EXPECT_EQ(AsExperiment(Experiment(With(kExperiment, "weights", "[]"))).weights,
            std::vector<double>{});

  EXPECT_EQ(Error(Experiment(With(kExperiment, "hashVersion", "\"2\""))),
            "record.hashVersion: must be a number");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "coverage", "true"))),
            "record.coverage: must be a number");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "coverage", "1e400"))),
            "record.coverage: must be a number within the double range");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "weights", "[0.5,\"0.5\"]"))),
            "record.weights[1]: must be a number");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "weights", "0.5"))),
            "record.weights: must be a list of numbers");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "condition", "[]"))),
            "record.condition: must be an object");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "hashAttribute", "1"))),
            "record.hashAttribute: must be a string");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "seed", "{}"))), "record.seed: must be a string");
}

TEST(DecodeEvent, Rule15_TemplateFields) {
  auto t = Template(R"({"tenant":"T","channel":"web","pageType":"home","version":2,)"
                    R"("zones":[{"zone":"header","limit":1},{"zone":"hero","limit":0},)"
                    R"({"zone":"main"},{"zone":"foot","limit":null}]})");
  ASSERT_TRUE(t.ok()) << Error(t);
  const auto& tpl = AsTemplate(t);
  EXPECT_EQ(tpl.tenant, "T");
  EXPECT_EQ(tpl.channel, "web");
  EXPECT_EQ(tpl.page_type, "home");
  ASSERT_EQ(tpl.zones.size(), 4u);
  EXPECT_EQ(tpl.zones[0].zone, "header");
  EXPECT_EQ(tpl.zones[0].limit, 1);
  EXPECT_EQ(tpl.zones[1].limit, 0);
  EXPECT_FALSE(tpl.zones[2].limit.has_value());
  EXPECT_FALSE(tpl.zones[3].limit.has_value());

  for (const char* field : {"tenant", "channel", "pageType"}) {
    EXPECT_EQ(Error(Template(With(kTemplate, field, "\"\""))),
              std::string("record.") + field + ": must be a non-empty string");
    EXPECT_EQ(Error(Template(Without(kTemplate, field))),
              std::string("record.") + field + ": is required");
  }
  EXPECT_EQ(Error(Template(Without(kTemplate, "zones"))), "record.zones: is required");
  EXPECT_EQ(Error(Template(With(kTemplate, "zones", "{}"))),
            "record.zones: must be a list of objects");
  EXPECT_EQ(Error(Template(With(kTemplate, "zones", "[\"hero\"]"))),
            "record.zones[0]: must be an object");
  EXPECT_EQ(Error(Template(With(kTemplate, "zones", R"([{"limit":1}])"))),
            "record.zones[0].zone: is required");
  EXPECT_EQ(Error(Template(With(kTemplate, "zones", R"([{"zone":""}])"))),
            "record.zones[0].zone: must be a non-empty string");
  for (const char* limit : {"-1", "1.0", "1e1", "\"3\"", "true", "9223372036854775808"}) {
    EXPECT_EQ(Error(Template(With(kTemplate, "zones",
                                  std::string(R"([{"zone":"a","limit":)") + limit + "}]"))),
              "record.zones[0].limit: must be an integer >= 0")
        << limit;
  }
  auto empty = Template(With(kTemplate, "zones", "[]"));
  ASSERT_TRUE(empty.ok()) << Error(empty);
  EXPECT_TRUE(AsTemplate(empty).zones.empty());
}

TEST(DecodeEvent, Rule15_TemplateZoneListedTwiceKeepsItsFirstEntry) {
  auto t = Template(With(kTemplate, "zones",
                         R"([{"zone":"a","limit":1},{"zone":"b"},{"zone":"a","limit":5},)"
                         R"({"zone":"c","limit":2},{"zone":"b","limit":3}])"));
  ASSERT_TRUE(t.ok()) << Error(t);
  const auto& zones = AsTemplate(t).zones;
  ASSERT_EQ(zones.size(), 3u);
  EXPECT_EQ(zones[0].zone, "a");
  EXPECT_EQ(zones[0].limit, 1);
  EXPECT_EQ(zones[1].zone, "b");
  EXPECT_FALSE(zones[1].limit.has_value());
  EXPECT_EQ(zones[2].zone, "c");
  // A later duplicate must still be valid.
  EXPECT_EQ(Error(Template(With(kTemplate, "zones", R"([{"zone":"a"},{"zone":"a","limit":-1}])"))),
            "record.zones[1].limit: must be an integer >= 0");
}

TEST(DecodeEvent, Rule15_FieldNamesAreCaseSensitive) {
  std::string r = Without(kModule, "pageType");
  EXPECT_EQ(Error(Module(With(r, "pagetype", "\"home\""))), "record.pageType: is required");
  EXPECT_EQ(Error(Module(With(r, "PageType", "\"home\""))), "record.pageType: is required");
  // "Priority" is an unknown field: ignored whatever it holds.
  auto m = Module(With(kModule, "Priority", "\"high\""));
  ASSERT_TRUE(m.ok()) << Error(m);
  EXPECT_EQ(AsModule(m).priority, 0);
  // An escaped field name is the name it spells.
  auto escaped = Module(With(kModule, "\\u0070riority", "7"));
  ASSERT_TRUE(escaped.ok()) << Error(escaped);
  EXPECT_EQ(AsModule(escaped).priority, 7);
}

TEST(DecodeEvent, Rule15_UnknownFieldsAreIgnored) {
  std::string r = With(kModule, "editor", R"({"name":"alice","tags":[1,2,{"x":null}]})");
  r = With(r, "version2", "\"x\"");
  auto m = Module(r);
  ASSERT_TRUE(m.ok()) << Error(m);
  // ... but kept in the stored record.
  EXPECT_NE(m->record_json.find(R"("editor":{"name":"alice")"), std::string::npos);
  auto e = DecodeEvent(R"({"schema":1,"kind":"module","op":"upsert","traceId":[1,2],"record":)" +
                       std::string(kModule) + "}");
  EXPECT_TRUE(e.ok()) << Error(e);
}

TEST(DecodeEvent, Rule15_NullMeansAbsentForOptionalFields) {
  std::string r(kModule);
  for (const char* f : {"pageIds", "priority", "type", "schedule", "targeting", "content"}) {
    r = With(r, f, "null");
  }
  auto m = Module(r);
  ASSERT_TRUE(m.ok()) << Error(m);
  const auto& mod = AsModule(m);
  EXPECT_TRUE(mod.page_ids.empty());
  EXPECT_EQ(mod.priority, 0);
  EXPECT_EQ(mod.type, "");
  EXPECT_FALSE(mod.schedule.start);
  EXPECT_EQ(mod.targeting_json, "");
  EXPECT_EQ(mod.content_json, "null");
  // A null publishedAt is as if absent.
  auto e = DecodeEvent(R"({"schema":1,"kind":"module","op":"upsert","publishedAt":null,"record":)" +
                       std::string(kModule) + "}");
  ASSERT_TRUE(e.ok()) << Error(e);
  EXPECT_EQ(e->published_at, "");
}

TEST(DecodeEvent, Rule15_NullRequiredFieldIsInvalid) {
  EXPECT_EQ(Error(Module(With(kModule, "id", "null"))), "record.id: must be a non-empty string");
  EXPECT_EQ(Error(Module(With(kModule, "channels", "null"))),
            "record.channels: must be a list of strings");
  EXPECT_EQ(Error(Module(With(kModule, "version", "null"))),
            "record.version: must be an integer in 1..2^63-1");
  EXPECT_EQ(Error(Template(With(kTemplate, "zones", "null"))),
            "record.zones: must be a list of objects");
  EXPECT_EQ(Error(Experiment(With(kExperiment, "variants", "null"))),
            "record.variants: must be a non-empty list of objects");
}

// --- Rule 16: duplicates collapse; odd pageIds are kept for the selector to ignore ---

TEST(DecodeEvent, Rule16_DuplicateChannelsAndPageIdsCollapseInFirstSeenOrder) {
  std::string r = With(kModule, "channels", R"(["ios","web","ios","android","web"])");
  r = With(r, "pageIds", R"(["p2","p1","p2","p2","p3","p1"])");
  auto m = Module(r);
  ASSERT_TRUE(m.ok()) << Error(m);
  EXPECT_EQ(AsModule(m).channels, (std::vector<std::string>{"ios", "web", "android"}));
  EXPECT_EQ(AsModule(m).page_ids, (std::vector<std::string>{"p2", "p1", "p3"}));

  auto x = Experiment(With(kExperiment, "channels", R"(["web","web"])"));
  ASSERT_TRUE(x.ok()) << Error(x);
  EXPECT_EQ(AsExperiment(x).channels, (std::vector<std::string>{"web"}));

  // Long lists take the hashed path; same result.
  std::string many = "[";
  for (int i = 0; i < 100; ++i) many += (i ? ",\"c" : "\"c") + std::to_string(i % 7) + "\"";
  many += "]";
  auto big = Module(With(kModule, "channels", many));
  ASSERT_TRUE(big.ok()) << Error(big);
  EXPECT_EQ(AsModule(big).channels,
            (std::vector<std::string>{"c0", "c1", "c2", "c3", "c4", "c5", "c6"}));
}

TEST(DecodeEvent, Rule16_EmptyChannelsAndOddPageIdsAreStored) {
  auto m = Module(With(With(kModule, "channels", "[]"), "pageIds", R"(["*","","p1"])"));
  ASSERT_TRUE(m.ok()) << Error(m);
  EXPECT_TRUE(AsModule(m).channels.empty());
  EXPECT_TRUE(AsModule(m).has_channels);
  EXPECT_EQ(AsModule(m).page_ids, (std::vector<std::string>{"*", "", "p1"}));
}

// --- Rule 17: content and records compacted, spellings kept ---

TEST(DecodeEvent, Rule17_ContentKeepsNumberSpellingsAndEscapes) {
  const std::string content =
      "{ \"a\" : 1E-2 , \"b\" : [ -2.50 , 12345678901234567890 , 0.10e+3 ] ,\n"
      "  \"s\" : \"caf\\u00e9 \\\"q\\\" \\/ \\n  two  spaces\" , \"u\" : \"é\" , \"n\" : null }";
  auto m = Module(With(kModule, "content", content));
  ASSERT_TRUE(m.ok()) << Error(m);
  EXPECT_EQ(AsModule(m).content_json,
            "{\"a\":1E-2,\"b\":[-2.50,12345678901234567890,0.10e+3],"
            "\"s\":\"caf\\u00e9 \\\"q\\\" \\/ \\n  two  spaces\",\"u\":\"é\",\"n\":null}");
}

TEST(DecodeEvent, Rule17_RecordJsonIsTheCompactedRecord) {
  const std::string spaced =
      "{ \"schema\" : 1 ,\n \"kind\" : \"module\" , \"op\" : \"upsert\" , \"record\" : { \"id\" : "
      "\"m 1\" ,"
      " \"tenant\" : \"T\" , \"channels\" : [ \"web\" ] , \"pageType\" : \"home\" , \"zone\" : "
      "\"z\" ,"
      " \"version\" : 3 , \"content\" : { \"x\" : 1.50 } } }";
  auto e = DecodeEvent(spaced);
  ASSERT_TRUE(e.ok()) << Error(e);
  EXPECT_EQ(e->record_json,
            R"({"id":"m 1","tenant":"T","channels":["web"],"pageType":"home","zone":"z",)"
            R"("version":3,"content":{"x":1.50}})");
  EXPECT_EQ(AsModule(e).content_json, R"({"x":1.50})");
}

// --- Rule 24: the shape of an experiment's added modules ---

TEST(DecodeEvent, Rule24_AddedModulesNeedOnlyIdAndZone) {
  auto x =
      Experiment(With(kExperiment, "variants",
                      R"([{"key":"B","add":[{"id":"a1","zone":"hero","tenant":5,"pageType":[]},)"
                      R"({"id":"a2","zone":"main","channels":["ios","ios"],"pageIds":["p"],)"
                      R"("priority":7,"version":12,"type":"grid","schedule":{"start":)"
                      R"("2026-01-01T00:00:00Z"},"targeting":{"g":1},"content":[1.0]}]}])"));
  ASSERT_TRUE(x.ok()) << Error(x);
  const auto& add = AsExperiment(x).variants[0].add;
  ASSERT_EQ(add.size(), 2u);
  EXPECT_EQ(add[0].id, "a1");
  EXPECT_EQ(add[0].zone, "hero");
  EXPECT_EQ(add[0].tenant, "");
  EXPECT_EQ(add[0].page_type, "");
  EXPECT_FALSE(add[0].has_channels);
  EXPECT_TRUE(add[0].channels.empty());
  EXPECT_FALSE(add[0].version.has_value());
  EXPECT_EQ(add[0].priority, 0);
  EXPECT_EQ(add[0].content_json, "null");
  EXPECT_TRUE(add[1].has_channels);
  EXPECT_EQ(add[1].channels, (std::vector<std::string>{"ios"}));
  EXPECT_EQ(add[1].page_ids, (std::vector<std::string>{"p"}));
  EXPECT_EQ(add[1].priority, 7);
  EXPECT_EQ(add[1].version, 12);
  EXPECT_EQ(add[1].type, "grid");
  EXPECT_EQ(add[1].schedule.start, ParseRfc3339("2026-01-01T00:00:00Z"));
  EXPECT_EQ(add[1].targeting_json, R"({"g":1})");
  EXPECT_EQ(add[1].content_json, "[1.0]");

  auto null_channels = Experiment(With(
      kExperiment, "variants", R"([{"key":"B","add":[{"id":"a","zone":"z","channels":null}]}])"));
  ASSERT_TRUE(null_channels.ok()) << Error(null_channels);
  EXPECT_FALSE(AsExperiment(null_channels).variants[0].add[0].has_channels);
  auto empty_channels = Experiment(With(
      kExperiment, "variants", R"([{"key":"B","add":[{"id":"a","zone":"z","channels":[]}]}])"));
  ASSERT_TRUE(empty_channels.ok()) << Error(empty_channels);
  EXPECT_TRUE(AsExperiment(empty_channels).variants[0].add[0].has_channels);

  auto add_error = [](std::string_view module) {
    return Error(Experiment(With(kExperiment, "variants",
                                 R"([{"key":"control"},{"key":"B","add":[{"id":"ok","zone":"z"},)" +
                                     std::string(module) + "]}]")));
  };
  EXPECT_EQ(add_error(R"({"zone":"z"})"), "record.variants[1].add[1].id: is required");
  EXPECT_EQ(add_error(R"({"id":"a"})"), "record.variants[1].add[1].zone: is required");
  EXPECT_EQ(add_error(R"({"id":"a","zone":""})"),
            "record.variants[1].add[1].zone: must be a non-empty string");
  EXPECT_EQ(add_error(R"({"id":"a","zone":"z","version":0})"),
            "record.variants[1].add[1].version: must be an integer in 1..2^63-1");
  EXPECT_EQ(add_error(R"({"id":"a","zone":"z","channels":"web"})"),
            "record.variants[1].add[1].channels: must be a list of strings");
  EXPECT_EQ(add_error(R"({"id":"a","zone":"z","schedule":{"end":"soon"}})"),
            "record.variants[1].add[1].schedule.end: not an RFC 3339 date-time");
  EXPECT_EQ(add_error(R"({"id":"a","zone":"z","priority":"1"})"),
            "record.variants[1].add[1].priority: must be a 64-bit integer");
}

// --- DecodeRecord, EncodeEnvelope ---

TEST(DecodeRecord, DecodesStoredBodiesWithTheSameRules) {
  auto m = DecodeRecord(Kind::kModule, kModule);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(std::get<events::Module>(*m).id, "m1");
  EXPECT_EQ(std::get<events::Module>(*m).version, 3);
  auto x = DecodeRecord(Kind::kExperiment, kExperiment);
  ASSERT_TRUE(x.ok()) << x.status().message();
  EXPECT_EQ(std::get<events::Experiment>(*x).variants.size(), 2u);
  auto t = DecodeRecord(Kind::kTemplate, kTemplate);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(std::get<events::Template>(*t).zones.size(), 1u);

  EXPECT_EQ(DecodeRecord(Kind::kModule, "[]").status().message(), "record: must be an object");
  EXPECT_EQ(DecodeRecord(Kind::kModule, "{").status().message(),
            "json: not valid JSON (unexpected end of input at byte 1)");
  EXPECT_EQ(DecodeRecord(Kind::kTemplate, kModule).status().message(),
            "record.channel: is required");
  EXPECT_EQ(DecodeRecord(Kind::kModule, With(kModule, "version", "1.0")).status().message(),
            "record.version: must be an integer in 1..2^63-1");
}

TEST(DecodeRecord, AgreesWithDecodeEvent) {
  const std::string record =
      With(With(kModule, "content", R"({ "big" : 1E+400 })"), "pageIds", R"(["b","a","b"])");
  auto e = Module(record);
  ASSERT_TRUE(e.ok()) << Error(e);
  auto r = DecodeRecord(Kind::kModule, e->record_json);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& a = AsModule(e);
  const auto& b = std::get<events::Module>(*r);
  EXPECT_EQ(a.content_json, b.content_json);
  EXPECT_EQ(a.content_json, R"({"big":1E+400})");
  EXPECT_EQ(a.page_ids, b.page_ids);
  EXPECT_EQ(a.version, b.version);
}

TEST(EncodeEnvelope, WritesTheEnvelopeAroundTheRecordVerbatim) {
  EXPECT_EQ(EncodeEnvelope(Kind::kTemplate, Op::kDelete, "", R"({"a":1})"),
            R"({"schema":1,"kind":"template","op":"delete","record":{"a":1}})");
  EXPECT_EQ(EncodeEnvelope(Kind::kModule, Op::kUpsert, "2026-11-22T10:00:00Z\"", "{}"),
            R"({"schema":1,"kind":"module","op":"upsert","publishedAt":"2026-11-22T10:00:00Z\"",)"
            R"("record":{}})");
}

TEST(EncodeEnvelope, RoundTripsThroughDecodeEvent) {
  struct Case {
    Kind kind;
    Op op;
    std::string record;
  };
  const Case cases[] = {
      {Kind::kModule, Op::kUpsert, With(kModule, "content", R"({"x":[1E-2,"\u00e9"]})")},
      {Kind::kExperiment, Op::kUpsert, std::string(kExperiment)},
      {Kind::kTemplate, Op::kUpsert, std::string(kTemplate)},
      {Kind::kModule, Op::kDelete, R"({"id":"m1","tenant":"T","version":4})"},
      {Kind::kTemplate, Op::kDelete, R"({"tenant":"T","channel":"c","pageType":"p","version":4})"},
  };
  for (const Case& c : cases) {
    auto first = DecodeEvent(Envelope(KindName(c.kind), OpName(c.op), c.record));
    ASSERT_TRUE(first.ok()) << Error(first);
    for (std::string published_at : {"", "2026-11-22T10:00:00.123Z", "odd \"quoted\"\n"}) {
      auto again = DecodeEvent(EncodeEnvelope(c.kind, c.op, published_at, first->record_json));
      ASSERT_TRUE(again.ok()) << Error(again);
      EXPECT_EQ(again->record_json, first->record_json);
      EXPECT_EQ(again->key, first->key);
      EXPECT_EQ(again->version, first->version);
      EXPECT_EQ(again->kind, c.kind);
      EXPECT_EQ(again->op, c.op);
      EXPECT_EQ(again->published_at, published_at);
    }
  }
}

// --- Garbage never crashes ---

TEST(DecodeEvent, GarbageNeverCrashes) {
  const std::string line = Envelope(
      "experiment", "upsert",
      With(kExperiment, "variants",
           R"([{"key":"B","add":[{"id":"a","zone":"z","content":{"k":[1,2,{"q":"\u00e9"}]}}],)"
           R"("priority":{"a":1}}])"));
  ASSERT_TRUE(DecodeEvent(line).ok()) << Error(DecodeEvent(line));
  // Every truncation is invalid JSON.
  for (size_t n = 0; n < line.size(); ++n) {
    EXPECT_FALSE(DecodeEvent(line.substr(0, n)).ok()) << n;
  }
  // Random byte flips: whatever the result, no crash, and a success is self-consistent.
  std::mt19937 rng(20261122);
  for (int i = 0; i < 20000; ++i) {
    std::string mutated = line;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      mutated[rng() % mutated.size()] = static_cast<char>(rng() % 256);
    }
    auto e = DecodeEvent(mutated);
    if (e.ok()) {
      auto again = DecodeEvent(EncodeEnvelope(e->kind, e->op, e->published_at, e->record_json));
      ASSERT_TRUE(again.ok()) << mutated;
      EXPECT_EQ(again->record_json, e->record_json);
    }
    for (Kind kind : {Kind::kModule, Kind::kExperiment, Kind::kTemplate}) {
      (void)DecodeRecord(kind, mutated);
    }
  }
}

TEST(DecodeEvent, DeepNestingIsBoundedNotFatal) {
  // Within the limit, deep content is just content.
  const int kDepth = 1000;
  std::string deep = std::string(kDepth, '[') + std::string(kDepth, ']');
  auto ok = Module(With(kModule, "content", deep));
  ASSERT_TRUE(ok.ok()) << Error(ok);
  EXPECT_EQ(AsModule(ok).content_json, deep);
  // Beyond it the event is invalid; far beyond it nothing overflows.
  EXPECT_FALSE(
      Module(With(kModule, "content", std::string(5000, '[') + std::string(5000, ']'))).ok());
  EXPECT_FALSE(DecodeEvent(std::string(1'000'000, '{')).ok());
  EXPECT_FALSE(DecodeRecord(Kind::kModule, std::string(1'000'000, '[')).ok());
}

TEST(DecodeEvent, LoneSurrogateEscapesDoNotCrash) {
  // Grammatically valid JSON; simdjson cannot unescape it into UTF-8.
  EXPECT_TRUE(Module(With(kModule, "content", R"("\ud800")")).ok());
  EXPECT_FALSE(Module(With(kModule, "zone", R"("\ud800")")).ok());
  EXPECT_TRUE(Module(With(kModule, "\\udc00", "1")).ok());
}

TEST(DecodeEvent, HugeEventsWork) {
  std::string items = "[";
  for (int i = 0; i < 200'000; ++i) items += (i ? ",\"p" : "\"p") + std::to_string(i) + "\"";
  items += "]";
  DecodeOptions roomy;
  roomy.max_record_bytes = size_t{16} << 20;
  auto m = DecodeEvent(Envelope("module", "upsert", With(kModule, "pageIds", items)), roomy);
  ASSERT_TRUE(m.ok()) << Error(m);
  EXPECT_EQ(AsModule(m).page_ids.size(), 200'000u);
  // The thread's scratch is trimmed afterwards and later small events still decode.
  EXPECT_TRUE(Module(kModule).ok());
}

// A record of exactly `bytes` bytes of compact JSON: kModule with padding content.
std::string ModuleOfBytes(size_t bytes) {
  const std::string empty = With(kModule, "content", R"("")");
  return With(kModule, "content", "\"" + std::string(bytes - empty.size(), 'x') + "\"");
}

TEST(DecodeEvent, RecordLargerThanTheLimitIsInvalid) {
  const DecodeOptions defaults;
  EXPECT_EQ(defaults.max_record_bytes, size_t{1} << 20);
  const std::string at_limit = ModuleOfBytes(defaults.max_record_bytes);
  ASSERT_EQ(at_limit.size(), defaults.max_record_bytes);
  EXPECT_TRUE(Module(at_limit).ok()) << Error(Module(at_limit));
  EXPECT_EQ(Error(Module(ModuleOfBytes(defaults.max_record_bytes + 1))),
            "record: 1048577 bytes of JSON, more than the limit of 1048576");

  // Counted on the compact record: whitespace around it or inside does not count.
  DecodeOptions small;
  small.max_record_bytes = kModule.size();
  const std::string spaced = "{ " + std::string(kModule.substr(1, kModule.size() - 2)) + " }";
  auto ok = DecodeEvent(Envelope("module", "upsert", spaced), small);
  EXPECT_TRUE(ok.ok()) << Error(ok);
  EXPECT_EQ(
      Error(DecodeEvent(Envelope("module", "upsert", With(kModule, "type", R"("a")")), small)),
      "record: " + std::to_string(kModule.size() + 11) + " bytes of JSON, more than the limit of " +
          std::to_string(kModule.size()));
  // Deletes too: the record is stored as given.
  small.max_record_bytes = 10;
  auto del =
      DecodeEvent(Envelope("module", "delete", R"({"id":"m1","tenant":"T","version":9})"), small);
  EXPECT_EQ(Error(del), "record: 36 bytes of JSON, more than the limit of 10");
}

}  // namespace
}  // namespace tempo::events
