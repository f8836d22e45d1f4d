// The admin cache routes: body and query checks, and their JSON answers.
#include "api/cache_control.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "api/percent_decode.h"
#include "api/query.h"
#include "api/service.h"
#include "common/json.h"

namespace tempo::api {
namespace {

void BadRequest(std::string message, http::Response* response) {
  SetError({400, "bad_request", std::move(message)}, response);
}

void AnswerJson(std::string body, http::Response* response) {
  response->status = 200;
  response->headers.clear();
  response->headers.emplace_back("Content-Type", "application/json");
  response->headers.emplace_back("Cache-Control", "no-store");
  response->body = std::move(body);
}

// Reads the invalidation body into *filter and *l2; a sentence naming the
// field when it is bad.
std::optional<std::string> ParseInvalidateBody(std::string_view body, SliceFilter* filter,
                                               bool* l2) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc)) return "The body is not valid JSON.";
  simdjson::dom::object object;
  if (doc.get_object().get(object)) return "The body must be a JSON object.";
  struct Field {
    const char* name;
    PartitionField pattern;
    std::string* out;
  };
  const Field fields[] = {{"tenant", PartitionField::kTenant, &filter->tenant},
                          {"channel", PartitionField::kChannel, &filter->channel},
                          {"pageType", PartitionField::kPageType, &filter->page_type},
                          {"scope", PartitionField::kPageId, &filter->scope}};
  std::vector<std::string_view> seen;
  for (simdjson::dom::key_value_pair member : object) {
    const std::string_view key = member.key;
    for (std::string_view s : seen) {
      if (s == key) return "Field '" + std::string(key) + "' appears twice.";
    }
    seen.push_back(key);
    if (key == "l2") {
      if (member.value.get_bool().get(*l2)) return "Field 'l2' must be true or false.";
      continue;
    }
    const Field* field = nullptr;
    for (const Field& f : fields) {
      if (key == f.name) field = &f;
    }
    if (field == nullptr) {
      return "Unknown field '" + std::string(key) +
             "'; the fields are tenant, channel, pageType, scope and l2.";
    }
    std::string_view value;
    if (member.value.get_string().get(value)) {
      return "Field '" + std::string(key) + "' must be a string.";
    }
    // A scope is "*" (the type-wide slice) or a pageId.
    if (!(field->out == &filter->scope && value == "*")) {
      if (auto error = PartitionValueError(field->pattern, key, value)) {
        return "Field '" + std::string(key) + "': " + error->message;
      }
    }
    field->out->assign(value);
  }
  if (filter->tenant.empty()) return "Field 'tenant' is required.";
  return std::nullopt;
}

// The value of `name` in a query string, percent-decoded; nullopt when
// absent, "" when malformed.
std::optional<std::string> QueryValue(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = piece.find('=');
    if (piece.substr(0, eq) != name) continue;
    if (eq == std::string_view::npos) return std::string();
    const std::string_view raw = piece.substr(eq + 1);
    std::string buffer(raw.size(), '\0');
    auto decoded = DecodeFormComponent(raw, buffer.data());
    return decoded ? std::string(*decoded) : std::string();
  }
  return std::nullopt;
}

// The query string of a request target ("" when none).
std::string_view QueryOf(std::string_view target) {
  const size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

// `"key":"T/C/P/S",` then, with the tenant when `with_tenant`,
// `"channel":..,"pageType":..,"scope":..` of one slice.
void AppendSliceNames(const origin::SliceKey& key, bool with_tenant, std::string* body) {
  const origin::PartitionKey& p = key.partition;
  body->append("\"key\":");
  AppendJsonString(p.tenant + "/" + p.channel + "/" + p.page_type + "/" + key.scope, body);
  if (with_tenant) {
    body->append(",\"tenant\":");
    AppendJsonString(p.tenant, body);
  }
  body->append(",\"channel\":");
  AppendJsonString(p.channel, body);
  body->append(",\"pageType\":");
  AppendJsonString(p.page_type, body);
  body->append(",\"scope\":");
  AppendJsonString(key.scope, body);
}

}  // namespace

void HandleCacheInvalidate(PageSource* pages, l2::L2Client* l2, const http::Request& request,
                           http::Response* response) {
  if (request.body.size() > kMaxInvalidateBodyBytes) {
    SetError({413, "body_too_large",
              "The body is over " + std::to_string(kMaxInvalidateBodyBytes) + " bytes."},
             response);
    return;
  }
  SliceFilter filter;
  bool with_l2 = false;
  if (auto error = ParseInvalidateBody(request.body, &filter, &with_l2)) {
    BadRequest(std::move(*error), response);
    return;
  }
  std::vector<origin::SliceKey> keys;
  const size_t removed =
      pages->InvalidateMatching(filter, with_l2 && l2 != nullptr ? &keys : nullptr);
  size_t deleted = 0;
  for (const origin::SliceKey& key : keys) {
    // Delete answers OK whether or not the key was there.
    if (l2->Delete(key).ok()) ++deleted;
  }
  std::string body = "{\"l1_removed\":";
  AppendInt(static_cast<int64_t>(removed), &body);
  body.append(",\"l2_deleted\":");
  AppendInt(static_cast<int64_t>(deleted), &body);
  body.push_back('}');
  AnswerJson(std::move(body), response);
}

void HandleCachedSlices(const PageSource& pages, const http::Request& request,
                        http::Response* response) {
  const std::optional<std::string> tenant = QueryValue(QueryOf(request.target), "tenant");
  if (!tenant || tenant->empty()) {
    BadRequest("Parameter 'tenant' is required.", response);
    return;
  }
  if (auto error = PartitionValueError(PartitionField::kTenant, "tenant", *tenant)) {
    BadRequest(error->message, response);
    return;
  }
  std::string body = "{\"tenant\":";
  AppendJsonString(*tenant, &body);
  body.append(",\"slices\":[");
  bool first = true;
  for (const CachedSliceInfo& s : pages.CachedSlices(*tenant)) {
    if (!first) body.push_back(',');
    first = false;
    body.push_back('{');
    AppendSliceNames(s.key, /*with_tenant=*/false, &body);
    body.append(",\"version\":");
    AppendInt(s.version, &body);
    body.append(",\"bytes\":");
    AppendInt(static_cast<int64_t>(s.bytes), &body);
    body.append(",\"age_ms\":");
    AppendInt(std::chrono::duration_cast<std::chrono::milliseconds>(s.age).count(), &body);
    body.append(",\"hits\":");
    AppendInt(s.hits, &body);
    body.append(",\"frequency\":");
    AppendInt(s.frequency, &body);
    body.append(s.fresh ? ",\"fresh\":true" : ",\"fresh\":false");
    body.append(",\"tier\":\"l1\",\"loaded_from\":");
    AppendJsonString(s.loaded_from == Tier::kL2 ? "l2" : "origin", &body);
    body.push_back('}');
  }
  body.append("]}");
  AnswerJson(std::move(body), response);
}

void HandleHotSlices(const PageSource& pages, const http::Request& request,
                     http::Response* response) {
  size_t n = kDefaultHotSlices;
  if (const std::optional<std::string> given = QueryValue(QueryOf(request.target), "n")) {
    const std::string& text = *given;
    n = 0;
    const bool digits =
        !text.empty() && text.size() <= 6 &&
        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) n = std::stoul(text);
    if (n < 1 || n > kMaxHotSlices) {
      BadRequest(
          "Parameter 'n' must be a whole number from 1 to " + std::to_string(kMaxHotSlices) + ".",
          response);
      return;
    }
  }
  std::string body = "{\"slices\":[";
  bool first = true;
  for (const CachedSliceInfo& s : pages.HottestSlices(n)) {
    if (!first) body.push_back(',');
    first = false;
    body.push_back('{');
    AppendSliceNames(s.key, /*with_tenant=*/true, &body);
    body.append(",\"frequency\":");
    AppendInt(s.frequency, &body);
    body.append(",\"hits\":");
    AppendInt(s.hits, &body);
    body.push_back('}');
  }
  body.append("]}");
  AnswerJson(std::move(body), response);
}

}  // namespace tempo::api
