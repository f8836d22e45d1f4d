// Memory per cached module: RSS growth when every slice of a generated data
// set is compiled and held in L1, divided by the modules held, against the
// modules' raw JSON size.
//
// usage: slice_memory [TENANTS] [MODULES_PER_TENANT]   (default 8 × 12 500 = 100 000 modules)
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <variant>

#include "api/page_source.h"
#include "events/events.h"
#include "gen/generator.h"
#include "origin/rocks_origin.h"
#include "rss.h"

namespace {

using tempo::origin::PartitionKey;

using tempo::bench::RssBytes;

}  // namespace

int main(int argc, char** argv) {
  tempo::gen::GenOptions options;
  options.seed = 1;
  options.tenants = argc > 1 ? std::atoi(argv[1]) : 8;
  options.modules = argc > 2 ? std::atoi(argv[2]) : 12'500;
  const std::string dir = "/tmp/tempo-slice-memory-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  auto origin = tempo::origin::OpenRocksOrigin(dir);
  if (!origin.ok()) {
    std::fprintf(stderr, "%s\n", origin.status().ToString().c_str());
    return 1;
  }
  std::stringstream events;
  if (auto st = tempo::gen::Generate(options, events, nullptr, nullptr); !st.ok()) return 1;
  std::string line;
  while (std::getline(events, line)) {
    auto event = tempo::events::DecodeEvent(line);
    if (event.ok()) (void)(*origin)->Apply(*event);
  }
  events = std::stringstream();
  // Every slice of the live records, and the modules' raw JSON size.
  std::set<std::tuple<std::string, std::string, std::string, std::string>> slices;
  size_t module_records = 0, module_json_bytes = 0;
  (void)(*origin)->ForEachRecord([&](const tempo::origin::StoredRecord& r) {
    if (r.tombstone) return tempo::Status::OK();
    auto record = tempo::events::DecodeRecord(r.key.kind, r.record_json);
    if (!record.ok()) return tempo::Status::OK();
    if (const auto* m = std::get_if<tempo::events::Module>(&*record)) {
      ++module_records;
      module_json_bytes += r.record_json.size();
      for (const auto& ch : m->channels) {
        if (m->page_ids.empty()) slices.emplace(m->tenant, ch, m->page_type, "*");
        for (const auto& p : m->page_ids) {
          if (p != "*" && !p.empty()) slices.emplace(m->tenant, ch, m->page_type, p);
        }
      }
    }
    return tempo::Status::OK();
  });
  tempo::api::PageSourceOptions source_options;
  source_options.l1.capacity_bytes = size_t{8} << 30;  // large enough to hold everything
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);
  // Pass 1 warms RocksDB and the allocator; pass 2 is measured.
  for (int pass = 1; pass <= 2; ++pass) {
    tempo::api::PageSource source(origin->get(), source_options);
    malloc_trim(0);
    const size_t before = RssBytes();
    size_t modules_held = 0;
    for (const auto& [tenant, channel, page_type, scope] : slices) {
      tempo::cache::ReadScope read_scope;
      auto page = source.Get(PartitionKey{tenant, channel, page_type},
                             scope == "*" ? std::nullopt : std::optional<std::string_view>(scope),
                             deadline, &read_scope);
      if (!page.ok()) return 1;
      if (scope != "*") modules_held += page->page_slice->modules.size();
    }
    for (const auto& [tenant, channel, page_type, scope] : slices) {
      if (scope != "*") continue;
      tempo::cache::ReadScope read_scope;
      auto page =
          source.Get(PartitionKey{tenant, channel, page_type}, std::nullopt, deadline, &read_scope);
      modules_held += page->type_slice->modules.size();
    }
    malloc_trim(0);
    const size_t after = RssBytes();
    const auto stats = source.L1Stats();
    if (pass == 2) {
      const double per_module = static_cast<double>(after - before) / modules_held;
      const double raw = static_cast<double>(module_json_bytes) / module_records;
      std::printf("slices cached: %zu (L1 entries %zu, charged %zu bytes)\n", slices.size(),
                  stats.entries, stats.bytes);
      std::printf("modules held: %zu (from %zu module records)\n", modules_held, module_records);
      std::printf("RSS growth: %.1f MiB\n", (after - before) / 1048576.0);
      std::printf("bytes per cached module: %.0f (RSS) / %.0f (charged)\n", per_module,
                  static_cast<double>(stats.bytes) / modules_held);
      std::printf("raw module JSON: %.0f bytes; ratio RSS/raw: %.2f\n", raw, per_module / raw);
    }
  }
  origin->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
