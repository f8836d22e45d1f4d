// `tempo edge-config`: prints the nginx configuration of the edge.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"
#include "config/tenant_groups.h"
#include "edge/edge.h"

namespace tempo::cli {
namespace {

// Exit codes: 2 for a usage or configuration error, 1 when the text cannot
// be written.
constexpr int kExitUsage = 2;
constexpr int kExitOutput = 1;

struct Flags {
  std::string config;
  std::string groups;
  std::vector<std::string> upstreams;
  edge::EdgeOptions options;
};

// nginx reads a relative path from its prefix, not from where this command
// ran: make every path absolute.
void MakeAbsolute(std::string* path) {
  if (path->empty()) return;
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(*path, ec);
  if (!ec) *path = absolute.lexically_normal().string();
}

int RunEdgeConfig(Flags& flags) {
  const std::string& file = flags.config.empty() ? flags.groups : flags.config;
  auto groups = config::TenantGroups::Load(file);
  if (!groups.ok()) {
    std::cerr << "tempo edge-config: " << groups.status().message() << "\n";
    return kExitUsage;
  }
  edge::EdgeOptions& options = flags.options;
  for (const std::string& value : flags.upstreams) {
    auto upstream = edge::ParseUpstream(value);
    if (!upstream.ok()) {
      std::cerr << "tempo edge-config: " << upstream.status().message() << "\n";
      return kExitUsage;
    }
    options.upstreams.push_back(std::move(*upstream));
  }
  for (std::string* path : {&options.tls_cert, &options.tls_key, &options.upstream_ca,
                            &options.upstream_tls_cert, &options.upstream_tls_key}) {
    MakeAbsolute(path);
  }
  auto text = edge::GenerateNginxConfig(*groups, options);
  if (!text.ok()) {
    std::cerr << "tempo edge-config: " << text.status().message() << " (tenant groups of " << file
              << ")\n";
    return kExitUsage;
  }
  std::cout << *text;
  if (Status s = FlushOutput(std::cout, "stdout"); !s.ok()) {
    std::cerr << "tempo edge-config: " << s.message() << "\n";
    return kExitOutput;
  }
  return 0;
}

}  // namespace

void RegisterEdgeConfig(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "edge-config",
      "Print the nginx configuration of the edge (SPEC §9): only GET and HEAD of "
      "/api/v1/tempo/layouts and /api/v2/tempo/layouts pass, each to its tenant group's "
      "instances by the tenant parameter; every other path, method and spelling is answered by "
      "nginx with the API's JSON error. Exits 2 on a configuration error.");
  auto flags = std::make_shared<Flags>();
  edge::EdgeOptions& o = flags->options;
  auto* config = cmd->add_option("--config", flags->config,
                                 "YAML file whose tenant_groups key lists the groups (other keys, "
                                 "such as those of tempo serve, are ignored)");
  auto* groups = cmd->add_option("--groups", flags->groups,
                                 "YAML file holding only tenant_groups (instead of --config)");
  config->excludes(groups);
  groups->excludes(config);
  cmd->add_option("--upstream", flags->upstreams,
                  "GROUP=HOST:PORT[,HOST:PORT...]: the tempo serve instances of a group; once per "
                  "group, every group needs one")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--listen", o.listen,
                  "ADDR:PORT (or PORT) nginx listens on; default 0.0.0.0:80, 0.0.0.0:443 with "
                  "--tls-cert");
  cmd->add_option("--server-name", o.server_name, "nginx server_name; default: any Host");
  cmd->add_option("--tls-cert", o.tls_cert, "PEM certificate chain: TLS 1.2/1.3 on the listener");
  cmd->add_option("--tls-key", o.tls_key, "PEM private key of --tls-cert");
  cmd->add_option("--upstream-ca", o.upstream_ca,
                  "PEM CA bundle: TLS to the instances, whose certificates must chain to it");
  cmd->add_option("--upstream-tls-cert", o.upstream_tls_cert,
                  "PEM client certificate the edge presents to the instances (mutual TLS; needs "
                  "--upstream-ca)");
  cmd->add_option("--upstream-tls-key", o.upstream_tls_key,
                  "PEM private key of --upstream-tls-cert");
  cmd->add_option("--upstream-tls-name", o.upstream_tls_name,
                  "Name the instances' certificates must carry (and SNI); default: the host of "
                  "each group's first server");
  cmd->add_option("--upstream-keepalive", o.upstream_keepalive,
                  "Idle keep-alive connections per nginx worker and group")
      ->default_val(32)
      ->check(CLI::Range(1, 10000));
  cmd->add_flag("--snippet", o.snippet,
                "Print only the http-level blocks (maps, upstreams, server) to include in an "
                "existing nginx.conf's http {}; default: a complete nginx.conf");
  cmd->callback([flags, exit_code] {
    if (flags->config.empty() && flags->groups.empty()) {
      std::cerr
          << "tempo edge-config: give the tenant groups with --config FILE or --groups FILE\n";
      *exit_code = kExitUsage;
      return;
    }
    *exit_code = RunEdgeConfig(*flags);
  });
}

}  // namespace tempo::cli
