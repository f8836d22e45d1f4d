// Opening the L2 client.
#include "serve/l2_client.h"

#include <utility>

namespace tempo::serve {

Result<std::unique_ptr<l2::L2Client>> OpenL2(const L2ClientOptions& options) {
  if (options.servers.empty()) return std::unique_ptr<l2::L2Client>();
  auto servers = l2::ParseServerList(options.servers);
  if (!servers.ok()) return Status::InvalidArgument("--l2: " + servers.status().message());
  l2::L2Options l2_options;
  l2_options.servers = std::move(servers).value();
  l2_options.ns = options.ns;
  l2_options.timeout = std::chrono::milliseconds(options.timeout_ms);
  l2_options.ttl = std::chrono::seconds(options.ttl_s);
  return l2::L2Client::Open(l2_options);
}

}  // namespace tempo::serve
