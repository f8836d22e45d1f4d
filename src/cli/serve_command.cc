// `tempo serve`: the public listener over an origin store, kept fresh by the
// invalidation stream.
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>

#include "admin/admin_service.h"
#include "api/invalidation_listener.h"
#include "api/service.h"
#include "cli/admin_listener.h"
#include "cli/commands.h"
#include "cli/config_file.h"
#include "cli/embedded.h"
#include "cli/l2_flags.h"
#include "cli/process_metrics.h"
#include "cli/stop_signals.h"
#include "cli/store_uri.h"
#include "cli/stream_flags.h"
#include "common/logging.h"
#include "http/server.h"

namespace tempo::cli {
namespace {

// A directory of this process's own, removed on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/tempo-serve-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Descriptors kept free of public connections: for the admin listener, the
// store's files and connections, L2, the invalidation stream and logs.
constexpr int64_t kReservedDescriptors = 1024;

// Raises the soft descriptor limit to the hard one, and returns how many
// public connections fit beside the reserve (at least 1). Logs what it had
// to lower.
int FitConnections(int wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY) return wanted;
  const int64_t descriptors = static_cast<int64_t>(limit.rlim_cur);
  const int64_t reserve = std::min(kReservedDescriptors, descriptors / 2);
  const int64_t fits = std::max<int64_t>(1, descriptors - reserve);
  if (wanted <= fits) return wanted;
  LogLine("serve", "--max-connections " + std::to_string(wanted) + " lowered to " +
                       std::to_string(fits) + ": the descriptor limit is " +
                       std::to_string(descriptors) + " and " + std::to_string(reserve) +
                       " are kept in reserve (raise `ulimit -n`)");
  return static_cast<int>(fits);
}

// An L2 wait must leave the origin time within the request's deadline: the
// L2 timeout is held to half the deadline.
int FitL2Timeout(int timeout_ms, int deadline_ms) {
  const int fits = std::max(2, deadline_ms / 2);  // L2 refuses less than 2 ms
  if (timeout_ms <= fits) return timeout_ms;
  LogLine("serve", "--l2-timeout-ms " + std::to_string(timeout_ms) + " lowered to " +
                       std::to_string(fits) + ": an L2 wait may take at most half of the " +
                       std::to_string(deadline_ms) + " ms request deadline (--deadline-ms)");
  return fits;
}

// A consumer group of this process alone: every serving process sees every
// invalidation.
std::string InstanceGroup() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return "tempo-serve-" + std::string(host) + "-" + std::to_string(getpid()) + "-" +
         std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
}

struct ServeFlags {
  std::string store;
  std::string listen = "127.0.0.1:8080";
  bool embedded = false;
  std::string data_dir;
  bool allow_preview = false;
  int threads = 0;
  size_t l1_mb = 256;
  int64_t l1_ttl_ms = 30'000;
  int64_t l1_max_stale_ms = 300'000;
  L2Flags l2;
  int deadline_ms = 50;
  int origin_threads = 8;
  std::string admin_listen = "127.0.0.1:9901";
  int64_t ready_grace_ms = 5'000;
  int max_connections = 10'000;
  int idle_timeout_ms = 60'000;
  int header_timeout_ms = 10'000;
  StreamFlags stream;
  std::string invalidation_topic{stream::kInvalidationTopic};
  std::string config;
};

void AddServeFlags(CLI::App* cmd, ServeFlags* f) {
  cmd->add_option(
      "--store", f->store,
      "Origin store to read: DIR, rocksdb:///DIR (opened read-only, as a secondary "
      "of the `tempo sync` or `tempo import` that writes it) or postgres://USER@HOST:PORT/DB");
  cmd->add_option("--listen", f->listen, "Public listener HOST:PORT (port 0 = any free port)")
      ->default_val("127.0.0.1:8080");
  cmd->add_flag("--embedded", f->embedded,
                "Everything in this process: store, log and sync loop in --data-dir, with demo "
                "data on first start")
      ->excludes("--store");
  cmd->add_option("--data-dir", f->data_dir,
                  "Data directory of --embedded (default $TEMPO_DATA_DIR, else "
                  "$XDG_DATA_HOME/tempo, else ~/.local/share/tempo)");
  cmd->add_flag("--allow-preview", f->allow_preview, "Honour the `at` parameter (preview)");
  cmd->add_option("--threads", f->threads, "Serving threads (0 = one per core)")
      ->default_val(0)
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--l1-mb", f->l1_mb, "L1 (in-process slice cache) size in MiB; 0 disables it")
      ->default_val(256)
      ->check(CLI::Range(size_t{0}, size_t{1} << 20));
  cmd->add_option("--l1-ttl-ms", f->l1_ttl_ms,
                  "How long a cached slice is fresh; bounds staleness when invalidations "
                  "cannot arrive")
      ->default_val(30'000)
      ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}));
  cmd->add_option("--l1-max-stale-ms", f->l1_max_stale_ms,
                  "How long past its TTL a slice may be served while it is refreshed")
      ->default_val(300'000)
      ->check(CLI::Range(int64_t{0}, int64_t{86'400'000}));
  AddL2Flags(cmd, &f->l2);
  cmd->add_option("--deadline-ms", f->deadline_ms,
                  "The longest a request waits on L2 and the origin; past it the answer is a "
                  "stale copy or 503")
      ->default_val(50)
      ->check(CLI::Range(1, 60'000));
  cmd->add_option("--origin-threads", f->origin_threads,
                  "Threads reading the origin (at most this many origin reads at once)")
      ->default_val(8)
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--admin-listen", f->admin_listen,
                  "Admin listener HOST:PORT (/readyz, /livez, /metrics, /admin/cache); keep it "
                  "on loopback or a private network; \"off\" disables it")
      ->default_val("127.0.0.1:9901");
  cmd->add_option("--ready-grace-ms", f->ready_grace_ms,
                  "How long the origin may be unreachable before /readyz says not ready")
      ->default_val(5'000)
      ->check(CLI::Range(int64_t{0}, int64_t{3'600'000}));
  cmd->add_option("--max-connections", f->max_connections,
                  "Open connections on the public listener; more are closed at once (lowered "
                  "at start to keep descriptors in reserve when the limit is too low)")
      ->default_val(10'000)
      ->check(CLI::Range(1, 10'000'000));
  cmd->add_option("--idle-timeout-ms", f->idle_timeout_ms,
                  "Keep-alive connections idle this long are closed")
      ->default_val(60'000)
      ->check(CLI::Range(1, 3'600'000));
  cmd->add_option("--header-timeout-ms", f->header_timeout_ms,
                  "A request must arrive whole this long after its first byte, or its "
                  "connection is closed")
      ->default_val(10'000)
      ->check(CLI::Range(1, 3'600'000));
  AddStreamFlags(cmd, &f->stream, "read invalidations from");
  cmd->add_option("--invalidation-topic", f->invalidation_topic, "Invalidation topic")
      ->default_val(std::string(stream::kInvalidationTopic));
  AddConfigOption(cmd, &f->config);
}

int RunServe(CLI::App* cmd, const ServeFlags& f) {
  StopSignals signals;  // first: before RocksDB or librdkafka start threads
  if (Status s = ApplyConfigFile(cmd, f.config); !s.ok()) {
    std::cerr << "tempo serve: " << s.message() << "\n";
    return 2;
  }
  if (!f.embedded && f.store.empty()) {
    std::cerr << "tempo serve: give --store or --embedded\n";
    return 2;
  }
  http::ServerOptions server_options;
  if (!ParseListen(f.listen, &server_options)) {
    std::cerr << "tempo serve: --listen must be HOST:PORT, got " << f.listen << "\n";
    return 2;
  }
  server_options.threads = f.threads;
  server_options.max_connections = FitConnections(f.max_connections);
  server_options.idle_timeout_ms = f.idle_timeout_ms;
  server_options.header_timeout_ms = f.header_timeout_ms;
  L2Flags l2_flags = f.l2;
  l2_flags.timeout_ms = FitL2Timeout(f.l2.timeout_ms, f.deadline_ms);
  auto l2 = OpenL2(l2_flags);
  if (!l2.ok()) {
    std::cerr << "tempo serve: " << l2.status().message() << "\n";
    return 2;
  }

  // The origin: the embedded primary, or a read-only view of a shared store.
  ScratchDir scratch;
  StreamFlags invalidations = f.stream;
  std::string store_label;
  Result<std::unique_ptr<origin::Origin>> origin = Status::Internal("unset");
  if (f.embedded) {
    const std::string data_dir = f.data_dir.empty() ? DefaultDataDir() : f.data_dir;
    std::error_code ec;
    std::filesystem::create_directories(data_dir + "/store", ec);
    store_label = data_dir;
    origin = OpenStore(data_dir + "/store");
    if (!HasStream(invalidations)) invalidations.log_dir = data_dir + "/log";
  } else {
    if (scratch.path().empty()) {
      std::cerr << "tempo serve: cannot create a scratch directory in $TMPDIR\n";
      return 1;
    }
    store_label = f.store;
    // A request stops waiting at its deadline, but a read that finishes a
    // little later still fills L2 for the next one.
    ReadingOptions reading;
    reading.connections = f.origin_threads;
    reading.statement_timeout =
        std::max(4 * std::chrono::milliseconds(f.deadline_ms), std::chrono::milliseconds(250));
    origin = OpenStoreForReading(f.store, scratch.path(), reading);
  }
  if (!origin.ok()) {
    std::cerr << "tempo serve: " << origin.status().message() << "\n";
    return 1;
  }
  std::unique_ptr<EmbeddedSync> embedded_sync;
  if (f.embedded) {
    auto started = EmbeddedSync::Start(invalidations.log_dir, origin->get(), l2->get());
    if (!started.ok()) {
      std::cerr << "tempo serve: embedded sync: " << started.status().ToString() << "\n";
      return 1;
    }
    embedded_sync = std::move(started).value();
  }

  const std::chrono::milliseconds deadline(f.deadline_ms);
  api::PageSourceOptions page_options;
  page_options.l1.capacity_bytes = f.l1_mb << 20;
  page_options.l1.ttl = std::chrono::milliseconds(f.l1_ttl_ms);
  page_options.l1.max_stale = std::chrono::milliseconds(f.l1_max_stale_ms);
  page_options.l2 = l2->get();
  page_options.l2_timeout = std::chrono::milliseconds(l2_flags.timeout_ms);
  page_options.origin.threads = f.origin_threads;
  page_options.load_wait = deadline;
  api::PageSource pages(origin->get(), page_options);
  api::ServiceOptions service_options;
  service_options.allow_preview = f.allow_preview;
  service_options.deadline = deadline;
  api::LayoutService service(&pages, service_options);

  std::unique_ptr<stream::Consumer> consumer;
  if (HasStream(invalidations)) {
    auto opened = OpenConsumer(invalidations, InstanceGroup(), {f.invalidation_topic},
                               /*from_latest=*/true);
    if (!opened.ok()) {
      std::cerr << "tempo serve: invalidations: " << opened.status().ToString() << "\n";
      return 1;
    }
    consumer = std::move(opened).value();
  }
  api::InvalidationListener listener(std::move(consumer), origin->get(), &pages);

  auto server = http::Server::Start(
      server_options,
      [&service](const http::Request& req, http::Response* resp) { service.Handle(req, resp); });
  if (!server.ok()) {
    std::cerr << "tempo serve: " << server.status().message() << "\n";
    return 1;
  }

  ProcessParts parts;
  parts.service = &service;
  parts.server = server->get();
  parts.pages = &pages;
  parts.l2 = l2->get();
  parts.listener = &listener;
  if (embedded_sync) parts.sync_stats = [&embedded_sync] { return embedded_sync->Stats(); };
  admin::AdminHooks hooks = ReportingHooks(parts);
  hooks.ready = [&pages, grace = std::chrono::milliseconds(f.ready_grace_ms)](std::string* why) {
    return pages.origin_reader().Ready(grace, why);
  };
  admin::AdminService admin_service(std::move(hooks));
  auto admin_server = StartAdminListener(f.admin_listen, &admin_service);
  if (!admin_server.ok()) {
    std::cerr << "tempo serve: " << admin_server.status().message() << "\n";
    return admin_server.status().code() == Status::Code::kInvalidArgument ? 2 : 1;
  }
  std::cout << "tempo serve: listening on http://" << server_options.host << ":"
            << (*server)->port() << " (store " << store_label;
  if (HasStream(invalidations))
    std::cout << ", invalidations from " << DescribeStream(invalidations);
  if (l2->get() != nullptr) std::cout << ", L2 " << f.l2.servers;
  std::cout << ")" << std::endl;
  if (*admin_server) {
    std::cout << "tempo serve: admin on port " << (*admin_server)->port() << std::endl;
  }
  if (f.embedded) {
    std::cout << "try: curl 'http://" << server_options.host << ":" << (*server)->port()
              << "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage'" << std::endl;
  }
  signals.Watch([&](int sig) {
    std::cerr << "tempo serve: stopping on signal " << sig << "\n";
    (*server)->Stop();
  });
  (*server)->Wait();
  signals.Unwatch();  // its on_stop uses the server
  if (*admin_server) {
    (*admin_server)->Stop();
    (*admin_server)->Wait();
  }
  return 0;
}

}  // namespace

void RegisterServe(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve GET /api/v1|v2/tempo/layouts. With --store, reads a store that `tempo sync` keeps "
      "up to date and evicts changed slices as invalidations arrive (--brokers or --log). "
      "With --embedded, runs store, log and sync loop in this process.");
  auto flags = std::make_shared<ServeFlags>();
  AddServeFlags(cmd, flags.get());
  cmd->callback([=] { *exit_code = RunServe(cmd, *flags); });
}

}  // namespace tempo::cli
