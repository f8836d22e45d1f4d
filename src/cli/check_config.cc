// MaskSetting, the --check-config option and its listing.
#include "cli/check_config.h"

#include <algorithm>
#include <iostream>

#include "kafka/properties.h"
#include "serve/store_uri.h"

namespace tempo::cli {

std::string MaskSetting(const std::string& key, const std::string& value) {
  if (key == "store") return serve::RedactStoreUri(value);
  if (key == "kafka-property") {
    std::string masked;
    size_t begin = 0;
    while (begin <= value.size()) {
      const size_t end = std::min(value.find(',', begin), value.size());
      const std::string item = value.substr(begin, end - begin);
      const size_t eq = item.find('=');
      if (!masked.empty()) masked.push_back(',');
      masked +=
          eq == std::string::npos
              ? item
              : item.substr(0, eq + 1) + kafka::ShownValue(item.substr(0, eq), item.substr(eq + 1));
      begin = end + 1;
    }
    return masked;
  }
  return value;
}

void AddCheckConfigOption(CLI::App* cmd, bool* check) {
  cmd->add_flag("--check-config", *check,
                "Check every setting as a start would (without binding, connecting or opening "
                "the store), print the configuration in effect with secrets masked, and exit "
                "0, or 2 on a bad setting");
}

void PrintCheckedConfig(const CLI::App& cmd, const std::string& command,
                        const std::string& config) {
  std::cout << "# tempo " << command << ": the configuration in effect (flags, TEMPO_* variables, "
            << (config.empty() ? std::string("no --config file") : "--config " + config)
            << ", defaults); secrets masked\n"
            << DescribeSettings(cmd, MaskSetting) << std::flush;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) {
    if (!joined.empty()) joined += ", ";
    joined += name;
  }
  return joined;
}

std::string ReloadLine(const std::vector<std::string>& changed,
                       const std::vector<std::string>& applied,
                       const std::vector<std::string>& restart,
                       const std::vector<std::string>& failures) {
  std::string line = "reload: ";
  line += changed.empty() ? "no setting changed" : "changed: " + JoinNames(changed);
  if (!applied.empty()) line += "; applied: " + JoinNames(applied);
  if (!restart.empty()) line += "; need a restart to take effect: " + JoinNames(restart);
  for (const std::string& failure : failures) line += "; failed: " + failure;
  return line;
}

}  // namespace tempo::cli
