// The `tempo` subcommands (SPEC §1). Each Register* adds one CLI11 subcommand
// whose callback runs the command and stores its exit code in *exit_code.
#pragma once

#include <CLI/CLI.hpp>

namespace tempo::cli {

void RegisterImport(CLI::App& app, int* exit_code);
void RegisterExport(CLI::App& app, int* exit_code);
void RegisterGen(CLI::App& app, int* exit_code);
void RegisterEval(CLI::App& app, int* exit_code);
void RegisterServe(CLI::App& app, int* exit_code);
void RegisterSync(CLI::App& app, int* exit_code);
void RegisterPublish(CLI::App& app, int* exit_code);
void RegisterDevKafka(CLI::App& app, int* exit_code);
void RegisterMigrate(CLI::App& app, int* exit_code);
void RegisterReconcile(CLI::App& app, int* exit_code);
void RegisterEdgeConfig(CLI::App& app, int* exit_code);
void RegisterProbe(CLI::App& app, int* exit_code);
void RegisterExplain(CLI::App& app, int* exit_code);
void RegisterInvalidate(CLI::App& app, int* exit_code);
void RegisterBench(CLI::App& app, int* exit_code);

}  // namespace tempo::cli
