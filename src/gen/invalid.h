// Events that every consumer must reject (SPEC §6, §11.15): wrong schema,
// unknown kind or op, a record that is not an object, missing or mistyped
// fields, versions that are not integer literals in 1..2^63-1, unparseable
// schedule instants.
//
// Each is still a JSON object with "schema", "kind", "op" and "record"
// members, so only a decoder that applies the rules catches it. Records reuse
// the ids of real records at a high version: a consumer that wrongly accepts
// one serves visibly different data.
#pragma once

#include <string>
#include <string_view>

#include "gen/catalog.h"
#include "gen/rng.h"

namespace tempo::gen {

// Appends one invalid envelope (no newline) about `tenant`'s records and
// returns a short name of its defect, e.g. "float version".
std::string_view AppendInvalidEvent(Rng& rng, const TenantPlan& tenant,
                                    std::string_view published_at, std::string* out);

}  // namespace tempo::gen
