// `tempo gen`: a realistic, deterministic content data set and request log.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>

#include "common/status.h"

namespace tempo::gen {

struct GenOptions {
  uint64_t seed = 1;
  int tenants = 4;
  int modules = 200;  // modules per tenant
  int requests = 0;   // request-log lines to write (0 = none)
};

// Called now and then with (done, total) work units, for a progress bar.
using Progress = std::function<void(uint64_t done, uint64_t total)>;

// Writes NDJSON event envelopes (SPEC §6) to `events` and, when `requests` is
// non-null and options.requests > 0, a request log (one "path?query" a line)
// to `requests`. The same options always produce the same bytes.
Status Generate(const GenOptions& options, std::ostream& events, std::ostream* requests,
                const Progress& progress);

}  // namespace tempo::gen
