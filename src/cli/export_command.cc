// `tempo export --store DIR [--out FILE]`: every record as NDJSON, sorted by record key.
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "events/events.h"
#include "serve/store_uri.h"

namespace tempo::cli {

void RegisterExport(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "export",
      "Write every record of a store as NDJSON envelopes sorted by record key (live records as "
      "upserts, tombstones as deletes): two stores with the same data export identical bytes.");
  auto store = std::make_shared<std::string>();
  auto out_path = std::make_shared<std::string>();
  cmd->add_option("--store", *store,
                  "Origin store: DIR, rocksdb:///DIR or postgres://USER@HOST:PORT/DB")
      ->required();
  cmd->add_option("--out", *out_path, "Output file (default: stdout)");
  cmd->callback([=] {
    // Read-only: export changes nothing in the store, takes no writer's
    // lock, and a path that is not a store is an error, not an empty one.
    auto origin = serve::OpenStoreReadOnly(*store);
    if (!origin.ok()) {
      std::cerr << "tempo export: " << origin.status().message() << "\n";
      *exit_code = 1;
      return;
    }
    std::ofstream out_file;
    std::ostream* out = &std::cout;
    if (!out_path->empty()) {
      out_file.open(*out_path, std::ios::binary | std::ios::trunc);
      if (!out_file) {
        std::cerr << "tempo export: cannot write " << *out_path << "\n";
        *exit_code = 1;
        return;
      }
      out = &out_file;
    }
    Status st = (*origin)->ForEachRecord([&](const origin::StoredRecord& r) {
      *out << events::EncodeEnvelope(r.key.kind,
                                     r.tombstone ? events::Op::kDelete : events::Op::kUpsert,
                                     r.published_at, r.record_json)
           << '\n';
      return out->good() ? Status::OK() : Status::IOError("write failed");
    });
    const Status flushed = FlushOutput(*out, out_path->empty() ? "stdout" : *out_path);
    if (!st.ok() || !flushed.ok()) {
      std::cerr << "tempo export: " << (st.ok() ? flushed.message() : st.ToString()) << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace tempo::cli
