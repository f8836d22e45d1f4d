// Parsing a POST /internal/shadow body into items.
#include "shadow/item.h"

#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>

namespace tempo::shadow {
namespace {

namespace dom = simdjson::dom;

constexpr int kMinStatus = 100;
constexpr int kMaxStatus = 599;

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// True when `text` ends inside a JSON value: an open string, object or array
// (what a post cut mid-item leaves on its last line).
bool EndsInsideValue(std::string_view text) {
  int64_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return in_string || depth > 0;
}

// Reads one item from a parsed value; the message names the bad field.
// `earlier(L)` is the body of the item on line L of the post, if L is an
// earlier line that was accepted.
std::optional<std::string> ReadItem(
    dom::element value, UnixNanos receipt,
    const std::function<std::optional<std::string_view>(uint64_t)>& earlier, Item* item) {
  dom::object object;
  if (value.get_object().get(object)) return "not a JSON object";

  dom::element field;
  if (object.at_key("target").get(field)) return "`target` missing";
  std::string_view target;
  if (field.get_string().get(target)) return "`target` must be a string";
  if (target.empty() || target.front() != '/') return "`target` must start with '/'";

  if (object.at_key("status").get(field)) return "`status` missing";
  int64_t status = 0;
  if (!field.is_int64() || field.get_int64().get(status) || status < kMinStatus ||
      status > kMaxStatus) {
    return "`status` must be an integer 100-599";
  }

  // The body as a JSON string (what a legacy service has), or as the JSON
  // value itself under `json` (what --shadow-to sends: no escaping).
  std::string_view body;
  std::string minified;
  dom::element json;
  const bool has_json = !object.at_key("json").get(json);
  dom::element same;
  if (!object.at_key("same_body_as").get(same)) {
    // The body of an earlier line of this post, not repeated (--shadow-to).
    uint64_t line = 0;
    std::optional<std::string_view> found;
    if (!same.is_uint64() || same.get_uint64().get(line) || !(found = earlier(line))) {
      return "`same_body_as` must be the number of an earlier accepted line of this post";
    }
    if (has_json || !object.at_key("body").error()) {
      return "`same_body_as` given with `body` or `json`: send one";
    }
    body = *found;
  } else if (object.at_key("body").get(field)) {
    if (!has_json) return "`body` missing (or `json`, the body as a JSON value)";
    minified = simdjson::minify(json);
    body = minified;
  } else if (has_json) {
    return "`body` and `json` both given: send one";
  } else if (field.get_string().get(body)) {
    return "`body` must be a string (or use `json` for the body as a JSON value)";
  }

  UnixNanos at = receipt;
  if (!object.at_key("at").get(field) && !field.is_null()) {
    std::string_view text;
    if (field.get_string().get(text)) return "`at` must be an RFC 3339 string";
    std::optional<UnixNanos> parsed = ParseRfc3339(text);
    if (!parsed) return "`at` must be an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.f]Z or +HH:MM)";
    at = *parsed;
  }

  item->target.assign(target);
  item->status = static_cast<int>(status);
  item->body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  item->body.assign(body);
  item->at = at;
  return std::nullopt;
}

class PostParser {
 public:
  PostParser(UnixNanos receipt, size_t max_errors, ParsedPost* out)
      : receipt_(receipt), max_errors_(max_errors), out_(out) {}

  // One line (or the whole post, when it is one object spanning lines).
  void ParseLine(size_t line, std::string_view text) {
    dom::element value;
    if (simdjson::error_code error = parser_.parse(text.data(), text.size()).get(value)) {
      if (EndsInsideValue(text)) {
        Reject(line, "truncated: the line ends inside a JSON value (the post was cut?)");
      } else {
        Reject(line, std::string("not valid JSON: ") + simdjson::error_message(error));
      }
      return;
    }
    Item item;
    const auto earlier = [this, line](uint64_t l) -> std::optional<std::string_view> {
      const auto it = item_of_line_.find(l);
      if (l >= line || it == item_of_line_.end()) return std::nullopt;
      return out_->items[it->second].body;
    };
    if (std::optional<std::string> message = ReadItem(value, receipt_, earlier, &item)) {
      Reject(line, std::move(*message));
      return;
    }
    item_of_line_.emplace(line, out_->items.size());
    out_->items.push_back(std::move(item));
  }

  // True when `text` is one complete JSON document (of any type).
  bool IsOneDocument(std::string_view text) {
    dom::element value;
    return !parser_.parse(text.data(), text.size()).get(value);
  }

 private:
  void Reject(size_t line, std::string message) {
    ++out_->rejected;
    if (out_->errors.size() < max_errors_) out_->errors.push_back({line, std::move(message)});
  }

  const UnixNanos receipt_;
  const size_t max_errors_;
  ParsedPost* const out_;
  // One parser for the whole post: its buffers are sized once for the
  // longest line, not allocated per item.
  dom::parser parser_;
  std::unordered_map<uint64_t, size_t> item_of_line_;  // accepted line -> index in items
};

}  // namespace

ParsedPost ParsePost(std::string_view post, UnixNanos receipt, size_t max_errors) {
  ParsedPost out;
  PostParser parser(receipt, max_errors, &out);
  size_t line = 0;
  bool first = true;
  while (!post.empty()) {
    ++line;
    const size_t newline = post.find('\n');
    std::string_view text = TrimSpace(post.substr(0, newline));
    const std::string_view rest =
        newline == std::string_view::npos ? std::string_view() : post.substr(newline + 1);
    if (text.empty()) {
      post = rest;
      continue;
    }
    if (first) {
      first = false;
      // A single object pretty-printed over several lines: its first line
      // alone is not a document, the whole post is.
      const std::string_view whole = TrimSpace(post);
      if (whole.size() != text.size() && !parser.IsOneDocument(text) &&
          parser.IsOneDocument(whole)) {
        parser.ParseLine(line, whole);
        return out;
      }
    }
    parser.ParseLine(line, text);
    post = rest;
  }
  return out;
}

}  // namespace tempo::shadow
