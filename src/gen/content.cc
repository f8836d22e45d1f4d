// Content objects, odd JSON values and targeting conditions.
#include "gen/content.h"

#include "common/json.h"
#include "gen/timestamp.h"

namespace tempo::gen {
namespace {

// Writes the members of one JSON object, with or without whitespace.
class ObjectWriter {
 public:
  ObjectWriter(std::string* out, bool spaced) : out_(out), spaced_(spaced) { out_->push_back('{'); }
  ~ObjectWriter() { out_->push_back('}'); }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  // Writes the separator and `"key":`; the caller appends the value to the
  // returned string. `key` must need no escaping.
  std::string* Key(std::string_view key) {
    if (!first_) out_->append(spaced_ ? ", " : ",");
    first_ = false;
    out_->push_back('"');
    out_->append(key);
    out_->append(spaced_ ? "\": " : "\":");
    return out_;
  }
  void String(std::string_view key, std::string_view value) { AppendJsonString(value, Key(key)); }
  void Int(std::string_view key, int64_t value) { AppendInt(value, Key(key)); }
  void Raw(std::string_view key, std::string_view json) { Key(key)->append(json); }

 private:
  std::string* out_;
  bool spaced_;
  bool first_ = true;
};

constexpr std::string_view kTitles[] = {"Black Friday deals",
                                        "Free shipping over $50",
                                        "New arrivals",
                                        "Winter sale",
                                        "Soldes d'hiver",
                                        "Rebajas de invierno",
                                        "Winterschlussverkauf",
                                        "冬のセール",
                                        "Новинки недели",
                                        "Nouveautés — été",
                                        "Últimas unidades",
                                        "Back to school",
                                        "Gift ideas under €25",
                                        "Top rated",
                                        "Just for you",
                                        "Clearance: up to 70% off",
                                        "Summer \"hot\" picks",
                                        "Ofertas relámpago",
                                        "限时抢购",
                                        "Ürün önerileri"};

constexpr std::string_view kCtas[] = {"Shop now",       "Discover",   "Ver ofertas", "Jetzt kaufen",
                                      "En savoir plus", "今すぐ購入", "Learn more",  "Add to cart"};

constexpr std::string_view kBadges[] = {"new", "-20%", "bestseller", "eco", "limited", "ÉTÉ"};

constexpr std::string_view kCurrencies[] = {"USD", "EUR", "GBP", "MXN", "CAD", "JPY"};

// Raw JSON values whose spelling must survive storage and rendering unchanged.
constexpr std::string_view kOddValues[] = {
    "1E-2",
    "-2.50",
    "12345678901234567890",
    "1000.0",
    "0.25",
    "-0",
    "3.14159",
    "1e+21",
    "6.02214076E23",
    "-9223372036854775808",
    "0.1e1",
    R"("caf\u00e9 \"quoted\"")",
    R"("\/slash")",
    R"("línea\nnueva")",
    R"("😀 emoji")",
    R"("\ud83d\ude00 escaped emoji")",
    R"("<b>&amp;</b>")",
    R"("tab\tand\\backslash")",
    R"("日本語テキスト")",
    R"("Ünïcödé ñ")",
    R"("nul\u0000byte")",
    R"("\u2028line separator")",
    R"("")",
    "[]",
    "{}",
    "null",
    "true",
    "false",
    R"([1,[2,[3,{"deep":[null,{"k":"v"}]}]]])",
    R"({"a":{"b":{"c":{"d":{"e":[1E2]}}}}})",
    R"(["mixed",1,true,null,{"x":-0.0}])",
};

void AppendPrice(Rng& rng, std::string* out) {
  const int64_t cents = rng.Between(99, 49999);
  AppendInt(cents / 100, out);
  if (rng.Percent(10)) return;  // a whole amount: "20"
  out->push_back('.');
  out->push_back(static_cast<char>('0' + cents / 10 % 10));
  out->push_back(rng.Percent(20) ? '0' : static_cast<char>('0' + cents % 10));
}

void AppendUrl(Rng& rng, std::string_view kind, std::string_view ext, std::string* out) {
  std::string url = "https://cdn.tempo.example/";
  url.append(kind);
  url.push_back('/');
  AppendInt(rng.Between(1, 99999), &url);
  url.append(ext);
  AppendJsonString(url, out);
}

void AppendHref(Rng& rng, std::string* out) {
  static constexpr std::string_view kPaths[] = {"/c/", "/p/", "/s?q=", "/lp/", "/deals/"};
  std::string href(rng.Pick(kPaths));
  AppendInt(rng.Between(1, 9999), &href);
  if (rng.Percent(15)) href += "?utm_source=home&utm_medium=banner";
  AppendJsonString(href, out);
}

void AppendImage(Rng& rng, bool spaced, std::string* out) {
  ObjectWriter o(out, spaced);
  AppendUrl(rng, "img", ".jpg", o.Key("src"));
  o.String("alt", rng.Pick(kTitles));
  static constexpr int64_t kWidths[] = {320, 640, 1200, 1920};
  o.Int("width", rng.Pick(kWidths));
  o.Int("height", rng.Between(2, 9) * 100);
}

void AppendProduct(Rng& rng, bool spaced, std::string* out) {
  ObjectWriter o(out, spaced);
  std::string sku = "sku-";
  AppendInt(rng.Between(1, 999999), &sku);
  o.String("sku", sku);
  o.String("name", rng.Pick(kTitles));
  {
    ObjectWriter price(o.Key("price"), spaced);
    AppendPrice(rng, price.Key("amount"));
    price.String("currency", rng.Pick(kCurrencies));
  }
  if (rng.Percent(40)) {
    std::string* b = o.Key("badges");
    b->push_back('[');
    const int n = static_cast<int>(rng.Between(1, 2));
    for (int i = 0; i < n; ++i) {
      if (i > 0) b->push_back(',');
      AppendJsonString(rng.Pick(kBadges), b);
    }
    b->push_back(']');
  }
  if (rng.Percent(15)) o.Raw("rating", rng.Percent(50) ? "4.5" : "3.0");
}

}  // namespace

void AppendOddValue(Rng& rng, std::string* out) { out->append(rng.Pick(kOddValues)); }

void AppendContent(Rng& rng, std::string_view module_type, bool spaced, std::string* out) {
  ObjectWriter o(out, spaced);
  if (module_type == "banner") {
    o.String("title", rng.Pick(kTitles));
    if (rng.Percent(50)) o.String("subtitle", rng.Pick(kTitles));
    AppendImage(rng, spaced, o.Key("image"));
    {
      ObjectWriter cta(o.Key("cta"), spaced);
      cta.String("label", rng.Pick(kCtas));
      AppendHref(rng, cta.Key("href"));
    }
    o.String("theme", rng.Percent(50) ? "dark" : "light");
  } else if (module_type == "carousel") {
    o.String("title", rng.Pick(kTitles));
    o.Int("autoplayMs", rng.Between(3, 8) * 1000);
    std::string* s = o.Key("slides");
    s->push_back('[');
    const int n = static_cast<int>(rng.Between(2, 5));
    for (int i = 0; i < n; ++i) {
      if (i > 0) s->append(spaced ? ", " : ",");
      ObjectWriter slide(s, spaced);
      AppendImage(rng, spaced, slide.Key("image"));
      AppendHref(rng, slide.Key("href"));
      if (rng.Percent(50)) slide.String("caption", rng.Pick(kTitles));
    }
    s->push_back(']');
  } else if (module_type == "grid" || module_type == "product-tile") {
    o.String("title", rng.Pick(kTitles));
    o.Int("columns", rng.Between(2, 6));
    std::string* items = o.Key("items");
    items->push_back('[');
    const int n = static_cast<int>(module_type == "grid" ? rng.Between(2, 8) : 1);
    for (int i = 0; i < n; ++i) {
      if (i > 0) items->append(spaced ? ", " : ",");
      AppendProduct(rng, spaced, items);
    }
    items->push_back(']');
  } else if (module_type == "text") {
    if (rng.Percent(50)) {
      o.String("html", rng.Percent(50) ? "<p>Free returns within <strong>30 days</strong>.</p>"
                                       : "<p class=\"note\">Envío gratis &amp; devoluciones</p>");
    } else {
      o.String("markdown", rng.Percent(50) ? "**Free shipping** over 50 €\nSee terms."
                                           : "Línea 1\n\tLínea 2 — «citation»");
    }
    o.String("align", rng.Percent(70) ? "left" : "center");
  } else if (module_type == "video") {
    AppendUrl(rng, "video", ".mp4", o.Key("src"));
    AppendUrl(rng, "img", ".webp", o.Key("poster"));
    o.Int("durationSec", rng.Between(6, 180));
    o.Raw("autoplay", rng.Percent(50) ? "true" : "false");
    if (rng.Percent(40)) {
      ObjectWriter captions(o.Key("captions"), spaced);
      captions.String("en", "Meet the new collection");
      captions.String("es", "Conoce la nueva colección");
    }
  } else if (module_type == "countdown") {
    o.String("label", rng.Pick(kTitles));
    std::string* ends = o.Key("endsAt");
    ends->push_back('"');
    AppendRfc3339(UnixSecondsOf(2026, 12, 1) + rng.Between(0, 90) * kSecondsPerDay, 0, 0, 0, true,
                  ends);
    ends->push_back('"');
    o.Raw("expiredText", "null");
  } else {  // recommendations
    static constexpr std::string_view kAlgorithms[] = {"also-bought", "similar", "trending",
                                                       "recently-viewed"};
    o.String("algorithm", rng.Pick(kAlgorithms));
    o.Int("max", rng.Between(4, 24));
    o.Raw("fallback", "null");
    ObjectWriter filters(o.Key("filters"), spaced);
    filters.Raw("inStock", "true");
    if (rng.Percent(50)) filters.Raw("minRating", "4.5");
  }
  if (rng.Percent(25)) AppendOddValue(rng, o.Key("meta"));
  if (rng.Percent(5)) AppendOddValue(rng, o.Key("extra"));
}

namespace {

// One "attribute":<test> member per entry; groups are attributes, so two
// members of one object never repeat a key.
constexpr std::string_view kSegmentTests[] = {
    R"("segment":"gold")",
    R"("segment":{"$in":["gold","platinum"]})",
    R"("segment":{"$nin":["bronze"]})",
    R"("segment":{"$ne":"bronze"})",
    R"("segment":{"$exists":true})",
    R"("segment":{"$eq":"silver"})",
    R"("segment":{"$regex":"^(gold|platinum)$"})",
    R"("segment":{"$gt":"gold"})",
    R"("segment":{"$not":{"$in":["bronze","silver"]}})",
    R"("segment":null)",
};
constexpr std::string_view kGeoTests[] = {
    R"("geo":"US")",
    R"("geo":{"$in":["US","CA","MX"]})",
    R"("geo":{"$ini":["us","gb"]})",
    R"("geo":{"$nin":["DE"]})",
    R"("geo":{"$ne":"CA"})",
    R"("geo":{"$regexi":"^u"})",
    R"("geo":{"$exists":false})",
};
constexpr std::string_view kDeviceTests[] = {
    R"("device":{"$regex":"^ios"})",
    R"("device":{"$regex":"android"})",
    R"("device":{"$regexi":"PHONE$"})",
    R"("device":{"$in":["desktop-chrome","Desktop-Safari"]})",
    R"("device":{"$not":{"$regex":"tablet"}})",
};
constexpr std::string_view kAppVersionTests[] = {
    R"("appVersion":{"$vgte":"2.1.0"})", R"("appVersion":{"$vlt":"3.0.0-beta"})",
    R"("appVersion":{"$veq":"2.1.0"})",  R"("appVersion":{"$vgt":"1.9.9","$vlt":"3.0.0"})",
    R"("appVersion":{"$vne":"2.10.1"})", R"("appVersion":{"$vlte":"2.10.1"})",
};
constexpr std::string_view kAgeTests[] = {
    R"("age":{"$gt":30})",        R"("age":{"$gte":"18","$lt":65})",
    R"("age":{"$lte":25})",       R"("age":{"$in":["31",31,"65"]})",
    R"("age":{"$exists":false})", R"("age":{"$type":"string"})",
    R"("age":{"$gt":"30"})",
};
constexpr std::string_view kTagsTests[] = {
    R"("tags":"sale")",
    R"("tags":{"$elemMatch":{"$eq":"sale"}})",
    R"("tags":{"$all":["sale","new"]})",
    R"("tags":{"$size":2})",
    R"("tags":{"$size":{"$gt":1}})",
    R"("tags":{"$in":["vip","clearance"]})",
    R"("tags":{"$nin":["vip"]})",
    R"("tags":["sale","new"])",
    R"("tags":{"$type":"array"})",
    R"("tags":{"$alli":["SALE"]})",
};
constexpr std::string_view kTagPathTests[] = {
    R"("tags.0":"sale")",
    R"("tags.length":{"$gte":2})",
};
constexpr std::string_view kUserIdTests[] = {
    R"("userId":{"$regex":"^u-1"})",
    R"("userId":{"$exists":true})",
    R"("userId":{"$in":["u-7","u-42","u-99"]})",
};
constexpr std::string_view kBuiltinTests[] = {
    R"("channel":"android")",         R"("channel":{"$in":["ios","android"]})",
    R"("pageId":{"$regex":"^p:10"})", R"("visitorId":{"$regex":"[37]$"})",
    R"("pageType":{"$ne":"cart"})",
};

constexpr std::span<const std::string_view> kTestGroups[] = {
    kSegmentTests, kGeoTests,     kDeviceTests, kAppVersionTests, kAgeTests,
    kTagsTests,    kTagPathTests, kUserIdTests, kBuiltinTests};
// Relative frequency of each group: segment and geo dominate real targeting.
constexpr int kGroupWeights[] = {30, 25, 12, 10, 8, 10, 2, 3, 5};

void AppendConditionAtDepth(Rng& rng, int depth, std::string* out) {
  // single, two members, $or, $and, $not, $nor; no nesting past depth 2.
  static constexpr int kShapes[] = {55, 15, 10, 8, 7, 5};
  static constexpr int kLeafShapes[] = {70, 30};
  const size_t shape = depth >= 2 ? rng.Weighted(kLeafShapes) : rng.Weighted(kShapes);
  out->push_back('{');
  switch (shape) {
    case 0:
      out->append(rng.Pick(kTestGroups[rng.Weighted(kGroupWeights)]));
      break;
    case 1: {
      const size_t a = rng.Weighted(kGroupWeights);
      size_t b = rng.Weighted(kGroupWeights);
      // tags and tags.* may share an object; only the same group may not.
      if (b == a) b = (a + 1) % std::size(kTestGroups);
      out->append(rng.Pick(kTestGroups[a]));
      out->push_back(',');
      out->append(rng.Pick(kTestGroups[b]));
      break;
    }
    case 2:
    case 3:
      out->append(shape == 2 ? "\"$or\":[" : "\"$and\":[");
      AppendConditionAtDepth(rng, depth + 1, out);
      out->push_back(',');
      AppendConditionAtDepth(rng, depth + 1, out);
      out->push_back(']');
      break;
    case 4:
      out->append("\"$not\":");
      AppendConditionAtDepth(rng, depth + 1, out);
      break;
    default:
      out->append("\"$nor\":[");
      AppendConditionAtDepth(rng, depth + 1, out);
      out->push_back(']');
      break;
  }
  out->push_back('}');
}

}  // namespace

void AppendCondition(Rng& rng, std::string* out) { AppendConditionAtDepth(rng, 0, out); }

}  // namespace tempo::gen
