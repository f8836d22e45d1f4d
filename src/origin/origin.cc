// What every Origin shares: SliceKey's order and hash, the default ApplyBatch and ApplyAsBatch.
#include "origin/origin.h"

#include <functional>
#include <string_view>
#include <tuple>

namespace tempo::origin {

bool operator==(const SliceKey& a, const SliceKey& b) {
  return a.scope == b.scope && a.partition.tenant == b.partition.tenant &&
         a.partition.channel == b.partition.channel &&
         a.partition.page_type == b.partition.page_type;
}

bool operator<(const SliceKey& a, const SliceKey& b) {
  return std::tie(a.partition.tenant, a.partition.channel, a.partition.page_type, a.scope) <
         std::tie(b.partition.tenant, b.partition.channel, b.partition.page_type, b.scope);
}

size_t SliceKeyHash::operator()(const SliceKey& key) const {
  const std::hash<std::string_view> hash;
  size_t h = hash(key.partition.tenant);
  for (std::string_view part :
       {std::string_view(key.partition.channel), std::string_view(key.partition.page_type),
        std::string_view(key.scope)}) {
    h = h * 31 + hash(part);  // order-sensitive: (a, b) and (b, a) differ
  }
  return h;
}

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
