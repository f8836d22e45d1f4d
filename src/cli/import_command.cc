// `tempo import --store DIR FILE|-`: applies an NDJSON event file to an origin store.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/store_uri.h"
#include "events/events.h"

namespace tempo::cli {

void RegisterImport(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "import",
      "Apply an NDJSON event file to an origin store, in order (higher version wins). Prints "
      "applied/stale/invalid counts; each invalid line is reported on stderr as "
      "'line N: field: reason'. Exits 0 unless the file cannot be read.");
  auto store = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  cmd->add_option("--store", *store, "Origin store: DIR, rocksdb:///DIR or postgres://USER@HOST:PORT/DB")->required();
  cmd->add_option("file", *file, "NDJSON event file, or - for stdin")->required();
  cmd->callback([=] {
    auto origin = OpenStore(*store);
    if (!origin.ok()) {
      std::cerr << "tempo import: " << origin.status().message() << "\n";
      *exit_code = 1;
      return;
    }
    std::ifstream in_file;
    std::istream* in = &std::cin;
    if (*file != "-") {
      in_file.open(*file, std::ios::binary);
      if (!in_file) {
        std::cerr << "tempo import: cannot read " << *file << "\n";
        *exit_code = 1;
        return;
      }
      in = &in_file;
    }
    uint64_t applied = 0, stale = 0, invalid = 0, line_no = 0;
    std::string line;
    while (std::getline(*in, line)) {
      ++line_no;
      if (line.empty() || line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto event = events::DecodeEvent(line);
      if (!event.ok()) {
        ++invalid;
        std::cerr << "line " << line_no << ": " << event.status().message() << "\n";
        continue;
      }
      auto outcome = (*origin)->Apply(*event);
      if (!outcome.ok()) {
        std::cerr << "tempo import: line " << line_no << ": store failed: "
                  << outcome.status().ToString() << "\n";
        *exit_code = 1;
        return;
      }
      ++(*outcome == origin::ApplyOutcome::kApplied ? applied : stale);
    }
    if (in->bad()) {
      std::cerr << "tempo import: read error on " << *file << "\n";
      *exit_code = 1;
    }
    std::cout << "applied " << applied << ", stale " << stale << ", invalid " << invalid << "\n";
  });
}

}  // namespace tempo::cli
