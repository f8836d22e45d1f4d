// `tempo serve`: the flags of the serving process (serve/serve_options.h),
// then serve::Server runs it until SIGINT/SIGTERM.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <memory>
#include <vector>

#include "api/cache_control.h"
#include "cli/check_config.h"
#include "cli/commands.h"
#include "cli/config_file.h"
#include "cli/l2_flags.h"
#include "cli/log_flags.h"
#include "cli/stop_signals.h"
#include "cli/stream_flags.h"
#include "cli/tls_flags.h"
#include "common/logging.h"
#include "common/service_notify.h"
#include "serve/serve_options.h"
#include "serve/server.h"

namespace tempo::cli {
namespace {

// The shadow compare flags (issue 14): receiving on the admin listener, and
// sending with --shadow-to.
void AddShadowFlags(CLI::App* cmd, serve::ServeOptions* f) {
  cmd->add_option("--shadow-queue", f->shadow.queue_capacity,
                  "Shadow items (POST /internal/shadow) waiting to be compared; more are dropped "
                  "and counted")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  cmd->add_option("--shadow-ignore", f->shadow.ignore,
                  "JSON Pointer left out of shadow comparisons (repeatable; \"*\" matches any "
                  "array index or member), e.g. /zones/*/modules/*/content");
  cmd->add_option("--shadow-keep", f->shadow.keep,
                  "Newest shadow mismatches kept for GET /admin/shadow")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100'000}));
  cmd->add_option("--shadow-threads", f->shadow.threads, "Threads comparing shadow items")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--shadow-max-post-bytes", f->shadow.max_post_bytes,
                  "Largest POST body the admin listener reads (larger: 413)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
  cmd->add_option("--shadow-to", f->shadow_to.url,
                  "Send a sample of this instance's layout requests and answers to another "
                  "instance's POST /internal/shadow: http(s)://HOST:PORT");
  cmd->add_option("--shadow-sample", f->shadow_to.sample,
                  "Share of requests sent with --shadow-to (0-1); a request with "
                  "X-Tempo-Shadow: 1 is always sent")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--shadow-tenants", f->shadow_to.tenants,
                  "Send only these tenants' requests with --shadow-to (comma-separated)")
      ->delimiter(',');
  cmd->add_option("--shadow-timeout-ms", f->shadow_to.timeout_ms,
                  "Time-out of one post to --shadow-to (each of connect and the exchange: a post "
                  "takes at most twice this)")
      ->capture_default_str()
      ->check(CLI::Range(1, 60'000));
  cmd->add_option("--shadow-connections", f->shadow_to.connections,
                  "Keep-alive connections to --shadow-to")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--shadow-ca", f->shadow_to.ca_file,
                  "CA file to verify an https --shadow-to (default: the system's)");
  cmd->add_option("--shadow-cert", f->shadow_to.cert_file,
                  "Client certificate for an https --shadow-to (mutual TLS)");
  cmd->add_option("--shadow-key", f->shadow_to.key_file, "Private key of --shadow-cert");
}

// Tenant groups and per-tenant limits (issue 15 §1, §4).
void AddTenancyFlags(CLI::App* cmd, serve::ServeOptions* f) {
  cmd->add_option("--groups", f->groups_file,
                  "YAML file holding `tenant_groups` (group: [tenants], \"*\" for every other "
                  "tenant); or give tenant_groups in --config")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tenant-group", f->tenant_group,
                  "Serve only this tenant group's tenants (others: 421 wrong_tenant_group); "
                  "needs --groups or tenant_groups in --config");
  cmd->add_option("--tenant-rate", f->tenant_rate,
                  "Requests a second each tenant may make (token bucket; over it: 429 "
                  "rate_limited with Retry-After); tenant_limits in --config overrides it per "
                  "tenant. Default: no limit")
      ->check(CLI::Range(int64_t{1}, config::kMaxTenantRate));
  cmd->add_option("--tenant-burst", f->tenant_burst,
                  "Requests a tenant may make at once: the size of its bucket (default: the rate)")
      ->check(CLI::Range(int64_t{1}, config::kMaxTenantRate))
      ->needs("--tenant-rate");
  cmd->add_option("--origin-tenant-share", f->origin_tenant_share,
                  "Share of the origin reads queue one tenant may hold (0-1); more of its reads "
                  "fail at once, as a full queue's do")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
}

// The YAML sections of `tempo serve --config` that are not flags.
std::vector<ConfigSection> ServeSections(serve::ServeOptions* f) {
  return {
      {"tenant_groups",
       [f](const YAML::Node& value, const std::string& path) -> Status {
         auto groups = config::TenantGroups::Parse(value, path);
         if (!groups.ok()) return groups.status();
         f->groups = std::move(groups).value();
         return Status::OK();
       }},
      {"tenant_limits",
       [f](const YAML::Node& value, const std::string& path) -> Status {
         auto limits = config::ParseTenantLimits(value, path);
         if (!limits.ok()) return limits.status();
         f->tenant_limits = std::move(limits).value();
         return Status::OK();
       }},
      KafkaConfigSection(&f->stream),
  };
}

// Adds the flags of `tempo serve`, bound to the fields of *f and *log (the
// log flags), whose values are the defaults.
void AddServeFlags(CLI::App* cmd, serve::ServeOptions* f, LogFlags* log) {
  AddLogFlags(cmd, log, /*with_access_log=*/true);
  cmd->add_option(
      "--store", f->store,
      "Origin store to read: DIR, rocksdb:///DIR (opened read-only, as a secondary "
      "of the `tempo sync` or `tempo import` that writes it) or postgres://USER@HOST:PORT/DB");
  cmd->add_option("--listen", f->listen, "Public listener HOST:PORT (port 0 = any free port)")
      ->capture_default_str();
  cmd->add_flag("--embedded", f->embedded,
                "Everything in this process: store, log and sync loop in --data-dir, with demo "
                "data on first start")
      ->excludes("--store");
  cmd->add_option("--data-dir", f->data_dir,
                  "Data directory of --embedded (default $TEMPO_DATA_DIR, else "
                  "$XDG_DATA_HOME/tempo, else ~/.local/share/tempo)");
  cmd->add_flag("--allow-preview", f->allow_preview, "Honour the `at` parameter (preview)");
  cmd->add_option("--threads", f->threads, "Serving threads (0 = one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--l1-mb", f->l1_mb, "L1 (in-process slice cache) size in MiB; 0 disables it")
      ->capture_default_str()
      ->check(CLI::Range(size_t{0}, size_t{1} << 20));
  cmd->add_option("--l1-ttl-ms", f->l1_ttl_ms,
                  "How long a cached slice is fresh; bounds staleness when invalidations "
                  "cannot arrive")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}));
  cmd->add_option("--l1-max-stale-ms", f->l1_max_stale_ms,
                  "How long past its TTL a slice may be served while it is refreshed")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{86'400'000}));
  cmd->add_option("--answer-memo", f->answer_memo,
                  "Answers of repeated queries kept per serving thread (rounded up to a power "
                  "of two; each is checked against its slices and schedules before use); 0 "
                  "disables it")
      ->capture_default_str()
      ->check(CLI::Range(size_t{0}, size_t{1} << 20));
  AddL2Flags(cmd, &f->l2);
  cmd->add_option("--deadline-ms", f->deadline_ms,
                  "The longest a request waits on L2 and the origin; past it the answer is a "
                  "stale copy or 503")
      ->capture_default_str()
      ->check(CLI::Range(1, 60'000));
  cmd->add_option("--origin-threads", f->origin_threads,
                  "Threads reading the origin (at most this many origin reads at once)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--admin-listen", f->admin_listen,
                  "Admin listener HOST:PORT (/readyz, /livez, /metrics, /admin/cache); keep it "
                  "on loopback or a private network; \"off\" disables it")
      ->capture_default_str();
  AddTlsFlags(cmd, f);
  cmd->add_option("--ready-grace-ms", f->ready_grace_ms,
                  "How long the origin may be unreachable before /readyz says not ready")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{3'600'000}));
  cmd->add_option("--metrics-max-tenants", f->metrics_max_tenants,
                  "Tenants named in tempo_requests_by_tenant_total (the first seen); later "
                  "ones count as tenant=\"other\"")
      ->capture_default_str()
      ->check(CLI::Range(size_t{0}, admin::kMaxTrackedTenants));
  cmd->add_option("--log-retention-bytes", f->log_retention_bytes,
                  "With --embedded: per topic, delete the log's oldest sealed segments while the "
                  "topic is larger than this, once every consumer group has read them; 0: no "
                  "limit")
      ->capture_default_str();
  cmd->add_option("--log-retention-hours", f->log_retention_hours,
                  "With --embedded: delete the log's sealed segments last written longer ago "
                  "than this, once every consumer group has read them; 0: no limit")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{100} * 365 * 24));
  cmd->add_option("--drain-ms", f->drain_ms,
                  "On SIGTERM: /readyz says draining at once and serving goes on this long, "
                  "then the listener stops (a second SIGTERM, or SIGINT, stops at once)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{3'600'000}));
  cmd->add_option("--max-connections", f->max_connections,
                  "Open connections on the public listener; more are closed at once (lowered "
                  "at start to keep descriptors in reserve when the limit is too low)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  cmd->add_option("--idle-timeout-ms", f->idle_timeout_ms,
                  "Keep-alive connections idle this long are closed")
      ->capture_default_str()
      ->check(CLI::Range(1, 3'600'000));
  cmd->add_option("--header-timeout-ms", f->header_timeout_ms,
                  "A request must arrive whole this long after its first byte, or its "
                  "connection is closed")
      ->capture_default_str()
      ->check(CLI::Range(1, 3'600'000));
  cmd->add_option("--warm-from", f->warm_from,
                  "Before /readyz turns ready, load the slices another instance holds hottest "
                  "(from L2, else the origin): http://HOST:PORT of its admin listener, or a file "
                  "saved from its GET /admin/cache/hot; unreadable: a warning and a cold start");
  cmd->add_option("--warm-slices", f->warm_slices,
                  "The hottest slices asked of --warm-from (its /admin/cache/hot?n=)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, api::kMaxHotSlices));
  cmd->add_option("--warm-timeout-ms", f->warm_timeout_ms,
                  "The longest the --warm-from warm-up holds /readyz back; then the instance "
                  "turns ready with what it loaded")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}));
  AddShadowFlags(cmd, f);
  AddTenancyFlags(cmd, f);
  AddStreamFlags(cmd, &f->stream, "read invalidations from");
  cmd->add_option("--invalidation-topic", f->invalidation_topic, "Invalidation topic")
      ->capture_default_str();
}

// The configuration as a start (or the last reload) built it: the
// options, and the command whose flags hold them (for ChangedSettings).
struct BuiltConfig {
  std::unique_ptr<CLI::App> app;  // null for the start's own command
  std::unique_ptr<serve::ServeOptions> options;
  std::unique_ptr<LogFlags> log;
  CLI::App* cmd = nullptr;
};

// The access log's settings are serve's (it owns the log); the flags are
// shared with the process log's (cli/log_flags.h).
void CopyAccessLogFlags(const LogFlags& log, serve::ServeOptions* f) {
  f->access_log = log.access_log;
  f->access_log_sample = log.access_log_sample;
  f->access_log_format = log.format;
}

// Builds the configuration again, as at start: the settings the command
// line and the environment gave, then the --config file (re-read).
Result<BuiltConfig> RebuildConfig(const GivenSettings& given, const std::string& config) {
  BuiltConfig built;
  built.app = std::make_unique<CLI::App>();
  built.options = std::make_unique<serve::ServeOptions>();
  built.log = std::make_unique<LogFlags>();
  built.cmd = built.app->add_subcommand("serve");
  AddServeFlags(built.cmd, built.options.get(), built.log.get());
  BindEnvironment(built.cmd);  // the defaults, as at start
  if (Status s = ApplyGivenSettings(built.cmd, given); !s.ok()) return s;
  if (Status s = ApplyConfigFile(built.cmd, config, ServeSections(built.options.get())); !s.ok()) {
    return s;
  }
  CopyAccessLogFlags(*built.log, built.options.get());
  if (Status s = serve::CheckStreamOptions(built.options->stream); !s.ok()) return s;
  return built;
}

bool SameLimits(const std::map<std::string, config::TenantLimit>& a,
                const std::map<std::string, config::TenantLimit>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.first == y.first && x.second.rate == y.second.rate && x.second.burst == y.second.burst;
  });
}

// SIGHUP: re-reads the configuration and applies what can change live;
// logs what changed, what was applied and what needs a restart. A
// configuration that no longer parses changes nothing.
void Reload(serve::Server* server, const GivenSettings& given, const std::string& config,
            BuiltConfig* current) {
  Result<BuiltConfig> next = RebuildConfig(given, config);
  if (!next.ok()) {
    Log(LogLevel::kWarn, "serve",
        "reload: the configuration is not valid, nothing changed: " + next.status().message());
    return;
  }
  std::vector<std::string> changed = ChangedSettings(*current->cmd, *next->cmd);
  if (!SameLimits(current->options->tenant_limits, next->options->tenant_limits)) {
    changed.push_back("tenant_limits");
  }
  serve::Server::ReloadOutcome outcome = server->Reload(*next->options, changed);
  const auto changed_any = [&](std::initializer_list<std::string_view> keys) {
    return std::any_of(changed.begin(), changed.end(), [&](const std::string& key) {
      return std::find(keys.begin(), keys.end(), key) != keys.end();
    });
  };
  const bool log_changed = changed_any({"log-level", "log-format"});
  if (log_changed) outcome.applied.push_back("the log level and format");
  std::vector<std::string> failures;
  for (const Status& failure : outcome.failures) failures.push_back(failure.message());
  const std::string line = ReloadLine(changed, outcome.applied, outcome.restart, failures);
  // Said before the new level applies, so that a level raised past info
  // still shows the line that raised it. The flags' checks ran at parse.
  LogLine("serve", line);
  if (log_changed) {
    if (Status s = ApplyLogFlags(*next->log); !s.ok()) {
      Log(LogLevel::kError, "serve", "reload: " + s.message());
    }
  }
  *current = std::move(next).value();
}

int RunServe(CLI::App* cmd, serve::ServeOptions* f, LogFlags* log, const std::string& config,
             bool check_config) {
  StopSignals signals;  // first: before RocksDB or librdkafka start threads
  const GivenSettings given = TakeGivenSettings(*cmd);
  if (Status s = ApplyConfigFile(cmd, config, ServeSections(f)); !s.ok()) {
    std::cerr << "tempo serve: " << s.message() << "\n";
    return 2;
  }
  if (Status s = ApplyLogFlags(*log); !s.ok()) {
    std::cerr << "tempo serve: " << s.message() << "\n";
    return 2;
  }
  CopyAccessLogFlags(*log, f);
  if (Status s = serve::CheckStreamOptions(f->stream); !s.ok()) {
    std::cerr << "tempo serve: " << s.message() << "\n";
    return 2;
  }
  if (check_config) {
    if (Status s = serve::Server::CheckOptions(*f); !s.ok()) {
      std::cerr << "tempo serve: " << s.message() << "\n";
      return 2;
    }
    PrintCheckedConfig(*cmd, "serve", config);
    return 0;
  }
  serve::StartError error;
  std::unique_ptr<serve::Server> server = serve::Server::Start(*f, &error);
  if (server == nullptr) {
    std::cerr << "tempo serve: " << error.status.message() << "\n";
    return error.bad_options ? 2 : 1;
  }
  server->Announce(std::cout);
  // systemd (Type=notify): started once listening. Readiness for traffic
  // stays /readyz's answer: a store opened late must not hold the unit in
  // "activating" until its start times out.
  if (Status s = NotifyReady(); !s.ok()) Log(LogLevel::kWarn, "serve", s.ToString());
  // WATCHDOG=1 every half WatchdogSec= (no thread when none is set): a
  // process whose watcher thread no longer runs is restarted.
  WatchdogPinger watchdog([] { return true; });
  BuiltConfig current;
  current.cmd = cmd;
  current.options = std::make_unique<serve::ServeOptions>(*f);
  current.log = std::make_unique<LogFlags>(*log);
  signals.Watch(
      [&](int sig, int count) {
        // The first SIGTERM drains (readiness off, serving on for
        // --drain-ms); SIGINT, or a second signal, stops at once.
        (void)NotifyStopping();  // systemd shows "deactivating"
        if (count == 1 && sig == SIGTERM && f->drain_ms > 0) {
          server->Drain();
          return;
        }
        LogLine("serve", "stopping on signal " + std::to_string(sig));
        server->Stop();
      },
      [&] { Reload(server.get(), given, config, &current); });
  server->Wait();
  signals.Unwatch();  // its on_stop uses the server
  return 0;
}

}  // namespace

void RegisterServe(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve GET /api/v1|v2/tempo/layouts. With --store, reads a store that `tempo sync` keeps "
      "up to date and evicts changed slices as invalidations arrive (--brokers or --log). "
      "With --embedded, runs store, log and sync loop in this process.");
  auto options = std::make_shared<serve::ServeOptions>();
  auto log = std::make_shared<LogFlags>();
  auto config = std::make_shared<std::string>();
  auto check_config = std::make_shared<bool>(false);
  AddServeFlags(cmd, options.get(), log.get());
  AddConfigOption(cmd, config.get());
  AddCheckConfigOption(cmd, check_config.get());
  BindEnvironment(cmd);
  cmd->callback(
      [=] { *exit_code = RunServe(cmd, options.get(), log.get(), *config, *check_config); });
}

}  // namespace tempo::cli
