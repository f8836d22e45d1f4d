// `tempo import --store DIR FILE|-`: applies an NDJSON event file to an origin store.
#include <iostream>

#include "cli/commands.h"
#include "cli/event_input.h"
#include "cli/output.h"
#include "events/events.h"
#include "events/ndjson.h"
#include "serve/store_uri.h"

namespace tempo::cli {
namespace {

struct ImportFlags {
  std::string store;
  std::string file;
  size_t max_record_bytes = 0;  // set by AddMaxRecordBytesOption
};

// Runs the import; returns the exit code.
int RunImport(const ImportFlags& f) {
  // The input first: a path that cannot be read creates no store.
  InputFile input;
  if (Status s = input.Open(f.file); !s.ok()) {
    std::cerr << "tempo import: " << s.message() << "\n";
    return 1;
  }
  auto origin = serve::OpenStore(f.store);
  if (!origin.ok()) {
    std::cerr << "tempo import: " << origin.status().message() << "\n";
    return 1;
  }
  events::DecodeOptions decode;
  decode.max_record_bytes = f.max_record_bytes;
  events::NdjsonReader reader(input.stream());
  uint64_t applied = 0, stale = 0, invalid = 0;
  int exit_code = 0;
  std::string line;
  while (reader.Next(&line)) {
    if (events::IsBlankLine(line)) continue;
    auto event = events::DecodeEvent(line, decode);
    if (!event.ok()) {
      ++invalid;
      std::cerr << "line " << reader.line_number() << ": " << event.status().message() << "\n";
      continue;
    }
    auto outcome = (*origin)->Apply(*event);
    if (!outcome.ok()) {
      std::cerr << "tempo import: line " << reader.line_number()
                << ": store failed: " << outcome.status().ToString() << "\n";
      return 1;
    }
    ++(*outcome == origin::ApplyOutcome::kApplied ? applied : stale);
  }
  if (Status s = reader.status(); !s.ok()) {
    std::cerr << "tempo import: " << f.file << ": " << s.message() << "\n";
    exit_code = 1;
  }
  std::cout << "applied " << applied << ", stale " << stale << ", invalid " << invalid << "\n";
  if (Status s = FlushOutput(std::cout, "stdout"); !s.ok()) {
    std::cerr << "tempo import: " << s.message() << "\n";
    exit_code = 1;
  }
  return exit_code;
}

}  // namespace

void RegisterImport(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "import",
      "Apply an NDJSON event file to an origin store, in order (higher version wins). Prints "
      "applied/stale/invalid counts; each invalid line is reported on stderr as "
      "'line N: field: reason'. Exits 0 unless the file cannot be read or the counts "
      "cannot be written.");
  auto flags = std::make_shared<ImportFlags>();
  cmd->add_option("--store", flags->store,
                  "Origin store: DIR, rocksdb:///DIR or postgres://USER@HOST:PORT/DB")
      ->required();
  AddMaxRecordBytesOption(cmd, &flags->max_record_bytes);
  cmd->add_option("file", flags->file, "NDJSON event file, or - for stdin")->required();
  cmd->callback([flags, exit_code] { *exit_code = RunImport(*flags); });
}

}  // namespace tempo::cli
