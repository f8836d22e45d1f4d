// The request log: one "path?query" a line, for `tempo bench` and for tests
// that replay realistic traffic against a server.
//
// Most lines ask for pages that exist, with Zipf-skewed popularity (a few
// pages are hot, the tail is long), targeting attributes, zones, forced
// variants and unknown parameters, in v1 and v2. A few percent are built to
// fail with one specific error each (SPEC §11.5-6), and a few name unknown
// tenants. No line carries `at` (servers may run without preview).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "gen/catalog.h"
#include "gen/line_writer.h"
#include "gen/manifest.h"

namespace tempo::gen {

// Writes `count` request lines for `tenants` to `writer`. Lines built to fail
// are appended to `failing` (unless it is null) with their 0-based line
// number in the log.
// `tick(n)` is called after every n lines written.
void WriteRequestLog(uint64_t seed, const std::vector<TenantPlan>& tenants, uint64_t count,
                     LineWriter* writer, std::vector<FailingRequest>* failing,
                     const std::function<void(uint64_t lines)>& tick);

}  // namespace tempo::gen
