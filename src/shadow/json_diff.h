// JSON value equality for shadow compare: whether the legacy answer
// ("expected") and Tempo's ("actual") are the same JSON value, and if not,
// where they first differ.
//
// Equal means: object members compared by name whatever their order, arrays
// element by element, strings byte for byte (after unescaping), numbers by
// value (1 == 1.0 == 1e0; two integers are compared exactly, anything else as
// doubles), true/false/null by kind. The first difference is the first in
// document order of the expected side: its members in their order (a member
// missing from actual is a difference at its path), then the members only
// actual has in actual's order; an array's elements in order, then the first
// index one side lacks.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tempo::shadow {

// Values in a JsonDifference are cut to this many bytes of JSON text.
inline constexpr size_t kMaxDiffValueBytes = 1024;

// Where two JSON values first differ.
struct JsonDifference {
  // RFC 6901 JSON Pointer ("" is the whole document), tokens escaped (~0, ~1).
  std::string path;
  // The value at `path` on each side as JSON text (CutJsonText), or nullopt
  // when that side has no value there.
  std::optional<std::string> expected;
  std::optional<std::string> actual;
};

// `json` (a JSON text) itself when it is at most kMaxDiffValueBytes long;
// otherwise a JSON string holding its first bytes (cut on a UTF-8 character
// boundary) followed by "...(cut)", so the result is always valid JSON.
std::string CutJsonText(std::string_view json);

// Compares JSON values, leaving out the ignored paths. Copyable; an instance
// keeps scratch buffers, so it is not safe for concurrent use: one per thread.
class JsonComparer {
 public:
  // `ignore`: RFC 6901 JSON Pointers ("" or starting with '/'); a token "*"
  // matches any array index or member name (a member literally named "*"
  // cannot be named alone). A path that matches is skipped with everything
  // below it. InvalidArgument naming the first pointer that is malformed.
  static Result<JsonComparer> Create(const std::vector<std::string>& ignore);

  // True when `expected` and `actual` are equal; otherwise false with the
  // first difference in `*difference` (REQUIRES: not null).
  bool Equal(simdjson::dom::element expected, simdjson::dom::element actual,
             JsonDifference* difference);

 private:
  struct Token {
    std::string name;             // unescaped
    bool any = false;             // "*"
    std::optional<size_t> index;  // the array index `name` spells, if any
  };
  using Pointer = std::vector<Token>;
  // One step of the path walked so far: a member name or an array index.
  struct Step {
    std::string_view name;
    size_t index = 0;
    bool is_index = false;
  };
  struct Member {
    std::string_view key;
    simdjson::dom::element value;
  };

  JsonComparer() = default;

  // Compares at the current path; `active` is the offset in active_ of the
  // ignore pointers whose tokens match the path so far (up to active_end).
  bool EqualAt(simdjson::dom::element expected, simdjson::dom::element actual, size_t active,
               size_t active_end, size_t depth);
  bool EqualObjects(simdjson::dom::object expected, simdjson::dom::object actual, size_t active,
                    size_t active_end, size_t depth);
  bool EqualArrays(simdjson::dom::array expected, simdjson::dom::array actual, size_t active,
                   size_t active_end, size_t depth);
  // Pushes the step and the ignore pointers still matching below it onto the
  // stacks; false (nothing pushed) when the step is ignored.
  bool Enter(const Step& step, size_t active, size_t active_end, size_t depth);
  void Leave(size_t active_end);
  // Records the difference at the current path.
  void Differ(const simdjson::dom::element* expected, const simdjson::dom::element* actual);

  std::vector<Pointer> ignore_;
  std::vector<Step> path_;        // the current path
  std::vector<uint32_t> active_;  // stack of ignore_ indices still matching, per depth
  std::vector<Member> members_;   // stack of actual objects' members
  std::vector<uint8_t> matched_;  // parallel to members_: taken by an expected member
  std::vector<uint32_t> sorted_;  // stack of member indices sorted by key (large objects)
  JsonDifference* difference_ = nullptr;
};

}  // namespace tempo::shadow
