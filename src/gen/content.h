// Module content, odd JSON values and targeting conditions, written as raw JSON.
//
// Content is opaque to the runtime and must come back byte-for-byte
// equivalent (SPEC §11.17), so it deliberately carries what breaks careless
// code: non-ASCII text, every string escape, number spellings that a
// parse-and-print round trip would change, deep nesting and whitespace.
#pragma once

#include <string>
#include <string_view>

#include "gen/rng.h"

namespace tempo::gen {

// Appends a content object for a module of `module_type` ("banner", ...).
// `spaced` writes it with whitespace after ':' and ',' (still valid JSON).
void AppendContent(Rng& rng, std::string_view module_type, bool spaced, std::string* out);

// Appends one JSON value from a table of awkward spellings ("1E-2", "-2.50",
// 20-digit integers, "\u00e9", "\/", surrogate pairs, nested arrays, ...).
void AppendOddValue(Rng& rng, std::string* out);

// Appends a GrowthBook condition object over the request attributes
// (segment, geo, device, appVersion, age, tags, userId and the built-ins),
// using most operators, dot paths, nesting of $and/$or/$nor/$not.
void AppendCondition(Rng& rng, std::string* out);

}  // namespace tempo::gen
