// Shadow items: one request a legacy service answered, with its answer, as
// posted to POST /internal/shadow (receiver.h), and the parser of a post.
//
// A post is one JSON object, or NDJSON of many (one object a line):
//   {"target":"/api/v2/tempo/layouts?tenant=ACME","status":200,
//    "body":"<the answer's body, as a JSON string>","at":"2026-11-22T12:00:00Z"}
// Instead of `body`, an item may carry `json`: the body as the JSON value
// itself, not a string (what `tempo serve --shadow-to` sends: escaping a
// body costs the sender more than anything else it does per item); or
// `same_body_as`: the number of an earlier line of the same post whose item
// has the same body (a hot page's answer is sent once per post).
// Which of the two is decided by the content, whatever the Content-Type says:
// a single object may span lines (pretty-printed), NDJSON may be sent as
// application/json.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"

namespace tempo::shadow {

// One shadowed request.
struct Item {
  std::string target;  // origin form, starts with '/'; not checked to be a layouts request here
  int status = 0;      // the legacy answer's status, 100-599
  // The legacy answer's body (unescaped from its JSON string). Its capacity
  // leaves simdjson's padding after the bytes, so it parses without a copy.
  std::string body;
  UnixNanos at = 0;  // when the legacy service answered; the receipt time when not sent
};

// A line of a post that is not an item, and why.
struct ItemError {
  size_t line = 0;  // 1-based line of the post (blank lines count)
  std::string message;
};

// What ParsePost found in a post.
struct ParsedPost {
  std::vector<Item> items;        // in post order
  size_t rejected = 0;            // malformed lines (may exceed errors.size())
  std::vector<ItemError> errors;  // the first `max_errors` rejections, in post order
};

// Parses `post`: a single JSON object (which may span lines) or NDJSON
// (blank lines skipped, CRLF or LF, the last line may lack its newline).
// Each line that is not an item is rejected with a message naming the
// field: not a JSON object, `target` missing / not a string / not starting
// with '/', `status` not an integer 100-599, `body` missing / not a string
// (with no `json`), both `body` and `json`,
// `at` not an RFC 3339 string (null means absent), a truncated last line.
// Unknown members are ignored. `receipt` is the `at` of items without one.
// Never fails as a whole: an empty post has no items and no rejections.
ParsedPost ParsePost(std::string_view post, UnixNanos receipt, size_t max_errors = 100);

}  // namespace tempo::shadow
