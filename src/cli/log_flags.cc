// The log flags (log_flags.h).
#include "cli/log_flags.h"

#include "common/logging.h"

namespace tempo::cli {
namespace {

// A CLI11 check that runs `parse` (ParseLogLevel, ParseLogFormat), so that
// the command line and the config file accept what the logger does.
template <typename Parse>
CLI::Validator Accepts(Parse parse, std::string description) {
  return CLI::Validator(
      [parse](std::string& value) -> std::string {
        auto parsed = parse(value);
        return parsed.ok() ? std::string() : parsed.status().message();
      },
      std::move(description));
}

}  // namespace

void AddLogFlags(CLI::App* cmd, LogFlags* flags, bool with_access_log) {
  cmd->add_option("--log-level", flags->level,
                  "Least level of the process log's lines: debug, info, warn or error")
      ->capture_default_str()
      ->check(Accepts(ParseLogLevel, "LEVEL"));
  cmd->add_option("--log-format", flags->format,
                  "Format of the process log and the access log: text (for people) or json (one "
                  "object per line, for log pipelines)")
      ->capture_default_str()
      ->check(Accepts(ParseLogFormat, "FORMAT"));
  if (!with_access_log) return;
  cmd->add_option("--access-log", flags->access_log,
                  "Access log, one line per request: off, stderr or a FILE (appended to; "
                  "reopened on SIGHUP, for log rotation)")
      ->capture_default_str();
  cmd->add_option("--access-log-sample", flags->access_log_sample,
                  "Fraction of requests the access log records, 0 to 1")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
}

Status ApplyLogFlags(const LogFlags& flags) {
  auto level = ParseLogLevel(flags.level);
  if (!level.ok()) return level.status();
  auto format = ParseLogFormat(flags.format);
  if (!format.ok()) return format.status();
  LogOptions options;
  options.level = *level;
  options.format = *format;
  return ConfigureLogging(options);
}

Result<std::unique_ptr<http::AccessLog>> OpenAccessLog(const LogFlags& flags) {
  auto format = ParseLogFormat(flags.format);
  if (!format.ok()) return format.status();
  return http::AccessLog::Open(flags.access_log, flags.access_log_sample, *format);
}

}  // namespace tempo::cli
