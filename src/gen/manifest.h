// Generate with a record of intent: which lines were written to be rejected.
//
// Tests of consumers (the event decoder, the request parser, end-to-end runs)
// use it to check that exactly the deliberately broken lines fail, and with
// the error the generator meant.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gen/generator.h"

namespace tempo::gen {

struct InvalidEvent {
  uint64_t line = 0;   // 0-based line number in the event output
  std::string defect;  // what is wrong with it, e.g. "float version"
};

struct FailingRequest {
  uint64_t line = 0;  // 0-based line number in the request log
  int status = 400;   // the HTTP status it must get
  std::string code;   // the SPEC §11.5 error code, e.g. "missing_parameter"
};

struct Manifest {
  uint64_t event_lines = 0;
  std::vector<InvalidEvent> invalid_events;  // in line order
  uint64_t request_lines = 0;
  // Every request line not listed here is valid and names a generated tenant:
  // it gets a 200 (possibly with empty zones).
  std::vector<FailingRequest> failing_requests;  // in line order
};

// Generate (generator.h) that also fills `manifest` (which it clears first).
Status GenerateWithManifest(const GenOptions& options, std::ostream& events, std::ostream* requests,
                            const Progress& progress, Manifest* manifest);

}  // namespace tempo::gen
