// The L2 flags.
#include "cli/l2_flags.h"

namespace tempo::cli {

void AddL2Flags(CLI::App* cmd, L2Flags* flags) {
  cmd->add_option("--l2", flags->servers,
                  "L2: memcached nodes HOST:PORT[,HOST:PORT...] (consistent hashing; every "
                  "instance must list the same nodes); none = no L2");
  cmd->add_option("--l2-namespace", flags->ns,
                  "L2 key namespace: give each runtime generation its own, so that they never "
                  "read each other's entries")
      ->default_val("default");
  cmd->add_option("--l2-timeout-ms", flags->timeout_ms,
                  "The longest one L2 call may take, connecting included (at most half of "
                  "serve's --deadline-ms; a timed-out node is suspended for a second)")
      ->default_val(5)
      ->check(CLI::Range(2, 10'000));
  cmd->add_option("--l2-ttl-s", flags->ttl_s,
                  "Expiry of L2 entries: bounds how long an entry missed by an invalidation "
                  "(a node down during sync) can be served")
      ->default_val(300)
      ->check(CLI::Range(1, 30 * 24 * 3600));
}

Result<std::unique_ptr<l2::L2Client>> OpenL2(const L2Flags& flags) {
  if (flags.servers.empty()) return std::unique_ptr<l2::L2Client>();
  auto servers = l2::ParseServerList(flags.servers);
  if (!servers.ok()) return Status::InvalidArgument("--l2: " + servers.status().message());
  l2::L2Options options;
  options.servers = std::move(servers).value();
  options.ns = flags.ns;
  options.timeout = std::chrono::milliseconds(flags.timeout_ms);
  options.ttl = std::chrono::seconds(flags.ttl_s);
  return l2::L2Client::Open(options);
}

sync::Syncer::Observer RewriteInL2(l2::SliceRewriter* rewriter) {
  return [rewriter](const std::vector<sync::SliceTouch>& touches) {
    std::vector<origin::SliceKey> slices;
    slices.reserve(touches.size());
    for (const sync::SliceTouch& touch : touches) slices.push_back(touch.slice);
    rewriter->Rewrite(slices);
  };
}

}  // namespace tempo::cli
