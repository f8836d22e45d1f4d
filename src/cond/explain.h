// Why a condition is false: the parts of it that fail and the attribute
// values they read, for `tempo explain` (api/explain.h). Never on the
// request path: it parses and compiles the condition again, part by part.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cond/value.h"

namespace tempo::cond {

// One top-level entry of a condition object that is false on its own.
struct FailingPart {
  // The entry as a condition of its own, JSON: {"<key>":<value>}.
  std::string condition_json;
  // The attribute paths the entry reads (its key, or for $or/$and/$nor/$not
  // the keys inside) and the values it saw there, as a JSON object
  // {"<path>":<value>}; an absent attribute is null.
  std::string seen_json;
};

// A condition is an implicit $and of its top-level entries, so when it is
// false at least one entry is false alone (or the condition throws, e.g.
// {"$and":null}, which counts as false: then every entry that throws is
// listed). Returns those entries, in document order; empty when the
// condition holds. InvalidArgument when `condition_json` is not a JSON object.
Result<std::vector<FailingPart>> FailingParts(std::string_view condition_json,
                                              const Value& attributes);

// Appends `value` as JSON text (numbers as JavaScript prints them; a
// non-finite number as null, as JSON.stringify does).
void AppendValueJson(const Value& value, std::string* out);

}  // namespace tempo::cond
