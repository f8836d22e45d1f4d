// The log flags of the long-running commands (`tempo serve`, `tempo sync`):
// the process log's level and format (common/logging.h) and, for `serve`,
// the access log (http/access_log.h).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "common/status.h"
#include "http/access_log.h"

namespace tempo::cli {

// The flags' values; the initial values are their defaults.
struct LogFlags {
  // --log-level: debug, info, warn or error. Default: info.
  std::string level = "info";
  // --log-format: text or json (the access log's too). Default: text.
  std::string format = "text";
  // --access-log: off, stderr or a file path. Default: off.
  std::string access_log = "off";
  // --access-log-sample: the fraction of requests logged, 0 to 1. Default: 1.
  double access_log_sample = 1.0;
};

// Adds --log-level and --log-format to `cmd`, bound to `flags`, checked as
// they are parsed (an unknown value names the accepted ones); with
// `with_access_log`, also --access-log and --access-log-sample (0 to 1).
void AddLogFlags(CLI::App* cmd, LogFlags* flags, bool with_access_log);

// Configures the process log (ConfigureLogging) with flags.level and
// flags.format. InvalidArgument, naming the accepted values, for an unknown
// level or format (possible when the values did not come through AddLogFlags'
// checks); the logger is unchanged then. Call it first in the command, and
// again on SIGHUP with the reloaded flags.
Status ApplyLogFlags(const LogFlags& flags);

// Opens the access log the flags describe (http::AccessLog::Open, in
// flags.format): null for "off". InvalidArgument or IOError as Open and
// ParseLogFormat.
Result<std::unique_ptr<http::AccessLog>> OpenAccessLog(const LogFlags& flags);

}  // namespace tempo::cli
