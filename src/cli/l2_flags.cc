// The L2 flags.
#include "cli/l2_flags.h"

namespace tempo::cli {

void AddL2Flags(CLI::App* cmd, serve::L2ClientOptions* options) {
  cmd->add_option("--l2", options->servers,
                  "L2: memcached nodes HOST:PORT[,HOST:PORT...] (consistent hashing; every "
                  "instance must list the same nodes); none = no L2");
  cmd->add_option("--l2-namespace", options->ns,
                  "L2 key namespace: give each runtime generation its own, so that they never "
                  "read each other's entries")
      ->capture_default_str();
  cmd->add_option("--l2-timeout-ms", options->timeout_ms,
                  "The longest one L2 call may take, connecting included (at most half of "
                  "serve's --deadline-ms; a timed-out node is suspended for a second)")
      ->capture_default_str()
      ->check(CLI::Range(2, 10'000));
  cmd->add_option("--l2-ttl-s", options->ttl_s,
                  "Expiry of L2 entries: bounds how long an entry missed by an invalidation "
                  "(a node down during sync) can be served")
      ->capture_default_str()
      ->check(CLI::Range(1, 30 * 24 * 3600));
}

}  // namespace tempo::cli
