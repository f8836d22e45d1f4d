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
