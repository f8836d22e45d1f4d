// Per-tenant request limits (issue 15 §4): the overrides of `tempo serve
// --tenant-rate N --tenant-burst N`, one tenant at a time.
//
// In YAML, under the key `tenant_limits` of a `--config` file:
//
//   tenant_limits:
//     ACME: {rate: 5000, burst: 10000}
//     Globex: {rate: 200}          # burst defaults to the rate (1 s of it)
//
// Rules (each broken one is an error naming the file, line and key): a map
// of tenant name ([A-Za-z0-9_.-]+) to a map with `rate` (requests per
// second, an integer from 1 to 1e9) and optionally `burst` (an integer from
// 1 to 1e9); no other keys; a tenant given once.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"

namespace YAML {
class Node;
}

namespace tempo::config {

// A token bucket's size: `rate` tokens a second, at most `burst` held.
// rate 0 means no limit.
struct TenantLimit {
  int64_t rate = 0;
  int64_t burst = 0;  // 0: the rate (one second's worth)
};

// The most a rate or burst may be: one token a nanosecond.
inline constexpr int64_t kMaxTenantRate = 1'000'000'000;

// Parses the value of `tenant_limits`. `path` names the file in messages:
// "FILE:LINE: tenant_limits.ACME.rate: reason".
Result<std::map<std::string, TenantLimit>> ParseTenantLimits(const YAML::Node& value,
                                                             const std::string& path);

}  // namespace tempo::config
