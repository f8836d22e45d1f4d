// The L2 a process uses (`tempo serve` and `tempo sync`): which memcached
// cluster, which namespace, how long to wait for it, and opening it.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "l2/l2.h"

namespace tempo::serve {

struct L2ClientOptions {
  // Memcached nodes HOST:PORT[,HOST:PORT...]. Default: none (no L2).
  std::string servers;
  // Key namespace. Default: l2::L2Options::ns.
  std::string ns = l2::L2Options().ns;
  // The longest one L2 call may take, connecting included. Default:
  // l2::L2Options::timeout.
  int timeout_ms = static_cast<int>(l2::L2Options().timeout.count());
  // Expiry of L2 entries. Default: l2::L2Options::ttl.
  int ttl_s = static_cast<int>(l2::L2Options().ttl.count());
};

// The client `options` describe, or null when `servers` is empty.
// InvalidArgument "--l2: <reason>" for a bad server list.
Result<std::unique_ptr<l2::L2Client>> OpenL2(const L2ClientOptions& options);

}  // namespace tempo::serve
