// The shape of a generated data set: vocabularies, each tenant's channels,
// page types and pages, and where module number i of a tenant lives.
//
// Everything is a pure function of (seed, tenant index, module index), so any
// record can be regenerated on its own: the generator streams hundreds of
// thousands of modules without keeping them in memory.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tempo::gen {

// The zones every template and module draws from.
inline constexpr std::string_view kZones[] = {"header", "hero",    "main",
                                              "promo",  "sidebar", "footer"};
// Module `type` values; a module id ends with its type ("m00042-banner").
inline constexpr std::string_view kModuleTypes[] = {
    "banner", "carousel", "grid", "text", "video", "product-tile", "countdown", "recommendations"};

// A page a module can be pinned to.
struct Page {
  uint32_t page_type = 0;  // index into TenantPlan::page_types
  std::string id;          // "home-b", "p:1001", "q:shoes", ...
};

// The identity of an experiment; the record's other fields are drawn from `seed`.
struct ExperimentPlan {
  std::string id;  // "exp-01": bytewise order is numeric order
  uint32_t page_type = 0;
  std::vector<std::string> channels;
  std::vector<std::string> variant_keys;  // "control" first
  uint64_t seed = 0;
};

// A template exists for this (channel, pageType); its zones are drawn from `seed`.
struct TemplatePlan {
  uint32_t channel = 0;    // index into TenantPlan::channels
  uint32_t page_type = 0;  // index into TenantPlan::page_types
  uint64_t seed = 0;
};

struct TenantPlan {
  uint32_t index = 0;
  std::string name;  // matches [A-Za-z0-9_-]{1,64}
  uint64_t seed = 0;
  std::vector<std::string> channels;    // "web", "ios", "android", sometimes more
  std::vector<std::string> page_types;  // "homepage", "category", ...
  std::vector<Page> pages;
  std::vector<std::vector<uint32_t>> pages_by_type;  // page indexes per page type
  int64_t modules = 0;
  // Module i is type-wide iff i % type_wide_stride == 0 and
  // i / type_wide_stride < type_wide_count; the others are pinned to pages.
  int64_t type_wide_count = 0;
  int64_t type_wide_stride = 1;
  std::vector<ExperimentPlan> experiments;  // in id order
  std::vector<TemplatePlan> templates;
};

// The name of tenant `index`: the first few are fixed ("ACME", "Globex",
// "initech", "WM_GLASS", ...), later ones "tenant-<index>".
std::string TenantName(uint32_t index);

// Names that are never a generated tenant (valid patterns, unknown tenants).
std::span<const std::string_view> UnknownTenantNames();

// The plan of tenant `index` holding `modules` modules.
TenantPlan BuildTenantPlan(uint64_t seed, uint32_t index, int64_t modules);

// Where one module lives. Its record is drawn from `seed`.
struct ModulePlan {
  int64_t index = 0;
  uint64_t seed = 0;
  bool type_wide = false;
  uint32_t page_type = 0;
  uint32_t page = 0;  // index into TenantPlan::pages; meaningful when !type_wide
  uint32_t zone = 0;  // index into kZones
  std::string_view type;
};

// REQUIRES: 0 <= index < plan.modules.
ModulePlan PlanModule(const TenantPlan& plan, int64_t index);

// Appends the id of module `index` of that type: "m00042-banner".
void AppendModuleId(int64_t index, std::string_view type, std::string* out);

}  // namespace tempo::gen
