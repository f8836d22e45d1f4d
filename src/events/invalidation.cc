// Encoding and strict decoding of invalidation messages.
#include "events/invalidation.h"

#include <simdjson.h>

#include <string>
#include <utility>

#include "common/json.h"

namespace tempo::events {
namespace {

Status Invalid(std::string_view field, std::string_view reason) {
  std::string msg = "invalidation: ";
  msg.append(field);
  msg.append(": ");
  msg.append(reason);
  return Status::InvalidArgument(std::move(msg));
}

// Reads the string field `name` into `*out` once; `seen` guards duplicates.
Status ReadStringField(std::string_view name, simdjson::dom::element value, bool non_empty,
                       bool* seen, std::string* out) {
  if (*seen) return Invalid(name, "appears twice");
  *seen = true;
  std::string_view s;
  if (value.get_string().get(s)) return Invalid(name, "must be a string");
  if (non_empty && s.empty()) return Invalid(name, "must be a non-empty string");
  out->assign(s);
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
  // The DOM parser validates the whole document (structure and UTF-8), which
  // On-Demand does not do for skipped values. A thread keeps its parser so
  // that a serving process decoding a stream of messages does not allocate
  // a structural index per message.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto error = parser.parse(json.data(), json.size()).get(doc)) {
    return Invalid("value", std::string("not valid JSON: ") + simdjson::error_message(error));
  }
  simdjson::dom::object object;
  if (doc.get_object().get(object)) return Invalid("value", "must be a JSON object");

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

}  // namespace tempo::events
