// Choosing the event stream on the command line: Kafka (--brokers) or the
// embedded log (--log DIR), for `tempo publish`, `tempo sync` and `tempo
// serve`. Opening it: serve/stream_options.h.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "serve/stream_options.h"

namespace tempo::cli {

// Adds --brokers and --log (mutually exclusive) to `cmd`. `what` says what
// the command does with the stream, for the help text.
void AddStreamFlags(CLI::App* cmd, serve::StreamOptions* options, const std::string& what);

}  // namespace tempo::cli
