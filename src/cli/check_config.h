// What `tempo serve` and `tempo sync` share for --check-config and for a
// SIGHUP reload of their configuration.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "cli/config_file.h"

namespace tempo::cli {

// A setting as --check-config prints it: without secrets (a store URI's
// password, a Kafka secret property's value).
std::string MaskSetting(const std::string& key, const std::string& value);

// Adds `--check-config` to `cmd`, stored in *check.
void AddCheckConfigOption(CLI::App* cmd, bool* check);

// Prints the configuration in effect (DescribeSettings, masked) on stdout
// under a comment naming `command` and where settings came from.
void PrintCheckedConfig(const CLI::App& cmd, const std::string& command, const std::string& config);

// "a, b, c".
std::string JoinNames(const std::vector<std::string>& names);

// The one line a SIGHUP reload logs: "reload: changed: ...; applied: ...;
// need a restart to take effect: ...; failed: ..." (empty parts left out).
std::string ReloadLine(const std::vector<std::string>& changed,
                       const std::vector<std::string>& applied,
                       const std::vector<std::string>& restart,
                       const std::vector<std::string>& failures);

}  // namespace tempo::cli
