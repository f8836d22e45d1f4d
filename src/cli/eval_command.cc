// `tempo eval`: evaluates [condition, attributes] JSON lines from stdin.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "cond/cond.h"
#include "events/ndjson.h"

namespace tempo::cli {
namespace {

// Answers are written in chunks of about this size: one write(2) for many
// short lines.
constexpr size_t kOutputChunkBytes = size_t{1} << 16;

// Evaluates every line of stdin; returns the exit code.
int RunEval() {
  std::ios::sync_with_stdio(false);
  events::NdjsonReader reader(std::cin);
  std::string line;
  std::string out;
  while (reader.Next(&line)) {
    out += cond::EvalLine(line);
    out += '\n';
    if (out.size() > kOutputChunkBytes) {
      std::cout << out;
      out.clear();
      if (!std::cout) break;  // nobody reads the answers: stop evaluating
    }
  }
  std::cout << out;
  Status s = FlushOutput(std::cout, "stdout");
  if (s.ok()) s = reader.status();
  if (!s.ok()) {
    std::cerr << "tempo eval: " << s.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

void RegisterEval(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "eval",
      "Read JSON lines [condition, attributes] on stdin and print true, false or error for each, "
      "in order: why did this targeting match? Exits 1 when stdin cannot be read or the "
      "answers cannot be written.");
  cmd->callback([exit_code] { *exit_code = RunEval(); });
}

}  // namespace tempo::cli
