// ParseLayoutQuery: one pass over the raw query (SPEC §2, §11.1-12).
//
// The query is walked once, piece by piece. Per-parameter checks (decoding,
// length, repetition) fail at once, since they come first in §11.6; the
// later checks (attribute count, missing, patterns, `at`) are settled during
// the same pass but reported at the end in the order §11.6 gives them.
#include "api/query.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/percent_decode.h"

namespace tempo::api {
namespace {

constexpr size_t kMaxValueBytes = 256;       // §2: a decoded value at most 256 bytes
constexpr size_t kMaxAttributes = 64;        // §11.7: distinct t.<name> names
constexpr size_t kMaxMessageNameBytes = 64;  // how much of a bad name/value a message quotes
// Decoded components are written into a buffer as long as the query; a query
// this short (nearly all of them: the router caps targets at 8 KiB) needs no
// heap allocation for it.
constexpr size_t kInlineDecodeBytes = 2048;

constexpr std::string_view kAttributePrefix = "t.";

// A set of bytes as a 256-entry table: a pattern check is then one load per
// byte, with no call through a pointer.
using ByteSet = std::array<bool, 256>;

constexpr ByteSet MakeByteSet(bool upper, std::string_view extra) {
  ByteSet set{};
  for (int c = 'a'; c <= 'z'; ++c) set[c] = true;
  for (int c = '0'; c <= '9'; ++c) set[c] = true;
  if (upper) {
    for (int c = 'A'; c <= 'Z'; ++c) set[c] = true;
  }
  for (char c : extra) set[static_cast<unsigned char>(c)] = true;
  return set;
}

constexpr ByteSet kIdChars = MakeByteSet(true, "_-");        // [A-Za-z0-9_-]
constexpr ByteSet kChannelChars = MakeByteSet(false, "_-");  // [a-z0-9_-]
constexpr ByteSet kPageIdChars = MakeByteSet(true, "_.:-");  // [A-Za-z0-9_.:-]
constexpr ByteSet kVariantChars = MakeByteSet(true, "_.-");  // [A-Za-z0-9_.-]

// A byte set repeated 1..max_bytes times, and how messages spell it.
struct Pattern {
  const ByteSet* allowed;
  size_t max_bytes;
  std::string_view text;

  bool Matches(std::string_view s) const {
    if (s.empty() || s.size() > max_bytes) return false;
    for (char c : s) {
      if (!(*allowed)[static_cast<unsigned char>(c)]) return false;
    }
    return true;
  }
};

constexpr Pattern kTenantPattern{&kIdChars, 64, "[A-Za-z0-9_-]{1,64}"};
constexpr Pattern kChannelPattern{&kChannelChars, 32, "[a-z0-9_-]{1,32}"};
constexpr Pattern kPageTypePattern{&kIdChars, 64, "[A-Za-z0-9_-]{1,64}"};
constexpr Pattern kPageIdPattern{&kPageIdChars, 128, "[A-Za-z0-9_.:-]{1,128}"};
constexpr Pattern kVisitorIdPattern{&kPageIdChars, 128, "[A-Za-z0-9_.:-]{1,128}"};
constexpr Pattern kZonePattern{&kIdChars, 64, "[A-Za-z0-9_-]{1,64}"};
constexpr Pattern kVariantPartPattern{&kVariantChars, 128, "[A-Za-z0-9_.-]{1,128}"};
constexpr Pattern kAttributeNamePattern{&kIdChars, 64, "[A-Za-z0-9_-]{1,64}"};

// The parameters with a meaning. The single-valued ones (§11.4) come first,
// in the order §11.6 checks their patterns.
enum Param : size_t {
  kTenant,
  kChannel,
  kPageType,
  kPageId,
  kVisitorId,
  kAt,
  kSingleCount,  // not a parameter: the number of single-valued ones
  kZone = kSingleCount,
  kVariant,
  kOther,  // an attribute (t.<name>) or an unknown parameter
};
constexpr std::array<std::string_view, kSingleCount> kSingleNames = {
    "tenant", "channel", "pageType", "pageId", "visitorId", "at"};

// Which parameter a decoded name is. Every piece passes through here, so the
// length picks the one or two candidates to compare.
Param Classify(std::string_view name) {
  const auto is = [name](std::string_view candidate) { return name == candidate; };
  switch (name.size()) {
    case 2:
      return is("at") ? kAt : kOther;
    case 4:
      return is("zone") ? kZone : kOther;
    case 6:
      return is("tenant") ? kTenant : is("pageId") ? kPageId : kOther;
    case 7:
      return is("channel") ? kChannel : is("variant") ? kVariant : kOther;
    case 8:
      return is("pageType") ? kPageType : kOther;
    case 9:
      return is("visitorId") ? kVisitorId : kOther;
    default:
      return kOther;
  }
}

// Attributes that never reach PageRequest::attributes (§11.9).
constexpr std::array<std::string_view, 5> kBuiltInAttributes = {"tenant", "channel", "pageType",
                                                                "pageId", "visitorId"};

// `s` made safe to quote in a message (which ends up in a JSON body): ASCII
// printable bytes kept, anything else shown as '?', long text cut short.
std::string Quote(std::string_view s) {
  std::string out = "'";
  const size_t n = std::min(s.size(), kMaxMessageNameBytes);
  for (size_t i = 0; i < n; ++i) {
    const char c = s[i];
    out += (c >= 0x20 && c <= 0x7E) ? c : '?';
  }
  if (n < s.size()) out += "...";
  out += '\'';
  return out;
}

ApiError Error(std::string_view code, std::string message) {
  return ApiError{400, std::string(code), std::move(message)};
}

ApiError PatternError(std::string_view name, const Pattern& pattern) {
  return Error("invalid_parameter",
               "Parameter " + Quote(name) + " must match " + std::string(pattern.text) + ".");
}

}  // namespace

std::optional<ApiError> PartitionValueError(PartitionField field, std::string_view name,
                                            std::string_view value) {
  static constexpr std::array<const Pattern*, 4> kPatterns = {&kTenantPattern, &kChannelPattern,
                                                              &kPageTypePattern, &kPageIdPattern};
  const Pattern& pattern = *kPatterns[static_cast<size_t>(field)];
  if (pattern.Matches(value)) return std::nullopt;
  return PatternError(name, pattern);
}

namespace {

// The state of one parse. Views point into the raw query or the decode buffer,
// both of which outlive the parser.
class LayoutQueryParser {
 public:
  LayoutQueryParser(std::string_view raw_query, int api_version, const QueryOptions& options)
      : raw_(raw_query), options_(options) {
    request_.api_version = api_version;
    if (raw_.size() <= inline_buffer_.size()) {
      decode_buffer_ = inline_buffer_.data();
    } else {
      heap_buffer_ = std::make_unique<char[]>(raw_.size());
      decode_buffer_ = heap_buffer_.get();
    }
  }

  std::variant<PageRequest, ApiError> Parse() {
    size_t start = 0;
    while (start <= raw_.size()) {
      size_t end = raw_.find('&', start);
      if (end == std::string_view::npos) end = raw_.size();
      if (end > start) {
        if (auto error = ConsumePiece(raw_.substr(start, end - start))) return std::move(*error);
      }
      start = end + 1;
    }
    return Finish();
  }

 private:
  // Decodes `raw` (a substring of the query) into the decode buffer at the
  // same offset, so distinct components never overlap there.
  std::optional<std::string_view> Decode(std::string_view raw) {
    return DecodeFormComponent(raw, decode_buffer_ + (raw.data() - raw_.data()));
  }

  // The per-parameter checks of §11.6, and recording what later checks need.
  std::optional<ApiError> ConsumePiece(std::string_view piece) {
    const size_t eq = piece.find('=');
    const std::string_view raw_name = piece.substr(0, eq);
    // An absent value is the empty view at the end of the piece, so that it
    // still points into the query (Decode relies on that).
    const std::string_view raw_value =
        eq == std::string_view::npos ? piece.substr(piece.size()) : piece.substr(eq + 1);

    const std::optional<std::string_view> name = Decode(raw_name);
    if (!name) {
      return Error("invalid_parameter",
                   "Parameter name " + Quote(raw_name) + " is not valid percent-encoded UTF-8.");
    }
    const std::optional<std::string_view> value = Decode(raw_value);
    if (!value) {
      return Error("invalid_parameter", "The value of parameter " + Quote(*name) +
                                            " is not valid percent-encoded UTF-8.");
    }
    if (value->size() > kMaxValueBytes) {
      return Error("value_too_long", "The value of parameter " + Quote(*name) + " is longer than " +
                                         std::to_string(kMaxValueBytes) + " bytes.");
    }

    const Param param = Classify(*name);
    if (param < kSingleCount) {
      // §11.3: an empty single-valued parameter is as if it were not given,
      // so it neither fills the parameter nor counts as a repetition.
      if (value->empty()) return std::nullopt;
      if (!single_[param].empty()) {
        return Error("invalid_parameter",
                     "Parameter " + Quote(*name) + " is given more than once.");
      }
      single_[param] = *value;
    } else if (param == kZone) {
      AddZones(*value);
    } else if (param == kVariant) {
      AddVariant(*value);
    } else if (name->starts_with(kAttributePrefix)) {
      AddAttribute(name->substr(kAttributePrefix.size()), *value);
    }
    // Any other name is ignored once decoded and checked (§11.2).
    return std::nullopt;
  }

  // §11.10: a comma list; empty items are ignored.
  void AddZones(std::string_view value) {
    size_t start = 0;
    while (start <= value.size()) {
      size_t end = value.find(',', start);
      if (end == std::string_view::npos) end = value.size();
      const std::string_view item = value.substr(start, end - start);
      if (!item.empty()) {
        if (!kZonePattern.Matches(item)) {
          if (!zone_error_) {
            zone_error_ = Error("invalid_parameter", "Each item of parameter 'zone' must match " +
                                                         std::string(kZonePattern.text) + "; " +
                                                         Quote(item) + " does not.");
          }
        } else {
          request_.zones.emplace_back(item);
        }
      }
      start = end + 1;
    }
  }

  // §11.11: experimentId:variantKey split at the first ':'; empty is ignored.
  void AddVariant(std::string_view value) {
    if (value.empty()) return;
    const size_t colon = value.find(':');
    const bool ok = colon != std::string_view::npos &&
                    kVariantPartPattern.Matches(value.substr(0, colon)) &&
                    kVariantPartPattern.Matches(value.substr(colon + 1));
    if (!ok) {
      if (!variant_error_) {
        variant_error_ =
            Error("invalid_parameter",
                  "Parameter 'variant' must be experimentId:variantKey, each part " +
                      std::string(kVariantPartPattern.text) + "; " + Quote(value) + " is not.");
      }
      return;
    }
    request_.variants.emplace_back(value.substr(0, colon), value.substr(colon + 1));
  }

  // §11.7-9: attributes are kept by name in order of first appearance, built-ins
  // included (they count towards the limit) until the end.
  void AddAttribute(std::string_view name, std::string_view value) {
    if (too_many_attributes_) return;  // the request fails; stop collecting
    // A linear scan: requests carry a handful of attributes, never more than
    // kMaxAttributes here, and this beats hashing at that size.
    for (PageRequest::Attribute& attribute : request_.attributes) {
      if (attribute.name == name) {
        attribute.values.emplace_back(value);
        return;
      }
    }
    if (request_.attributes.size() == kMaxAttributes) {
      too_many_attributes_ = true;
      return;
    }
    request_.attributes.push_back({std::string(name), {std::string(value)}});
  }

  // The checks of §11.6 after the per-parameter ones, in its order.
  std::variant<PageRequest, ApiError> Finish() {
    if (too_many_attributes_) {
      return Error("too_many_attributes",
                   "More than " + std::to_string(kMaxAttributes) +
                       " distinct targeting attributes (t.<name>) are given.");
    }
    for (Param required : {kTenant, kChannel, kPageType}) {
      if (single_[required].empty()) {
        return Error("missing_parameter",
                     "Required parameter " + Quote(kSingleNames[required]) + " is missing.");
      }
    }
    static constexpr std::array<const Pattern*, kAt> kSinglePatterns = {
        &kTenantPattern, &kChannelPattern, &kPageTypePattern, &kPageIdPattern, &kVisitorIdPattern};
    for (size_t i = 0; i < kAt; ++i) {
      if (!single_[i].empty() && !kSinglePatterns[i]->Matches(single_[i])) {
        return PatternError(kSingleNames[i], *kSinglePatterns[i]);
      }
    }
    if (zone_error_) return std::move(*zone_error_);
    if (variant_error_) return std::move(*variant_error_);
    for (const PageRequest::Attribute& attribute : request_.attributes) {
      if (!kAttributeNamePattern.Matches(attribute.name)) {
        return Error("invalid_parameter", "Attribute " + Quote("t." + attribute.name) +
                                              " must be named t. then " +
                                              std::string(kAttributeNamePattern.text) + ".");
      }
    }
    if (!single_[kAt].empty()) {
      if (!options_.allow_preview) {
        return ApiError{400, "preview_disabled",
                        "Parameter 'at' needs preview, which this server does not allow."};
      }
      request_.at = ParseRfc3339(single_[kAt]);
      if (!request_.at) {
        return Error("invalid_parameter",
                     "Parameter 'at' must be an RFC 3339 date-time such as 2026-11-22T12:00:00Z.");
      }
    }

    request_.tenant = single_[kTenant];
    request_.channel = single_[kChannel];
    request_.page_type = single_[kPageType];
    if (!single_[kPageId].empty()) request_.page_id.emplace(single_[kPageId]);
    if (!single_[kVisitorId].empty()) request_.visitor_id.emplace(single_[kVisitorId]);
    std::erase_if(request_.attributes, [](const PageRequest::Attribute& attribute) {
      for (std::string_view built_in : kBuiltInAttributes) {
        if (attribute.name == built_in) return true;
      }
      return false;
    });
    return std::move(request_);
  }

  const std::string_view raw_;
  const QueryOptions& options_;
  std::array<char, kInlineDecodeBytes> inline_buffer_;
  std::unique_ptr<char[]> heap_buffer_;
  char* decode_buffer_ = nullptr;

  PageRequest request_;
  // The value of each single-valued parameter; empty when not given (§11.3).
  std::array<std::string_view, kSingleCount> single_{};
  bool too_many_attributes_ = false;
  std::optional<ApiError> zone_error_;     // the first bad zone item
  std::optional<ApiError> variant_error_;  // the first bad variant
};

}  // namespace

std::variant<PageRequest, ApiError> ParseLayoutQuery(std::string_view raw_query, int api_version,
                                                     const QueryOptions& options) {
  return LayoutQueryParser(raw_query, api_version, options).Parse();
}

}  // namespace tempo::api
