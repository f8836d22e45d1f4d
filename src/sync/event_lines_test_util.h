// Test utility: envelope lines (SPEC §6) for tests and benchmarks of src/sync/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tempo::sync::testing {

inline std::string JsonList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ",";
    out += "\"" + items[i] + "\"";
  }
  return out + "]";
}

// A module upsert; `page_ids` empty = type-wide.
inline std::string ModuleUpsert(const std::string& tenant, const std::string& id, int64_t version,
                                const std::vector<std::string>& channels,
                                const std::vector<std::string>& page_ids = {},
                                const std::string& page_type = "home") {
  std::string record = "{\"id\":\"" + id + "\",\"tenant\":\"" + tenant + "\",\"pageType\":\"" +
                       page_type + "\",\"zone\":\"main\",\"channels\":" + JsonList(channels);
  if (!page_ids.empty()) record += ",\"pageIds\":" + JsonList(page_ids);
  record += ",\"version\":" + std::to_string(version) + ",\"content\":{\"title\":\"v" +
            std::to_string(version) + "\"}}";
  return "{\"schema\":1,\"kind\":\"module\",\"op\":\"upsert\","
         "\"publishedAt\":\"2026-11-22T10:00:00.123Z\",\"record\":" +
         record + "}";
}

inline std::string ModuleDelete(const std::string& tenant, const std::string& id, int64_t version) {
  return "{\"schema\":1,\"kind\":\"module\",\"op\":\"delete\",\"record\":{\"id\":\"" + id +
         "\",\"tenant\":\"" + tenant + "\",\"version\":" + std::to_string(version) + "}}";
}

inline std::string TemplateUpsert(const std::string& tenant, const std::string& channel,
                                  const std::string& page_type, int64_t version) {
  return "{\"schema\":1,\"kind\":\"template\",\"op\":\"upsert\",\"record\":{\"tenant\":\"" +
         tenant + "\",\"channel\":\"" + channel + "\",\"pageType\":\"" + page_type +
         "\",\"version\":" + std::to_string(version) + ",\"zones\":[{\"zone\":\"main\"}]}}";
}

}  // namespace tempo::sync::testing
