// libFuzzer target for the YAML config loader (config_file.h): arbitrary
// bytes as a `--config` file, applied with ApplyConfigFile to a command with
// one flag of each kind `tempo serve` has (strings, switches, integers and
// sizes with ranges, a list, a pair that excludes each other) and its real
// sections (tenant_groups, tenant_limits, kafka) and stream flags.
//
// Beyond "no crash", it checks that a failure is InvalidArgument naming the
// file, and that the settings it gave, given again to a fresh command (as a
// configuration reload does with the command line's), convert and check to
// the same settings.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli/config_file.h"
#include "cli/stream_flags.h"
#include "config/tenant_groups.h"
#include "config/tenant_limits.h"
#include "testing/fuzz_check.h"

namespace {

using tempo::Status;
using tempo::cli::ApplyConfigFile;
using tempo::cli::ApplyGivenSettings;
using tempo::cli::ConfigSection;
using tempo::cli::DescribeSettings;
using tempo::cli::TakeGivenSettings;
using tempo::testing::FuzzCheck;

// The settings a command's flags are bound to.
struct Settings {
  std::string store;
  std::string listen = "127.0.0.1:8080";
  bool embedded = false;
  bool allow_preview = false;
  int threads = 0;
  size_t l1_mb = 256;
  int64_t l1_ttl_ms = 60'000;
  double sample = 1.0;
  std::vector<std::string> l2;
  tempo::serve::StreamOptions stream;
  std::unique_ptr<tempo::config::TenantGroups> groups;
  std::map<std::string, tempo::config::TenantLimit> limits;
};

// A command with flags of every kind and the sections of `tempo serve`.
struct Command {
  CLI::App app;
  CLI::App* cmd = nullptr;
  Settings settings;
  std::vector<ConfigSection> sections;

  Command() {
    cmd = app.add_subcommand("serve");
    Settings& s = settings;
    cmd->add_option("--store", s.store, "store");
    cmd->add_option("--listen", s.listen, "listener")->capture_default_str();
    cmd->add_flag("--embedded", s.embedded, "embedded")->excludes("--store");
    cmd->add_flag("--allow-preview", s.allow_preview, "preview");
    cmd->add_option("--threads", s.threads, "threads")
        ->capture_default_str()
        ->check(CLI::Range(0, 1024));
    cmd->add_option("--l1-mb", s.l1_mb, "MiB")
        ->capture_default_str()
        ->check(CLI::Range(size_t{0}, size_t{1} << 20));
    cmd->add_option("--l1-ttl-ms", s.l1_ttl_ms, "ms")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}));
    cmd->add_option("--access-log-sample", s.sample, "fraction")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--l2", s.l2, "servers")->delimiter(',');
    tempo::cli::AddStreamFlags(cmd, &s.stream, "read from");
    sections = {
        {"tenant_groups",
         [this](const YAML::Node& value, const std::string& path) -> Status {
           auto groups = tempo::config::TenantGroups::Parse(value, path);
           if (!groups.ok()) return groups.status();
           settings.groups = std::make_unique<tempo::config::TenantGroups>(std::move(*groups));
           return Status::OK();
         }},
        {"tenant_limits",
         [this](const YAML::Node& value, const std::string& path) -> Status {
           auto limits = tempo::config::ParseTenantLimits(value, path);
           if (!limits.ok()) return limits.status();
           settings.limits = std::move(*limits);
           return Status::OK();
         }},
        tempo::cli::KafkaConfigSection(&settings.stream),
    };
  }
};

std::string* config_path = nullptr;

void WriteFile(const std::string& path, const char* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data, static_cast<std::streamsize>(size));
  FuzzCheck(out.good());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char dir[] = "/tmp/tempo-config-fuzz.XXXXXX";
  FuzzCheck(mkdtemp(dir) != nullptr);
  config_path = new std::string(std::string(dir) + "/serve.yaml");
  // libFuzzer ends a run with exit(): leave no directory behind.
  std::atexit([] {
    std::remove(config_path->c_str());
    rmdir(config_path->substr(0, config_path->rfind('/')).c_str());
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = *config_path;
  WriteFile(path, reinterpret_cast<const char*>(data), size);
  Command first;
  const Status status = ApplyConfigFile(first.cmd, path, first.sections);
  if (!status.ok()) {
    FuzzCheck(status.code() == Status::Code::kInvalidArgument);
    FuzzCheck(status.message().rfind(path + ":", 0) == 0);
  }
  if (!status.ok()) return 0;

  // Giving the settings again to a fresh command, as a configuration reload
  // gives the command line's, converts and checks to the same settings.
  const std::string described = DescribeSettings(*first.cmd, nullptr);
  Command third;
  FuzzCheck(ApplyGivenSettings(third.cmd, TakeGivenSettings(*first.cmd)).ok());
  FuzzCheck(DescribeSettings(*third.cmd, nullptr) == described);
  return 0;
}
