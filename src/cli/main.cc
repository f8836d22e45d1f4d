// tempo: the single binary of Tempo Runtime; dispatches to a subcommand.
#include <CLI/CLI.hpp>
#include <string>

#include "cli/commands.h"
#include "common/version.h"

namespace {

// A usage error (an unknown flag, a bad value, a missing argument) exits 2,
// as each command's own checks of its flags do.
constexpr int kExitUsage = 2;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Tempo Runtime: serves the prioritized content modules of a page.", "tempo"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  app.set_version_flag(
      "--version",
      "tempo " + std::string(tempo::Version()) + " (" + std::string(tempo::GitCommit()) + ")",
      "Print the version and the git commit it was built from, and exit");
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
  tempo::cli::RegisterProbe(app, &exit_code);
  tempo::cli::RegisterExplain(app, &exit_code);
  tempo::cli::RegisterInvalidate(app, &exit_code);
  tempo::cli::RegisterBench(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Prints the help, the version or the error; only the last is a failure.
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  return exit_code;
}
