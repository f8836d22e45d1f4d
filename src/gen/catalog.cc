// Tenant plans and module placement.
#include "gen/catalog.h"

#include <algorithm>

#include "common/json.h"
#include "gen/rng.h"

namespace tempo::gen {
namespace {

// Stream names under the tenant seed.
constexpr uint64_t kPlanStream = 1;
constexpr uint64_t kModuleStream = 2;
constexpr uint64_t kExperimentStream = 3;
constexpr uint64_t kTemplateStream = 4;

constexpr std::string_view kFixedTenants[] = {
    "ACME",         "Globex",        "initech", "WM_GLASS", "Umbrella", "hooli",     "Soylent_Corp",
    "stark-ind",    "Wonka",         "CA",      "MX",       "Tyrell",   "Cyberdyne", "oscorp",
    "Vandelay_Ind", "Dunder-Mifflin"};

constexpr std::string_view kUnknownTenants[] = {"NOPE",         "GONE",    "acme",    "Initech2",
                                                "ghost-tenant", "WM_GLAS", "tenant-x"};

// Pages pinned per page-specific module, on average: keeps a page slice at a
// realistic size (a few dozen modules) whatever the module count.
constexpr int64_t kModulesPerPage = 12;
constexpr int64_t kMinPages = 8;
// Type-wide modules are shared by every page of a type; a real storefront has
// a few hundred at most, so their number is capped rather than scaled.
constexpr int64_t kMaxTypeWide = 300;
constexpr int64_t kTypeWideDivisor = 5;  // at most 1 module in 5 is type-wide
constexpr int64_t kMinExperiments = 2;
constexpr int64_t kMaxExperiments = 40;
constexpr int64_t kModulesPerExperiment = 2500;

constexpr std::string_view kSearchTerms[] = {"shoes",   "hats",       "red-dress",   "sale",
                                             "jeans",   "sneakers",   "winter-coat", "gift-ideas",
                                             "laptops", "headphones", "tv",          "kids"};

// Relative frequency of each page type for type-wide modules.
int TypeWideWeight(std::string_view page_type) {
  if (page_type == "homepage") return 30;
  if (page_type == "category") return 25;
  if (page_type == "product") return 20;
  if (page_type == "search") return 12;
  if (page_type == "cart") return 8;
  return 10;
}

void AddPages(TenantPlan* plan, std::string_view type, int64_t count, Rng& rng) {
  const auto t = static_cast<uint32_t>(
      std::find(plan->page_types.begin(), plan->page_types.end(), type) - plan->page_types.begin());
  for (int64_t i = 0; i < count; ++i) {
    Page page{t, {}};
    if (type == "homepage") {
      page.id = i == 0 ? "home" : "home-";
      if (i > 0) page.id.push_back(static_cast<char>('a' + i));
    } else if (type == "cart") {
      page.id = i == 0 ? "cart" : "cart-" + std::to_string(i);
    } else if (type == "landing") {
      static constexpr std::string_view kLanding[] = {
          "lp:black-friday", "lp:summer", "lp:back-to-school", "lp:cyber-monday", "lp:outlet"};
      page.id = std::string(kLanding[i % 5]);
      if (i >= 5) page.id += "-" + std::to_string(i / 5);
    } else if (type == "category") {
      // Two spellings, as catalogues migrated between id schemes do.
      page.id = rng.Percent(10) ? "cat_" : "cat-";
      AppendInt(i + 1, &page.id);
    } else if (type == "search") {
      page.id = "q:";
      if (i < static_cast<int64_t>(std::size(kSearchTerms))) {
        page.id += kSearchTerms[i];
      } else {
        page.id += "term-";
        AppendInt(i, &page.id);
      }
    } else {  // product
      if (i % 9 == 4) {
        page.id = "sku.";
        AppendInt(70 + i, &page.id);
      } else {
        page.id = "p:";
        AppendInt(1001 + i, &page.id);
      }
    }
    plan->pages_by_type[t].push_back(static_cast<uint32_t>(plan->pages.size()));
    plan->pages.push_back(std::move(page));
  }
}

void AppendPadded(int64_t v, int width, std::string* out) {
  std::string digits;
  AppendInt(v, &digits);
  for (int i = static_cast<int>(digits.size()); i < width; ++i) out->push_back('0');
  out->append(digits);
}

}  // namespace

std::string TenantName(uint32_t index) {
  if (index < std::size(kFixedTenants)) return std::string(kFixedTenants[index]);
  return "tenant-" + std::to_string(index);
}

std::span<const std::string_view> UnknownTenantNames() { return kUnknownTenants; }

TenantPlan BuildTenantPlan(uint64_t seed, uint32_t index, int64_t modules) {
  TenantPlan plan;
  plan.index = index;
  plan.name = TenantName(index);
  plan.seed = StreamSeed(seed, {index});
  plan.modules = modules;
  Rng rng(StreamSeed(plan.seed, {kPlanStream}));

  plan.channels = {"web", "ios", "android"};
  if (rng.Percent(35)) plan.channels.push_back("app-tv");
  if (rng.Percent(15)) plan.channels.push_back("kiosk");
  plan.page_types = {"homepage", "category", "product", "search", "cart"};
  const bool has_landing = rng.Percent(30);
  if (has_landing) plan.page_types.push_back("landing");
  plan.pages_by_type.resize(plan.page_types.size());

  plan.type_wide_count = std::clamp<int64_t>(modules / kTypeWideDivisor, 1, kMaxTypeWide);
  plan.type_wide_stride = std::max<int64_t>(1, modules / plan.type_wide_count);

  const int64_t total_pages =
      std::max(kMinPages, (modules - plan.type_wide_count) / kModulesPerPage);
  const int64_t homepages = total_pages >= 40 ? 3 : 2;
  const int64_t landing = has_landing ? std::min<int64_t>(5, 1 + total_pages / 50) : 0;
  const int64_t rest = std::max<int64_t>(3, total_pages - homepages - 1 - landing);
  const int64_t categories = std::max<int64_t>(1, rest * 18 / 100);
  const int64_t searches = std::max<int64_t>(1, rest * 12 / 100);
  const int64_t products = std::max<int64_t>(1, rest - categories - searches);
  AddPages(&plan, "homepage", homepages, rng);
  AddPages(&plan, "category", categories, rng);
  AddPages(&plan, "product", products, rng);
  AddPages(&plan, "search", searches, rng);
  AddPages(&plan, "cart", 1, rng);
  if (has_landing) AddPages(&plan, "landing", landing, rng);

  // Experiments: a handful per tenant, several on the hot page types so that
  // overlays stack (they apply in id order).
  const int64_t experiments = std::clamp<int64_t>(kMinExperiments + modules / kModulesPerExperiment,
                                                  kMinExperiments, kMaxExperiments);
  std::vector<int> type_weights;
  for (const auto& t : plan.page_types) type_weights.push_back(TypeWideWeight(t));
  for (int64_t e = 0; e < experiments; ++e) {
    Rng er(StreamSeed(plan.seed, {kExperimentStream, static_cast<uint64_t>(e)}));
    ExperimentPlan exp;
    exp.id = "exp-";
    AppendPadded(e + 1, 2, &exp.id);
    exp.page_type = static_cast<uint32_t>(er.Weighted(type_weights));
    for (const auto& c : plan.channels) {
      if (er.Percent(c == "web" ? 85 : 55)) exp.channels.push_back(c);
    }
    if (exp.channels.empty()) exp.channels.push_back(plan.channels[er.Below(3)]);
    exp.variant_keys = {"control", "B"};
    if (er.Percent(30)) {
      exp.variant_keys.push_back("C");
      if (er.Percent(25)) exp.variant_keys.push_back("D");
    }
    exp.seed = er.Next();
    plan.experiments.push_back(std::move(exp));
  }

  for (uint32_t c = 0; c < plan.channels.size(); ++c) {
    for (uint32_t t = 0; t < plan.page_types.size(); ++t) {
      Rng tr(StreamSeed(plan.seed, {kTemplateStream, c, t}));
      if (tr.Percent(65)) plan.templates.push_back({c, t, tr.Next()});
    }
  }
  return plan;
}

ModulePlan PlanModule(const TenantPlan& plan, int64_t index) {
  Rng rng(StreamSeed(plan.seed, {kModuleStream, static_cast<uint64_t>(index)}));
  ModulePlan m;
  m.index = index;
  m.seed = rng.Next();
  m.type = rng.Pick(kModuleTypes);
  m.type_wide =
      index % plan.type_wide_stride == 0 && index / plan.type_wide_stride < plan.type_wide_count;
  if (m.type_wide) {
    int weights[8] = {};
    const size_t n = std::min<size_t>(plan.page_types.size(), 8);
    for (size_t i = 0; i < n; ++i) weights[i] = TypeWideWeight(plan.page_types[i]);
    m.page_type = static_cast<uint32_t>(rng.Weighted(std::span<const int>(weights, n)));
    // header, hero, main, promo, sidebar, footer
    static constexpr int kTypeWideZones[] = {10, 20, 25, 20, 10, 15};
    m.zone = static_cast<uint32_t>(rng.Weighted(kTypeWideZones));
  } else {
    m.page = static_cast<uint32_t>(rng.Below(plan.pages.size()));
    m.page_type = plan.pages[m.page].page_type;
    static constexpr int kPageZones[] = {4, 10, 36, 20, 22, 8};
    m.zone = static_cast<uint32_t>(rng.Weighted(kPageZones));
  }
  return m;
}

void AppendModuleId(int64_t index, std::string_view type, std::string* out) {
  out->push_back('m');
  AppendPadded(index, 5, out);
  out->push_back('-');
  out->append(type);
}

}  // namespace tempo::gen
