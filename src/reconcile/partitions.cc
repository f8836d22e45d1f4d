// Reading a record's partitions (partitions.h).
#include "reconcile/partitions.h"

#include <utility>

namespace tempo::reconcile {
namespace {

using simdjson::ondemand::array;
using simdjson::ondemand::document;
using simdjson::ondemand::field;
using simdjson::ondemand::object;

}  // namespace

void PartitionReader::Read(const origin::StoredRecord& record) {
  count_ = 0;
  page_type_.clear();
  if (record.key.kind == events::Kind::kTemplate) {
    const std::string_view id = record.key.id;
    const size_t colon = id.find(':');  // a channel cannot hold ':' (record.h)
    if (colon == std::string_view::npos) return;
    page_type_.assign(id.substr(colon + 1));
    Add(id.substr(0, colon));
    return;
  }
  const std::string& json = record.record_json;
  if (json.capacity() >= json.size() + simdjson::SIMDJSON_PADDING) {
    ReadJson(json, json.capacity());
  } else {
    padded_.reserve(json.size() + simdjson::SIMDJSON_PADDING);
    padded_.assign(json);
    ReadJson(padded_, padded_.capacity());
  }
}

void PartitionReader::ReadJson(std::string_view json, size_t capacity) {
  document doc;
  object obj;
  if (parser_.iterate(json.data(), json.size(), capacity).get(doc) || doc.get_object().get(obj)) {
    return;
  }
  bool has_channels = false;
  bool has_page_type = false;
  for (auto item : obj) {
    field f;
    if (std::move(item).get(f)) break;
    if (!has_channels && f.key() == "channels") {
      has_channels = true;
      array channels;
      if (f.value().get_array().get(channels)) break;
      for (auto element : channels) {
        std::string_view channel;
        if (element.get_string().get(channel)) continue;  // not a string: no partition
        Add(channel);
      }
    } else if (!has_page_type && f.key() == "pageType") {
      has_page_type = true;
      std::string_view page_type;
      if (f.value().get_string().get(page_type)) break;
      page_type_.assign(page_type);
    }
    if (has_channels && has_page_type) break;
  }
  if (!has_page_type) count_ = 0;  // no partition without a page type
}

void PartitionReader::Add(std::string_view channel) {
  for (size_t i = 0; i < count_; ++i) {
    if (channels_[i] == channel) return;  // duplicates collapse (SPEC §11.16)
  }
  if (count_ == channels_.size()) channels_.emplace_back();
  channels_[count_++].assign(channel);
}

}  // namespace tempo::reconcile
