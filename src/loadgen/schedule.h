// SendSchedule: when each request of one connection is meant to be sent (loadgen.h).
#pragma once

#include <chrono>
#include <cstdint>

namespace tempo::loadgen {

using Clock = std::chrono::steady_clock;

// Connection `index` of `connections` sends its k-th request at
// start + (index + k * connections) / rate: together the connections send `rate` requests a
// second, one every 1/rate seconds, in turn. Computed from k rather than by adding intervals,
// so that rounding never accumulates over a long run. A value type.
class SendSchedule {
 public:
  // REQUIRES: rate_per_s > 0, 0 <= index < connections.
  SendSchedule(Clock::time_point start, double rate_per_s, int connections, int index)
      : start_(start),
        ns_per_request_(1e9 / rate_per_s),
        connections_(connections),
        index_(index) {}

  // The intended send time of the k-th request (k from 0).
  Clock::time_point At(uint64_t k) const {
    const double ordinal = static_cast<double>(index_) + static_cast<double>(k) * connections_;
    return start_ + std::chrono::nanoseconds(static_cast<int64_t>(ordinal * ns_per_request_));
  }

  // The number of requests whose intended time is before `t` (the first k with At(k) >= t).
  uint64_t CountBefore(Clock::time_point t) const {
    uint64_t k = 0;
    const double per_turn = ns_per_request_ * connections_;
    const double span = static_cast<double>((t - At(0)).count());
    if (span > 0) k = static_cast<uint64_t>(span / per_turn);
    while (k > 0 && At(k - 1) >= t) --k;  // rounding: step to the exact boundary
    while (At(k) < t) ++k;
    return k;
  }

 private:
  Clock::time_point start_;
  double ns_per_request_;
  int connections_;
  int index_;
};

}  // namespace tempo::loadgen
