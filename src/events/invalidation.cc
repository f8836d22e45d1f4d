// Encoding and strict decoding of invalidation messages.
#include "events/invalidation.h"

#include <simdjson.h>

#include <string>
#include <utility>

#include "common/json.h"

namespace tempo::events {
namespace {

Status Invalid(std::string_view field, std::string_view reason,
               std::string_view what = "invalidation") {
  std::string msg(what);
  msg.append(": ");
  msg.append(field);
  msg.append(": ");
  msg.append(reason);
  return Status::InvalidArgument(std::move(msg));
}

// Reads the string field `name` into `*out` once; `seen` guards duplicates.
Status ReadStringField(std::string_view name, simdjson::dom::element value, bool non_empty,
                       bool* seen, std::string* out, std::string_view what = "invalidation") {
  if (*seen) return Invalid(name, "appears twice", what);
  *seen = true;
  std::string_view s;
  if (value.get_string().get(s)) return Invalid(name, "must be a string", what);
  if (non_empty && s.empty()) return Invalid(name, "must be a non-empty string", what);
  out->assign(s);
  return Status::OK();
}

// Parses a message value into `*object`: one JSON object. The DOM parser
// validates the whole document (structure and UTF-8), which On-Demand does
// not do for skipped values. A thread keeps its parser so that a serving
// process decoding a stream of messages does not allocate a structural index
// per message; `*object` is valid until the thread's next parse.
Status ParseObject(std::string_view json, std::string_view what, simdjson::dom::object* object) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto error = parser.parse(json.data(), json.size()).get(doc)) {
    return Invalid("value", std::string("not valid JSON: ") + simdjson::error_message(error), what);
  }
  if (doc.get_object().get(*object)) return Invalid("value", "must be a JSON object", what);
  return Status::OK();
}

}  // namespace

std::string InvalidationKey(const SliceKey& slice) {
  const PartitionKey& p = slice.partition;
  std::string key;
  key.reserve(p.tenant.size() + p.channel.size() + p.page_type.size() + 2);
  key.append(p.tenant).append("/").append(p.channel).append("/").append(p.page_type);
  return key;
}

std::string EncodeInvalidation(const SliceKey& slice, int64_t version) {
  const PartitionKey& p = slice.partition;
  std::string out;
  out.reserve(64 + p.tenant.size() + p.channel.size() + p.page_type.size() + slice.scope.size());
  out.append("{\"tenant\":");
  AppendJsonString(p.tenant, &out);
  out.append(",\"channel\":");
  AppendJsonString(p.channel, &out);
  out.append(",\"pageType\":");
  AppendJsonString(p.page_type, &out);
  out.append(",\"pageId\":");
  AppendJsonString(slice.scope, &out);
  out.append(",\"version\":");
  AppendInt(version, &out);
  out.push_back('}');
  return out;
}

Result<Invalidation> DecodeInvalidation(std::string_view json) {
  simdjson::dom::object object;
  if (Status s = ParseObject(json, "invalidation", &object); !s.ok()) return s;

  Invalidation inv;
  PartitionKey& p = inv.slice.partition;
  bool tenant = false, channel = false, page_type = false, page_id = false, version = false;
  for (simdjson::dom::key_value_pair field : object) {
    Status s;
    if (field.key == "tenant") {
      s = ReadStringField("tenant", field.value, true, &tenant, &p.tenant);
    } else if (field.key == "channel") {
      s = ReadStringField("channel", field.value, false, &channel, &p.channel);
    } else if (field.key == "pageType") {
      s = ReadStringField("pageType", field.value, true, &page_type, &p.page_type);
    } else if (field.key == "pageId") {
      s = ReadStringField("pageId", field.value, true, &page_id, &inv.slice.scope);
    } else if (field.key == "version") {
      if (version) return Invalid("version", "appears twice");
      version = true;
      // An integer literal only: simdjson types 1.0 and 1e3 as doubles, and
      // integers above 2^63-1 as uint64.
      if (field.value.type() != simdjson::dom::element_type::INT64 ||
          field.value.get_int64().get(inv.version) || inv.version < 1) {
        return Invalid("version", "must be an integer in 1..2^63-1");
      }
    }
    if (!s.ok()) return s;
  }
  if (!tenant) return Invalid("tenant", "missing");
  if (!channel) return Invalid("channel", "missing");
  if (!page_type) return Invalid("pageType", "missing");
  if (!page_id) return Invalid("pageId", "missing");
  if (!version) return Invalid("version", "missing");
  return inv;
}

std::string CacheDropKey(const CacheDrop& drop) {
  std::string key = drop.tenant;
  for (const std::string* field : {&drop.channel, &drop.page_type, &drop.scope}) {
    if (!field->empty()) key.append("/").append(*field);
  }
  return key;
}

std::string EncodeCacheDrop(const CacheDrop& drop) {
  std::string out = "{\"drop\":{\"tenant\":";
  AppendJsonString(drop.tenant, &out);
  const std::pair<const char*, const std::string*> fields[] = {{",\"channel\":", &drop.channel},
                                                               {",\"pageType\":", &drop.page_type},
                                                               {",\"pageId\":", &drop.scope}};
  for (const auto& [name, value] : fields) {
    if (value->empty()) continue;
    out.append(name);
    AppendJsonString(*value, &out);
  }
  out.append("}}");
  return out;
}

Result<CacheDrop> DecodeCacheDrop(std::string_view json) {
  constexpr std::string_view kWhat = "drop";
  simdjson::dom::object object;
  if (Status s = ParseObject(json, kWhat, &object); !s.ok()) return s;
  simdjson::dom::object drop_object;
  if (object.size() != 1 || object["drop"].get_object().get(drop_object)) {
    return Invalid("value", "must be {\"drop\":{...}}", kWhat);
  }
  CacheDrop drop;
  bool tenant = false, channel = false, page_type = false, page_id = false;
  for (simdjson::dom::key_value_pair field : drop_object) {
    Status s;
    if (field.key == "tenant") {
      s = ReadStringField("tenant", field.value, true, &tenant, &drop.tenant, kWhat);
    } else if (field.key == "channel") {
      s = ReadStringField("channel", field.value, true, &channel, &drop.channel, kWhat);
    } else if (field.key == "pageType") {
      s = ReadStringField("pageType", field.value, true, &page_type, &drop.page_type, kWhat);
    } else if (field.key == "pageId") {
      s = ReadStringField("pageId", field.value, true, &page_id, &drop.scope, kWhat);
    }
    if (!s.ok()) return s;
  }
  if (!tenant) return Invalid("tenant", "missing", kWhat);
  return drop;
}

}  // namespace tempo::events
