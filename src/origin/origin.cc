// What every Origin shares: the default ApplyBatch and ApplyAsBatch.
#include "origin/origin.h"

#include <functional>
#include <string_view>
#include <tuple>

namespace tempo::origin {

Result<ApplyOutcome> Origin::ApplyAsBatch(const events::Event& event,
                                          std::vector<SliceKey>* touched) {
  const events::Event* const one[] = {&event};
  std::vector<ApplyResult> results;
  if (Status s = ApplyBatch(one, &results, touched); !s.ok()) return s;
  if (!results[0].status.ok()) return results[0].status;
  return results[0].outcome;
}

Status Origin::ApplyBatch(std::span<const events::Event* const> events,
                          std::vector<ApplyResult>* results, std::vector<SliceKey>* touched,
                          bool /*record_pending*/) {
  results->clear();
  for (const events::Event* event : events) {
    const size_t before = touched == nullptr ? 0 : touched->size();
    Result<ApplyOutcome> outcome = Apply(*event, touched);
    if (outcome.ok()) {
      const size_t after = touched == nullptr ? 0 : touched->size();
      results->push_back({Status::OK(), *outcome, after - before});
    } else if (outcome.status().code() == Status::Code::kInvalidArgument) {
      results->push_back({outcome.status(), ApplyOutcome::kStale, 0});
    } else {
      return outcome.status();  // the events before it stay applied: *results says which
    }
  }
  return Status::OK();
}

}  // namespace tempo::origin
