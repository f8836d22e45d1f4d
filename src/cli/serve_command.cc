// `tempo serve`: the public listener over an origin store.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "api/service.h"
#include "cli/commands.h"
#include "cli/store_uri.h"
#include "events/events.h"
#include "gen/generator.h"
#include "http/server.h"

namespace tempo::cli {
namespace {

// The demo data set of `tempo serve --embedded` on first start.
constexpr uint64_t kDemoSeed = 1;
constexpr int kDemoTenants = 4;
constexpr int kDemoModules = 60;

std::string DefaultDataDir() {
  if (const char* dir = std::getenv("TEMPO_DATA_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/tempo";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home) + "/.local/share/tempo";
  }
  return "./tempo-data";
}

// Fills an empty store with the demo data set.
Status LoadDemoData(origin::Origin& origin) {
  bool empty = true;
  Status st = origin.ForEachRecord([&](const origin::StoredRecord&) {
    empty = false;
    return Status::Corruption("stop");  // one record is enough to know
  });
  if (!empty) return Status::OK();
  std::stringstream events;
  gen::GenOptions options;
  options.seed = kDemoSeed;
  options.tenants = kDemoTenants;
  options.modules = kDemoModules;
  Status gen_status = gen::Generate(options, events, nullptr, nullptr);
  if (!gen_status.ok()) return gen_status;
  std::string line;
  uint64_t applied = 0;
  while (std::getline(events, line)) {
    auto event = events::DecodeEvent(line);
    if (!event.ok()) continue;  // the generator deliberately includes invalid events
    auto outcome = origin.Apply(*event);
    if (!outcome.ok()) return outcome.status();
    applied += *outcome == origin::ApplyOutcome::kApplied;
  }
  std::cerr << "tempo serve: loaded demo data (" << applied << " events)\n";
  return Status::OK();
}

bool ParseListen(const std::string& listen, http::ServerOptions* options) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  options->host = listen.substr(0, colon);
  if (options->host.size() > 2 && options->host.front() == '[' && options->host.back() == ']') {
    options->host = options->host.substr(1, options->host.size() - 2);
  }
  try {
    const int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) return false;
    options->port = static_cast<uint16_t>(port);
  } catch (...) {
    return false;
  }
  return true;
}

}  // namespace

void RegisterServe(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve GET /api/v1|v2/tempo/layouts from an origin store. With --embedded, the store "
      "lives in the default data directory ($TEMPO_DATA_DIR, else $XDG_DATA_HOME/tempo, else "
      "~/.local/share/tempo) and is filled with demo data on first start.");
  auto store = std::make_shared<std::string>();
  auto listen = std::make_shared<std::string>("127.0.0.1:8080");
  auto embedded = std::make_shared<bool>(false);
  auto allow_preview = std::make_shared<bool>(false);
  auto threads = std::make_shared<int>(0);
  auto l1_mb = std::make_shared<size_t>(256);
  auto l1_ttl_ms = std::make_shared<int64_t>(30'000);
  auto l1_max_stale_ms = std::make_shared<int64_t>(300'000);
  cmd->add_option("--store", *store, "Store directory (or rocksdb:///path)");
  cmd->add_option("--listen", *listen, "Public listener HOST:PORT (port 0 = any free port)")
      ->default_val("127.0.0.1:8080");
  cmd->add_flag("--embedded", *embedded, "Use the embedded store in the default data directory");
  cmd->add_flag("--allow-preview", *allow_preview, "Honour the `at` parameter (preview)");
  cmd->add_option("--threads", *threads, "Serving threads (0 = one per core)")->default_val(0)
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--l1-mb", *l1_mb, "L1 (in-process slice cache) size in MiB; 0 disables it")
      ->default_val(256)
      ->check(CLI::Range(size_t{0}, size_t{1} << 20));
  cmd->add_option("--l1-ttl-ms", *l1_ttl_ms, "How long a cached slice is fresh")
      ->default_val(30'000)
      ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}));
  cmd->add_option("--l1-max-stale-ms", *l1_max_stale_ms,
                  "How long past its TTL a slice may be served while it is refreshed")
      ->default_val(300'000)
      ->check(CLI::Range(int64_t{0}, int64_t{86'400'000}));
  cmd->callback([=] {
    // Block the stop signals before any thread exists (RocksDB starts its own
    // background threads on open), so that only the waiter below receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::string path = *store;
    if (path.empty()) {
      if (!*embedded) {
        std::cerr << "tempo serve: give --store DIR or --embedded\n";
        *exit_code = 2;
        return;
      }
      path = DefaultDataDir() + "/store";
      std::error_code ec;
      std::filesystem::create_directories(path, ec);
    }
    auto origin = OpenStore(path);
    if (!origin.ok()) {
      std::cerr << "tempo serve: " << origin.status().message() << "\n";
      *exit_code = 1;
      return;
    }
    if (*embedded) {
      Status st = LoadDemoData(**origin);
      if (!st.ok()) {
        std::cerr << "tempo serve: demo data: " << st.ToString() << "\n";
        *exit_code = 1;
        return;
      }
    }
    http::ServerOptions server_options;
    if (!ParseListen(*listen, &server_options)) {
      std::cerr << "tempo serve: --listen must be HOST:PORT, got " << *listen << "\n";
      *exit_code = 2;
      return;
    }
    server_options.threads = *threads;
    api::ServiceOptions service_options;
    service_options.allow_preview = *allow_preview;
    service_options.l1.capacity_bytes = *l1_mb << 20;
    service_options.l1.ttl = std::chrono::milliseconds(*l1_ttl_ms);
    service_options.l1.max_stale = std::chrono::milliseconds(*l1_max_stale_ms);
    api::LayoutService service(origin->get(), service_options);
    auto server = http::Server::Start(
        server_options, [&service](const http::Request& req, http::Response* resp) {
          service.Handle(req, resp);
        });
    if (!server.ok()) {
      std::cerr << "tempo serve: " << server.status().message() << "\n";
      *exit_code = 1;
      return;
    }
    std::cout << "tempo serve: listening on http://" << server_options.host << ":"
              << (*server)->port() << " (store " << path << ")" << std::endl;
    if (*embedded) {
      std::cout << "try: curl 'http://" << server_options.host << ":" << (*server)->port()
                << "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage'"
                << std::endl;
    }
    std::thread waiter([&] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      std::cerr << "tempo serve: stopping on signal " << sig << "\n";
      (*server)->Stop();
    });
    (*server)->Wait();
    waiter.join();
  });
}

}  // namespace tempo::cli
