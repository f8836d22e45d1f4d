// libFuzzer target for ParseLayoutQuery: arbitrary bytes as the raw query.
//
// Besides "no crash, no sanitizer report", it checks what a success promises
// (every kept value matches its pattern) and that allow_preview changes
// nothing but the `at` outcome.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "api/query.h"
#include "testing/fuzz_check.h"

namespace {

using tempo::api::ApiError;
using tempo::api::ParseLayoutQuery;
using tempo::api::QueryOptions;
using tempo::select::PageRequest;
using tempo::testing::FuzzCheck;

bool AllOf(std::string_view s, size_t max_bytes, std::string_view extra, bool lower_only) {
  if (s.empty() || s.size() > max_bytes) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (!lower_only && c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                    extra.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

void CheckRequest(const PageRequest& r) {
  FuzzCheck(AllOf(r.tenant, 64, "", false));
  FuzzCheck(AllOf(r.channel, 32, "", true));
  FuzzCheck(AllOf(r.page_type, 64, "", false));
  if (r.page_id) FuzzCheck(AllOf(*r.page_id, 128, ".:", false));
  if (r.visitor_id) FuzzCheck(AllOf(*r.visitor_id, 128, ".:", false));
  for (const auto& zone : r.zones) FuzzCheck(AllOf(zone, 64, "", false));
  for (const auto& [experiment, key] : r.variants) {
    FuzzCheck(AllOf(experiment, 128, ".", false));
    FuzzCheck(AllOf(key, 128, ".", false));
  }
  FuzzCheck(r.attributes.size() <= 64);
  for (const auto& attribute : r.attributes) {
    FuzzCheck(AllOf(attribute.name, 64, "", false));
    FuzzCheck(!attribute.values.empty());
    for (const auto& value : attribute.values) FuzzCheck(value.size() <= 256);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  const auto with_preview = ParseLayoutQuery(query, 2, QueryOptions{true});
  const auto without_preview = ParseLayoutQuery(query, 1, QueryOptions{false});

  if (const auto* r = std::get_if<PageRequest>(&with_preview)) {
    CheckRequest(*r);
    FuzzCheck(r->api_version == 2);
  }
  if (const auto* r = std::get_if<PageRequest>(&without_preview)) {
    CheckRequest(*r);
    FuzzCheck(!r->at.has_value());
  }
  // Without preview the outcome is the same, except that wherever `at` is
  // reached with a value the answer becomes preview_disabled.
  const auto* e = std::get_if<ApiError>(&without_preview);
  if (e != nullptr && e->code == "preview_disabled") {
    const auto* r = std::get_if<PageRequest>(&with_preview);
    const auto* pe = std::get_if<ApiError>(&with_preview);
    FuzzCheck((r != nullptr && r->at.has_value()) ||
              (pe != nullptr && pe->code == "invalid_parameter"));
  } else if (e != nullptr) {
    const auto* pe = std::get_if<ApiError>(&with_preview);
    FuzzCheck(pe != nullptr && pe->code == e->code && pe->message == e->message);
  } else {
    const auto& r = std::get<PageRequest>(with_preview);
    FuzzCheck(!r.at.has_value());
  }
  return 0;
}
