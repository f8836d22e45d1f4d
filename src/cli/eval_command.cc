// `tempo eval`: evaluates [condition, attributes] JSON lines from stdin.
#include <iostream>

#include "cli/commands.h"
#include "cond/cond.h"

namespace tempo::cli {

void RegisterEval(CLI::App& app, int* /*exit_code*/) {
  auto* cmd = app.add_subcommand(
      "eval",
      "Read JSON lines [condition, attributes] on stdin and print true, false or error for each, "
      "in order: why did this targeting match?");
  cmd->callback([] {
    std::ios::sync_with_stdio(false);
    std::string line;
    std::string out;
    while (std::getline(std::cin, line)) {
      out += cond::EvalLine(line);
      out += '\n';
      if (out.size() > (1 << 16)) {
        std::cout << out;
        out.clear();
      }
    }
    std::cout << out << std::flush;
  });
}

}  // namespace tempo::cli
