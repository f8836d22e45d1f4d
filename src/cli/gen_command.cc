// `tempo gen`: writes a deterministic data set and request log.
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "gen/generator.h"

namespace tempo::cli {

void RegisterGen(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "gen",
      "Generate a realistic, deterministic data set (NDJSON events) and optionally a request "
      "log (one path?query a line). The same options always give the same bytes.");
  auto opts = std::make_shared<gen::GenOptions>();
  auto out_path = std::make_shared<std::string>();
  auto requests_out = std::make_shared<std::string>();
  cmd->add_option("--seed", opts->seed, "PRNG seed")->default_val(1);
  cmd->add_option("--tenants", opts->tenants, "Number of tenants")
      ->default_val(4)
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--modules", opts->modules, "Modules per tenant")
      ->default_val(200)
      ->check(CLI::Range(1, 100'000'000));
  cmd->add_option("--out", *out_path, "Event file to write")->required();
  cmd->add_option("--requests", opts->requests, "Request-log lines")
      ->default_val(0)
      ->check(CLI::Range(0, 1'000'000'000));
  cmd->add_option("--requests-out", *requests_out, "Request log file");
  cmd->callback([=] {
    if (opts->requests > 0 && requests_out->empty()) {
      std::cerr << "tempo gen: --requests needs --requests-out\n";
      *exit_code = 2;
      return;
    }
    std::ofstream events(*out_path, std::ios::binary | std::ios::trunc);
    if (!events) {
      std::cerr << "tempo gen: cannot write " << *out_path << "\n";
      *exit_code = 1;
      return;
    }
    std::ofstream requests;
    if (!requests_out->empty()) {
      requests.open(*requests_out, std::ios::binary | std::ios::trunc);
      if (!requests) {
        std::cerr << "tempo gen: cannot write " << *requests_out << "\n";
        *exit_code = 1;
        return;
      }
    }
    const bool tty = isatty(STDERR_FILENO) != 0;
    int last_percent = -1;
    auto progress = [&](uint64_t done, uint64_t total) {
      if (!tty || total == 0) return;
      const int percent = static_cast<int>(done * 100 / total);
      if (percent == last_percent) return;
      last_percent = percent;
      std::cerr << "\rtempo gen: " << percent << "% (" << done << "/" << total << ")" << std::flush;
    };
    Status st = gen::Generate(*opts, events, requests_out->empty() ? nullptr : &requests, progress);
    if (tty) std::cerr << "\n";
    const Status flushed = FlushOutput(events, *out_path);
    if (!st.ok() || !flushed.ok()) {
      std::cerr << "tempo gen: " << (st.ok() ? flushed.message() : st.ToString()) << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace tempo::cli
