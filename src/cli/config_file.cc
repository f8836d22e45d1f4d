#include "cli/config_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <sstream>
#include <string_view>
#include <vector>

namespace tempo::cli {
namespace {

// One setting that the file applied: the option, its key and where the key is.
struct FileSetting {
  const CLI::Option* option;
  std::string key;
  YAML::Mark mark;
};

int LineOf(const YAML::Mark& mark) { return mark.line + 1; }

Status Error(const std::string& path, const YAML::Mark& mark, std::string_view key,
             std::string_view reason) {
  std::string msg = path + ":" + std::to_string(LineOf(mark)) + ": ";
  if (!key.empty()) msg.append(key).append(": ");
  msg.append(reason);
  return Status::InvalidArgument(std::move(msg));
}

// yaml-cpp keeps both entries of a key given twice (the later one would win
// silently); the second is an error naming both lines.
Status CheckDuplicateKeys(const std::string& path, const YAML::Node& root) {
  std::map<std::string, YAML::Mark> seen;
  for (const auto& entry : root) {
    if (!entry.first.IsScalar()) return Error(path, entry.first.Mark(), "", "keys must be names");
    auto [it, inserted] = seen.emplace(entry.first.Scalar(), entry.first.Mark());
    if (!inserted) {
      return Error(path, entry.first.Mark(), it->first,
                   "given twice (first on line " + std::to_string(LineOf(it->second)) + ")");
    }
  }
  return Status::OK();
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

// What `option` takes ("a non-negative integer") when `input` is not of its
// type; empty when it is, or when any text is. Checked before CLI11 converts
// the value, whose message (from a range check, say) would not say what was
// expected. The type is the first part of CLI11's type name
// ("UINT:UINT in [0 - 1024]"); a flag has none.
std::string TypeMismatch(const CLI::Option& option, const std::string& input) {
  if (option.get_expected_min() == 0) {
    bool flag = false;
    return CLI::detail::lexical_cast(input, flag) ? "" : "true or false";
  }
  const std::string full = option.get_type_name();
  const std::string_view type = std::string_view(full).substr(0, full.find(':'));
  if (type == "INT") {
    int64_t value = 0;
    return CLI::detail::lexical_cast(input, value) ? "" : "an integer";
  }
  if (type == "UINT") {
    // CLI11 reads "-1" as 2^64-1.
    uint64_t value = 0;
    const bool ok =
        !input.empty() && input.front() != '-' && CLI::detail::lexical_cast(input, value);
    return ok ? "" : "a non-negative integer";
  }
  if (type == "FLOAT") {
    double value = 0;
    return CLI::detail::lexical_cast(input, value) ? "" : "a number";
  }
  return "";
}

// Gives `value` (a scalar or a list) to `option` and runs its conversion and
// checks, as the command line would.
Status ApplySetting(const std::string& path, const std::string& key, const YAML::Node& value,
                    CLI::Option* option) {
  std::vector<std::string> inputs;
  if (!Inputs(value, &inputs)) {
    return Error(path, value.Mark(), key, "must be a value or a list of values");
  }
  for (const std::string& input : inputs) {
    if (std::string expected = TypeMismatch(*option, input); !expected.empty()) {
      return Error(path, value.Mark(), key, "expected " + expected + ", got \"" + input + "\"");
    }
  }
  try {
    for (const std::string& input : inputs) option->add_result(input);
    option->run_callback();
  } catch (const CLI::Error& e) {
    return Error(path, value.Mark(), key, e.what());
  }
  return Status::OK();
}

// How to name `option`, set in the file or on the command line, in a
// message about a conflict: "store (line 2)" or "--store (on the command
// line)".
std::string Describe(const CLI::Option* option, const std::vector<FileSetting>& applied) {
  for (const FileSetting& s : applied) {
    if (s.option == option) return s.key + " (line " + std::to_string(LineOf(s.mark)) + ")";
  }
  return "--" + option->get_single_name() + " (on the command line)";
}

// The rules between options that CLI11 checks on the command line (excludes,
// needs), checked again once the file has set its options. Pairs given on
// the command line alone were checked by CLI11 already.
Status CheckCombinations(const std::string& path, const std::vector<FileSetting>& applied) {
  for (const FileSetting& s : applied) {
    for (const CLI::Option* other : s.option->get_excludes()) {
      if (other->count() == 0) continue;
      return Error(path, s.mark, s.key, "cannot be combined with " + Describe(other, applied));
    }
    for (const CLI::Option* needed : s.option->get_needs()) {
      if (needed->count() > 0) continue;
      return Error(path, s.mark, s.key,
                   "needs " + needed->get_single_name() + " (in the file or on the command line)");
    }
  }
  return Status::OK();
}

const ConfigSection* FindSection(const std::vector<ConfigSection>& sections,
                                 const std::string& key) {
  for (const ConfigSection& section : sections) {
    if (section.key == key) return &section;
  }
  return nullptr;
}

}  // namespace

void AddConfigOption(CLI::App* cmd, std::string* path) {
  cmd->add_option("--config", *path,
                  "YAML file of settings: keys are this command's flags without the dashes; "
                  "flags on the command line win")
      ->check(CLI::ExistingFile);
}

std::string EnvironmentName(std::string_view flag) {
  std::string name = "TEMPO_";
  for (char c : flag) {
    name.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return name;
}

namespace {

// Flags that are about the invocation, not settings.
bool IsInvocationFlag(const std::string& name) {
  return name == "help" || name == "help-all" || name == "config" || name == "check-config";
}

}  // namespace

void BindEnvironment(CLI::App* cmd) {
  for (CLI::Option* option : cmd->get_options()) {
    if (option->get_lnames().empty()) continue;
    const std::string& name = option->get_lnames().front();
    if (IsInvocationFlag(name)) continue;
    option->envname(EnvironmentName(name));
    option->capture_default_str();  // the default, as DescribeSettings prints it
  }
}

std::string DescribeSettings(
    const CLI::App& cmd,
    const std::function<std::string(const std::string& key, const std::string& value)>& mask) {
  std::string out;
  for (const CLI::Option* option : cmd.get_options()) {
    if (option->get_lnames().empty()) continue;
    const std::string& name = option->get_lnames().front();
    if (IsInvocationFlag(name)) continue;
    std::string value;
    if (option->count() > 0) {
      for (const std::string& result : option->results()) {
        if (!value.empty()) value.push_back(',');
        value += result;
      }
    } else if (option->get_expected_max() == 0) {
      value = "false";  // a switch not given
    } else {
      value = option->get_default_str();
      if (value == "[]") value.clear();  // an empty list
    }
    if (mask) value = mask(name, value);
    out.append(name).append(": ");
    // Quoted when YAML would read it otherwise (empty, or a leading special).
    const bool quote = value.empty() || value.find_first_of(":#{}[],&*!|>'\"%@`") == 0 ||
                       value.find(": ") != std::string::npos ||
                       value.find(" #") != std::string::npos;
    if (quote) {
      out.push_back('"');
      for (char c : value) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
      }
      out.push_back('"');
    } else {
      out.append(value);
    }
    out.push_back('\n');
  }
  return out;
}

GivenSettings TakeGivenSettings(const CLI::App& cmd) {
  GivenSettings given;
  for (const CLI::Option* option : cmd.get_options()) {
    if (option->get_lnames().empty() || option->count() == 0) continue;
    const std::string& name = option->get_lnames().front();
    if (IsInvocationFlag(name)) continue;
    given.emplace_back(name, option->results());
  }
  return given;
}

Status ApplyGivenSettings(CLI::App* cmd, const GivenSettings& given) {
  for (const auto& [name, values] : given) {
    CLI::Option* option = cmd->get_option_no_throw("--" + name);
    if (option == nullptr) return Status::InvalidArgument("--" + name + ": no such flag");
    try {
      for (const std::string& value : values) option->add_result(value);
      option->run_callback();
    } catch (const CLI::Error& e) {
      return Status::InvalidArgument("--" + name + ": " + e.what());
    }
  }
  return Status::OK();
}

std::vector<std::string> ChangedSettings(const CLI::App& before, const CLI::App& after) {
  auto lines = [](const CLI::App& cmd) {
    std::vector<std::pair<std::string, std::string>> settings;
    std::istringstream text(DescribeSettings(cmd, nullptr));
    for (std::string line; std::getline(text, line);) {
      const size_t colon = line.find(": ");
      if (colon != std::string::npos)
        settings.emplace_back(line.substr(0, colon), line.substr(colon));
    }
    return settings;
  };
  const auto old_settings = lines(before);
  const auto new_settings = lines(after);
  std::vector<std::string> changed;
  for (const auto& setting : new_settings) {
    auto it = std::find_if(old_settings.begin(), old_settings.end(),
                           [&](const auto& s) { return s.first == setting.first; });
    if (it == old_settings.end() || it->second != setting.second) changed.push_back(setting.first);
  }
  return changed;
}

Status ApplyConfigFile(CLI::App* cmd, const std::string& path,
                       const std::vector<ConfigSection>& sections) {
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
  if (Status s = CheckDuplicateKeys(path, root); !s.ok()) return s;
  std::vector<FileSetting> applied;
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    if (const ConfigSection* section = FindSection(sections, key)) {
      try {
        if (Status s = section->apply(entry.second, path); !s.ok()) return s;
      } catch (const YAML::Exception& e) {
        return Error(path, e.mark, key, e.msg);
      }
      continue;
    }
    CLI::Option* option =
        key == "config" || key == "help" ? nullptr : cmd->get_option_no_throw("--" + key);
    if (option == nullptr) {
      return Error(path, entry.first.Mark(), key,
                   "unknown setting for `tempo " + cmd->get_name() + "`");
    }
    if (option->count() > 0) continue;  // the command line wins
    if (Status s = ApplySetting(path, key, entry.second, option); !s.ok()) return s;
    applied.push_back({option, key, entry.first.Mark()});
  }
  return CheckCombinations(path, applied);
}

}  // namespace tempo::cli
