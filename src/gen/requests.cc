// The request log.
#include "gen/requests.h"

#include <string>
#include <string_view>
#include <utility>

#include "common/json.h"
#include "gen/rng.h"

namespace tempo::gen {
namespace {

constexpr uint64_t kRequestStream = 0x72657173;  // "reqs"
constexpr uint64_t kTrafficStream = 0x74726166;  // "traf"
constexpr uint64_t kTickLines = 4096;

// Limits of SPEC §2 the failing requests step over.
constexpr size_t kMaxUriBytes = 8192;
constexpr size_t kMaxValueBytes = 256;
constexpr int kMaxAttributes = 64;

// Out of 1000 requests.
constexpr uint64_t kFailingPerMille = 45;
constexpr uint64_t kUnknownTenantPerMille = 30;
constexpr uint64_t kBadPathPerMille = 2;
constexpr uint64_t kUnknownPagePerMille = 33;
constexpr uint64_t kFailingEnd = kFailingPerMille;
constexpr uint64_t kUnknownTenantEnd = kFailingEnd + kUnknownTenantPerMille;
constexpr uint64_t kBadPathEnd = kUnknownTenantEnd + kBadPathPerMille;
constexpr uint64_t kUnknownPageEnd = kBadPathEnd + kUnknownPagePerMille;

constexpr std::string_view kV1Path = "/api/v1/tempo/layouts";
constexpr std::string_view kV2Path = "/api/v2/tempo/layouts";
constexpr std::string_view kBadPaths[] = {"/api/v2/tempo/layouts/", "/api/v3/tempo/layouts",
                                          "/API/v2/tempo/layouts", "/api/v2/tempo/layout",
                                          "/api/v1/tempo"};

// How one value is percent-encoded: real clients differ.
struct Encoding {
  bool raw_colon = false;   // ':' left as is (allowed) or %3A
  bool raw_comma = false;   // ',' left as is or %2C
  bool lower_hex = false;   // %3a instead of %3A
  bool gratuitous = false;  // one 'e' written as %65
};

Encoding DrawEncoding(Rng& rng) {
  Encoding e;
  e.raw_colon = rng.Percent(20);
  e.raw_comma = rng.Percent(40);
  e.lower_hex = rng.Percent(10);
  e.gratuitous = rng.Percent(3);
  return e;
}

void AppendEncoded(std::string_view raw, const Encoding& enc, std::string* out) {
  static constexpr char kUpper[] = "0123456789ABCDEF";
  static constexpr char kLower[] = "0123456789abcdef";
  const char* hex = enc.lower_hex ? kLower : kUpper;
  bool escaped_e = !enc.gratuitous;
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (c == 'e' && !escaped_e) {
      out->append("%65");
      escaped_e = true;
    } else if (unreserved || (c == ':' && enc.raw_colon) || (c == ',' && enc.raw_comma)) {
      out->push_back(ch);
    } else if (c == ' ') {
      out->push_back('+');
    } else {
      out->push_back('%');
      out->push_back(hex[c >> 4]);
      out->push_back(hex[c & 15]);
    }
  }
}

// One query parameter, already encoded.
struct Param {
  std::string name;
  std::string value;
};

class Query {
 public:
  explicit Query(Rng* rng) : rng_(rng) {}

  // Adds name=value, percent-encoding the value.
  void Add(std::string_view name, std::string_view raw_value) {
    Param p{std::string(name), {}};
    AppendEncoded(raw_value, DrawEncoding(*rng_), &p.value);
    params_.push_back(std::move(p));
  }
  // Adds name=value with the value written exactly as given (for broken escapes).
  void AddVerbatim(std::string_view name, std::string_view encoded_value) {
    params_.push_back({std::string(name), std::string(encoded_value)});
  }
  void Remove(std::string_view name) {
    for (auto it = params_.begin(); it != params_.end(); ++it) {
      if (it->name == name) {
        params_.erase(it);
        return;
      }
    }
  }
  // Replaces the value of `name` (added when absent).
  void Set(std::string_view name, std::string_view raw_value) {
    Remove(name);
    Add(name, raw_value);
  }
  void SetVerbatim(std::string_view name, std::string_view encoded_value) {
    Remove(name);
    AddVerbatim(name, encoded_value);
  }
  const std::string* Find(std::string_view name) const {
    for (const auto& p : params_) {
      if (p.name == name) return &p.value;
    }
    return nullptr;
  }
  void Shuffle() { rng_->Shuffle(&params_); }

  void AppendTo(std::string_view path, std::string* out) const {
    out->append(path);
    out->push_back('?');
    for (size_t i = 0; i < params_.size(); ++i) {
      if (i > 0) out->push_back('&');
      out->append(params_[i].name);
      out->push_back('=');
      out->append(params_[i].value);
    }
  }
  size_t Bytes(std::string_view path) const {
    size_t n = path.size() + 1;
    for (const auto& p : params_) n += p.name.size() + p.value.size() + 2;
    return n;
  }

 private:
  Rng* rng_;
  std::vector<Param> params_;
};

// Per-tenant popularity: ranked pages, homepages first and hottest.
struct Traffic {
  std::vector<uint32_t> ranked_pages;
  ZipfSampler pages;
  std::vector<int> channel_weights;
};

Traffic BuildTraffic(uint64_t seed, const TenantPlan& tenant) {
  Rng rng(StreamSeed(seed, {kTrafficStream, tenant.index}));
  std::vector<uint32_t> head, tail;
  for (uint32_t i = 0; i < tenant.pages.size(); ++i) {
    (tenant.page_types[tenant.pages[i].page_type] == "homepage" ? head : tail).push_back(i);
  }
  rng.Shuffle(&tail);
  head.insert(head.end(), tail.begin(), tail.end());
  Traffic t{std::move(head), ZipfSampler(tenant.pages.size()), {}};
  for (const auto& c : tenant.channels) {
    t.channel_weights.push_back(c == "web" ? 50 : c == "ios" ? 25 : c == "android" ? 20 : 5);
  }
  return t;
}

std::string Number(std::string_view prefix, uint64_t n) {
  std::string s(prefix);
  AppendInt(static_cast<int64_t>(n), &s);
  return s;
}

// Appends the targeting attributes of a plausible visitor on `channel`.
void AddAttributes(Rng& rng, std::string_view channel, Query* q) {
  if (rng.Percent(60)) {
    static constexpr std::string_view kSegments[] = {"gold", "silver", "bronze", "platinum"};
    static constexpr int kWeights[] = {25, 30, 30, 15};
    q->Add("t.segment", kSegments[rng.Weighted(kWeights)]);
  }
  if (rng.Percent(50)) {
    static constexpr std::string_view kGeos[] = {"US", "CA", "MX", "GB", "DE", "us", "FR"};
    static constexpr int kWeights[] = {40, 12, 12, 12, 12, 6, 6};
    q->Add("t.geo", kGeos[rng.Weighted(kWeights)]);
  }
  if (rng.Percent(40)) {
    static constexpr std::string_view kIos[] = {"ios-phone", "ios-tablet"};
    static constexpr std::string_view kAndroid[] = {"android-phone", "android-tablet"};
    static constexpr std::string_view kDesktop[] = {"desktop-chrome", "Desktop-Safari"};
    q->Add("t.device", channel == "ios"       ? rng.Pick(kIos)
                       : channel == "android" ? rng.Pick(kAndroid)
                                              : rng.Pick(kDesktop));
  }
  if (rng.Percent(channel == "web" ? 5 : 60)) {
    static constexpr std::string_view kVersions[] = {"1.9.9", "2.1.0", "2.10.1",      "3.0.0-beta",
                                                     "3.0.0", "v2.2",  "2.1.0+build7"};
    q->Add("t.appVersion", rng.Pick(kVersions));
  }
  if (rng.Percent(20)) {
    static constexpr std::string_view kAges[] = {"17", "18",  "25",  "30",  "31", "42",
                                                 "65", "030", "abc", "1e2", ""};
    if (rng.Percent(8)) {
      q->AddVerbatim("t.age", "+42");  // '+' decodes to a space: " 42"
    } else {
      q->Add("t.age", rng.Pick(kAges));
    }
  }
  if (rng.Percent(35)) {
    static constexpr std::string_view kTags[] = {"sale", "new", "vip", "clearance"};
    const int n = static_cast<int>(rng.Between(1, 3));
    for (int i = 0; i < n; ++i) q->Add("t.tags", rng.Pick(kTags));
  }
  if (rng.Percent(15)) q->Add("t.userId", Number("u-", rng.Below(500)));
  if (rng.Percent(1)) q->Add("t.note", "café au lait & more");
}

void AddZones(Rng& rng, Query* q) {
  const std::string_view zone = rng.Pick(kZones);
  switch (rng.Below(4)) {
    case 0:
      q->Add("zone", zone);
      break;
    case 1:
      q->Add("zone", std::string(zone) + "," + std::string(rng.Pick(kZones)));
      break;
    case 2:
      q->Add("zone", zone);
      q->Add("zone", rng.Pick(kZones));
      break;
    default:
      q->Add("zone", std::string(zone) + ",," + std::string(rng.Pick(kZones)) + ",");
      break;
  }
}

void AddVariant(Rng& rng, const TenantPlan& tenant, Query* q) {
  const ExperimentPlan& e = tenant.experiments[rng.Below(tenant.experiments.size())];
  const uint64_t r = rng.Below(100);
  if (r < 75) {
    q->Add("variant", e.id + ":" + e.variant_keys[rng.Below(e.variant_keys.size())]);
  } else if (r < 90) {
    q->Add("variant", e.id + ":nope");  // unknown key: bucketed normally
  } else {
    q->Add("variant", "exp-99:B");  // unknown experiment: ignored
  }
}

// A valid request for a page of `tenant` (or its page type, without pageId).
void BuildPageRequest(Rng& rng, const TenantPlan& tenant, const Traffic& traffic, Query* q) {
  const std::string_view channel = tenant.channels[rng.Weighted(traffic.channel_weights)];
  const Page& page = tenant.pages[traffic.ranked_pages[traffic.pages.Sample(rng)]];
  q->Add("tenant", tenant.name);
  q->Add("channel", channel);
  q->Add("pageType", tenant.page_types[page.page_type]);
  if (rng.Percent(85)) q->Add("pageId", page.id);
  if (rng.Percent(85)) {
    q->Add("visitorId",
           rng.Percent(90) ? Number("v", rng.Below(1'000'000)) : Number("anon:", rng.Next() >> 16));
  }
  AddAttributes(rng, channel, q);
  if (rng.Percent(8)) AddZones(rng, q);
  if (rng.Percent(5)) AddVariant(rng, tenant, q);
  if (rng.Percent(3)) {
    static constexpr std::string_view kUtm[] = {"utm_source", "utm_campaign", "debug", "_"};
    q->Add(rng.Pick(kUtm), rng.Percent(50) ? "newsletter" : "bf-2026");
  }
}

// Breaks `q` in one way; returns the error code it must get (all are 400s).
std::string_view Break(Rng& rng, Query* q) {
  switch (rng.Below(17)) {
    case 0:
      if (rng.Percent(30)) {
        q->SetVerbatim("tenant", "");  // empty means absent
      } else {
        q->Remove("tenant");
      }
      return "missing_parameter";
    case 1:
      q->Remove("channel");
      return "missing_parameter";
    case 2:
      q->Remove("pageType");
      return "missing_parameter";
    case 3: {
      static constexpr std::string_view kChannels[] = {"Web", "IOS", "web!", "web.mobile"};
      q->Set("channel", rng.Pick(kChannels));
      return "invalid_parameter";
    }
    case 4: {
      static constexpr std::string_view kTenants[] = {"AC.ME", "ACME!", "init ech", "a/b"};
      q->Set("tenant", rng.Pick(kTenants));
      return "invalid_parameter";
    }
    case 5: {
      static constexpr std::string_view kPageIds[] = {"a/b", "p 1001", "home#b", "p:1001?x"};
      q->Set("pageId", rng.Pick(kPageIds));
      return "invalid_parameter";
    }
    case 6: {
      static constexpr std::string_view kMalformed[] = {"%zz", "%4", "US%", "%G1", "p%3"};
      if (rng.Percent(50)) {
        q->AddVerbatim("t.geo", rng.Pick(kMalformed));  // a repeated t.* is fine
      } else {
        q->SetVerbatim("pageId", rng.Pick(kMalformed));
      }
      return "invalid_parameter";
    }
    case 7: {
      static constexpr std::string_view kNotUtf8[] = {"%ff", "%C3%28", "%ED%A0%80", "caf%E9",
                                                      "%F0%9F%98"};
      q->AddVerbatim("t.segment", rng.Pick(kNotUtf8));
      return "invalid_parameter";
    }
    case 8: {
      static constexpr std::string_view kSingles[] = {"tenant", "channel", "pageType"};
      const std::string_view name = rng.Pick(kSingles);
      const std::string value = *q->Find(name);
      q->AddVerbatim(name, value);  // twice, even with an equal value
      return "invalid_parameter";
    }
    case 9: {
      static constexpr std::string_view kZonesBad[] = {"he ro", "hero!", "main,side bar",
                                                       "z%C3%A9"};
      q->Add("zone", rng.Pick(kZonesBad));
      return "invalid_parameter";
    }
    case 10: {
      static constexpr std::string_view kVariants[] = {"exp-01", "exp-01:", ":B", "exp 01:B",
                                                       "exp-01:B:C"};
      q->Add("variant", rng.Pick(kVariants));
      return "invalid_parameter";
    }
    case 11: {
      static constexpr std::string_view kNames[] = {"t.a.b", "t.", "t.se%20g", "t.x%21"};
      q->AddVerbatim(rng.Pick(kNames), "1");
      return "invalid_parameter";
    }
    case 12:
      q->Set("visitorId", rng.Percent(50) ? "v 123" : "v/123");
      return "invalid_parameter";
    case 13: {
      const auto n = static_cast<size_t>(rng.Between(kMaxValueBytes + 1, kMaxValueBytes + 200));
      q->Set(rng.Percent(70) ? "t.segment" : "utm_source", std::string(n, 'g'));
      return "value_too_long";
    }
    case 14: {
      const int extra = static_cast<int>(rng.Between(kMaxAttributes + 1, kMaxAttributes + 16));
      for (int i = 0; i < extra; ++i) q->Add(Number("t.attr", static_cast<uint64_t>(i)), "1");
      return "too_many_attributes";
    }
    case 15: {
      static constexpr std::string_view kBothBad[] = {"%zz", "%ff"};
      // Several defects: the first parameter in order of appearance decides,
      // and here both are invalid_parameter.
      q->AddVerbatim("t.geo", rng.Pick(kBothBad));
      q->Set("channel", "WEB");
      return "invalid_parameter";
    }
    default: {
      // Over 8192 bytes in values that are each short enough.
      const std::string filler(kMaxValueBytes - 6, 'x');
      int i = 0;
      while (q->Bytes(kV2Path) <= kMaxUriBytes + static_cast<size_t>(rng.Below(200))) {
        q->Add(Number("utm_", static_cast<uint64_t>(i++)), filler);
      }
      return "uri_too_long";
    }
  }
}

}  // namespace

void WriteRequestLog(uint64_t seed, const std::vector<TenantPlan>& tenants, uint64_t count,
                     LineWriter* writer, std::vector<FailingRequest>* failing,
                     const std::function<void(uint64_t lines)>& tick) {
  if (count == 0 || tenants.empty()) return;
  std::vector<Traffic> traffic;
  traffic.reserve(tenants.size());
  for (const auto& t : tenants) traffic.push_back(BuildTraffic(seed, t));
  const ZipfSampler tenant_sampler(tenants.size());
  Rng rng(StreamSeed(seed, {kRequestStream}));
  const auto unknown_tenants = UnknownTenantNames();

  for (uint64_t line = 0; line < count; ++line) {
    const size_t t = tenant_sampler.Sample(rng);
    const TenantPlan& tenant = tenants[t];
    std::string_view path = rng.Percent(70) ? kV2Path : kV1Path;
    Query q(&rng);
    BuildPageRequest(rng, tenant, traffic[t], &q);
    const bool canonical_order = rng.Percent(30);

    const uint64_t kind = rng.Below(1000);
    std::string_view code;
    int status = 400;
    if (kind < kFailingEnd) {
      code = Break(rng, &q);
    } else if (kind < kUnknownTenantEnd) {
      q.Set("tenant", rng.Pick(unknown_tenants));
      code = "unknown_tenant";
      status = 404;
    } else if (kind < kBadPathEnd) {
      path = rng.Pick(kBadPaths);
      code = "not_found";
      status = 404;
    } else if (kind < kUnknownPageEnd) {
      // A known tenant asking for something it has nothing for: 200, empty.
      switch (rng.Below(4)) {
        case 0:
          q.Set("pageType", rng.Percent(50) ? "unknown-type" : "checkout");
          break;
        case 1:
          q.Set("channel", "watch");
          break;
        case 2:
          q.Set("pageId", rng.Percent(50) ? "zzz" : "p:999999");
          break;
        default:
          q.Set("pageType", "Homepage");  // page types are case-sensitive
          break;
      }
    }
    // Parameter order: some clients write a canonical order, most do not.
    // The uri_too_long filler stays last so that the URI check is what fails.
    if (!canonical_order && code != "uri_too_long") q.Shuffle();

    q.AppendTo(path, writer->line());
    writer->EndLine();
    if (!code.empty() && failing != nullptr) failing->push_back({line, status, std::string(code)});
    if ((line + 1) % kTickLines == 0) tick(kTickLines);
  }
  tick(count % kTickLines);
}

}  // namespace tempo::gen
