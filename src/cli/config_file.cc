#include "cli/config_file.h"

#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace tempo::cli {
namespace {

Status Error(const std::string& path, const YAML::Mark& mark, std::string_view key,
             std::string_view reason) {
  std::string msg = path + ":" + std::to_string(mark.line + 1) + ": ";
  if (!key.empty()) msg.append(key).append(": ");
  msg.append(reason);
  return Status::InvalidArgument(std::move(msg));
}

// The strings a scalar or a sequence of scalars gives a flag.
bool Inputs(const YAML::Node& value, std::vector<std::string>* out) {
  if (value.IsScalar()) {
    out->push_back(value.Scalar());
    return true;
  }
  if (!value.IsSequence()) return false;
  for (const YAML::Node& item : value) {
    if (!item.IsScalar()) return false;
    out->push_back(item.Scalar());
  }
  return true;
}

}  // namespace

void AddConfigOption(CLI::App* cmd, std::string* path) {
  cmd->add_option("--config", *path,
                  "YAML file of settings: keys are this command's flags without the dashes; "
                  "flags on the command line win")
      ->check(CLI::ExistingFile);
}

Status ApplyConfigFile(CLI::App* cmd, const std::string& path) {
  if (path.empty()) return Status::OK();
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::ParserException& e) {
    return Error(path, e.mark, "", e.msg);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
  if (root.IsNull()) return Status::OK();  // an empty file sets nothing
  if (!root.IsMap()) return Error(path, root.Mark(), "", "must be a map of flag: value");
  for (const auto& entry : root) {
    if (!entry.first.IsScalar()) return Error(path, entry.first.Mark(), "", "keys must be names");
    const std::string key = entry.first.Scalar();
    CLI::Option* option = key == "config" || key == "help" ? nullptr
                                                           : cmd->get_option_no_throw("--" + key);
    if (option == nullptr) {
      return Error(path, entry.first.Mark(), key, "unknown setting for `tempo " +
                                                      cmd->get_name() + "`");
    }
    if (option->count() > 0) continue;  // the command line wins
    std::vector<std::string> inputs;
    if (!Inputs(entry.second, &inputs)) {
      return Error(path, entry.second.Mark(), key, "must be a value or a list of values");
    }
    try {
      for (const std::string& input : inputs) option->add_result(input);
      option->run_callback();
    } catch (const CLI::Error& e) {
      return Error(path, entry.second.Mark(), key, e.what());
    }
  }
  return Status::OK();
}

}  // namespace tempo::cli
