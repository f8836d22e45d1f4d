// YAML configuration files for the `tempo` subcommands (`--config FILE`).
//
// A config file is a YAML map whose keys are the subcommand's long flags
// without the dashes, with the same meaning and checks as on the command
// line; a flag given on the command line wins over the file. Lists are YAML
// sequences (or the comma-separated string the flag accepts). Example for
// `tempo serve`:
//
//   store: postgres://tempo@127.0.0.1:5432/tempo
//   listen: 0.0.0.0:8080
//   admin-listen: 127.0.0.1:9090
//   l1-mb: 512
//   l2: [10.0.0.1:11211, 10.0.0.2:11211, 10.0.0.3:11211]
//   l2-namespace: gen7
//   brokers: kafka-1:9092,kafka-2:9092
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace YAML {
class Node;
}

namespace tempo::cli {

// A key of the file that is not a flag but a structure of its own
// (`tenant_groups`, `tenant_limits`, `kafka`): its value is handed to
// `apply` with the file's path, whose messages must name the file, line and
// key ("FILE:LINE: KEY: reason", YAML::Node::Mark gives the line). The
// command line has no say over a section.
struct ConfigSection {
  std::string key;
  std::function<Status(const YAML::Node& value, const std::string& path)> apply;
};

// Adds `--config FILE` to `cmd`; the file's path is stored in *path.
void AddConfigOption(CLI::App* cmd, std::string* path);

// The environment variable of a flag: TEMPO_ and the flag's long name in
// upper case with '-' as '_' ("l1-mb": TEMPO_L1_MB).
std::string EnvironmentName(std::string_view flag);

// Lets every long flag of `cmd` (but --config, --help and
// --check-config) also come from its environment variable (EnvironmentName),
// with the same conversion and checks. Call it after the flags are added.
// Where a setting comes from, first found wins: the command line, the
// environment, the --config file (ApplyConfigFile sets only what neither
// set), the default. An empty variable counts as unset. Also records each
// flag's default (from the variable it is bound to, so call it before
// parsing) for DescribeSettings and --help.
void BindEnvironment(CLI::App* cmd);

// The settings given on the command line or in the environment, as
// (flag name, values): what a configuration reload keeps while it re-reads
// the file. Take them after parsing and before ApplyConfigFile.
using GivenSettings = std::vector<std::pair<std::string, std::vector<std::string>>>;
GivenSettings TakeGivenSettings(const CLI::App& cmd);

// Sets `given` on `cmd` (a fresh command with the same flags), running each
// option's conversion and checks; then ApplyConfigFile completes it as at
// start. InvalidArgument naming the flag when one no longer converts.
Status ApplyGivenSettings(CLI::App* cmd, const GivenSettings& given);

// The names of the settings whose values differ between two commands with
// the same flags (as DescribeSettings shows them), in flag order.
std::vector<std::string> ChangedSettings(const CLI::App& before, const CLI::App& after);

// The settings of `cmd` in effect, one "key: value" line each (the file's
// keys; lists comma-joined), every flag included (defaults too), in the
// order the flags were added; `mask` may rewrite a value before it is
// printed (secrets: a store URI's password, a Kafka secret). For
// --check-config.
std::string DescribeSettings(
    const CLI::App& cmd,
    const std::function<std::string(const std::string& key, const std::string& value)>& mask);

// Applies the YAML file at `path` to the options of `cmd` that the command
// line did not set, running their conversions and checks, then the rules
// between options (CLI11 excludes and needs) over the file and the command
// line together. Call it first in the subcommand's callback.
// InvalidArgument "FILE:LINE: KEY: reason" for an unknown key, a key given
// twice (naming both lines), a value not of the option's type ("expected a
// non-negative integer, got \"lots\""), a value that fails its check, a
// pair of settings the command line would reject (naming both), or
// malformed YAML. A key of `sections` goes to its section's `apply`.
Status ApplyConfigFile(CLI::App* cmd, const std::string& path,
                       const std::vector<ConfigSection>& sections = {});

}  // namespace tempo::cli
