// The L2 flags shared by `tempo serve` and `tempo sync` (which memcached
// cluster, which namespace, how long to wait for it). Opening it:
// serve/l2_client.h.
#pragma once

#include <CLI/CLI.hpp>

#include "serve/l2_client.h"

namespace tempo::cli {

// Adds --l2, --l2-namespace, --l2-timeout-ms and --l2-ttl-s to `cmd`, bound
// to `options`, whose values are the defaults.
void AddL2Flags(CLI::App* cmd, serve::L2ClientOptions* options);

}  // namespace tempo::cli
