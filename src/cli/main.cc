// tempo: the single binary of Tempo Runtime; dispatches to a subcommand.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Tempo Runtime: serves the prioritized content modules of a page.", "tempo"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  int exit_code = 0;
  tempo::cli::RegisterServe(app, &exit_code);
  tempo::cli::RegisterSync(app, &exit_code);
  tempo::cli::RegisterPublish(app, &exit_code);
  tempo::cli::RegisterImport(app, &exit_code);
  tempo::cli::RegisterExport(app, &exit_code);
  tempo::cli::RegisterGen(app, &exit_code);
  tempo::cli::RegisterEval(app, &exit_code);
  tempo::cli::RegisterMigrate(app, &exit_code);
  tempo::cli::RegisterReconcile(app, &exit_code);
  tempo::cli::RegisterEdgeConfig(app, &exit_code);
  tempo::cli::RegisterDevKafka(app, &exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
