// The L2 flags shared by `tempo serve` and `tempo sync` (which memcached
// cluster, which namespace, how long to wait for it), and sync's L2 hook.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "common/status.h"
#include "l2/l2.h"
#include "l2/slice_rewriter.h"
#include "sync/syncer.h"

namespace tempo::cli {

struct L2Flags {
  std::string servers;  // --l2 HOST:PORT[,HOST:PORT...]; empty: no L2
  std::string ns = "default";
  int timeout_ms = 5;
  int ttl_s = 300;
};

// Adds --l2, --l2-namespace, --l2-timeout-ms and --l2-ttl-s to `cmd`.
void AddL2Flags(CLI::App* cmd, L2Flags* flags);

// The client the flags describe, or null when --l2 was not given.
// InvalidArgument names the bad flag.
Result<std::unique_ptr<l2::L2Client>> OpenL2(const L2Flags& flags);

// The Syncer observer that has `rewriter` rewrite every touched slice in L2.
// REQUIRES: rewriter outlives the observer.
sync::Syncer::Observer RewriteInL2(l2::SliceRewriter* rewriter);

}  // namespace tempo::cli
