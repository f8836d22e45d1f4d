// `tempo sync`: the content sync service (SPEC §6): consumes the content
// topic, applies it to an origin store, dead-letters invalid events and
// publishes invalidations, in sync::Syncer::Run's loop.
#include <chrono>
#include <iostream>
#include <memory>

#include "admin/admin_service.h"
#include "cli/check_config.h"
#include "cli/commands.h"
#include "cli/config_file.h"
#include "cli/event_input.h"
#include "cli/l2_flags.h"
#include "cli/log_flags.h"
#include "cli/stop_signals.h"
#include "cli/stream_flags.h"
#include "cli/tls_flags.h"
#include "common/logging.h"
#include "common/service_notify.h"
#include "http/tls_context.h"
#include "l2/slice_rewriter.h"
#include "log/log.h"
#include "serve/admin_listener.h"
#include "serve/process_metrics.h"
#include "serve/store_uri.h"
#include "sync/background_sync.h"
#include "sync/rewrite_in_l2.h"
#include "sync/syncer.h"

namespace tempo::cli {
namespace {

// How `tempo sync` runs; the initial values are the flags' defaults.
struct SyncFlags {
  // Where events come from and invalidations go. Default: none (required).
  serve::StreamOptions stream;
  // The origin store. Default: none (required).
  std::string store;
  // The consumer group. Default: tempo-sync.
  std::string group = "tempo-sync";
  // The content topic. Default: stream::kContentTopic.
  std::string topic{stream::kContentTopic};
  // Default: sync::SyncOptions::dlq_topic.
  std::string dlq_topic = sync::SyncOptions().dlq_topic;
  // Default: sync::SyncOptions::invalidation_topic.
  std::string invalidation_topic = sync::SyncOptions().invalidation_topic;
  // Most events per batch. Default: sync::SyncOptions::max_batch.
  size_t batch = sync::SyncOptions().max_batch;
  // Counters to the log this often; 0: never. Default: 10000.
  int64_t stats_every_ms = 10'000;
  // --log-level, --log-format.
  LogFlags log;
  // --check-config: check, print the configuration in effect, exit.
  bool check_config = false;
  // Largest record accepted. Default: events::DecodeOptions::max_record_bytes
  // (set by AddMaxRecordBytesOption).
  size_t max_record_bytes = 0;
  // Exit 0 once a poll finds no more events. Default: false.
  bool drain = false;
  // L2 to rewrite touched slices in. Default: none.
  serve::L2ClientOptions l2;
  // The admin listener HOST:PORT, or "off". Default: off.
  std::string admin_listen = "off";
  // TLS on the admin listener, and the off-loopback rule. Default: none.
  http::TlsFiles admin_tls;
  bool admin_insecure = false;
  // With --log: the segment size of the topics this process writes (DLQ,
  // invalidations). Default: log::LogOptions::segment_bytes.
  size_t log_segment_bytes = log::LogOptions().segment_bytes;
  // With --log: retention of every topic of the log (log::RetentionOptions;
  // 0: no limit). Default: 0 and 0.
  uint64_t log_retention_bytes = 0;
  int64_t log_retention_hours = 0;
  // The YAML file (cli/config_file.h). Default: none.
  std::string config;
};

// The largest --log-retention-hours: 100 years.
constexpr int64_t kMaxLogRetentionHours = int64_t{100} * 365 * 24;

// The counters as one info line (tests/sync_e2e_test.py reads "events N" from it).
void LogStats(const sync::SyncStats& s) {
  Log(LogLevel::kInfo, "sync",
      "batches " + std::to_string(s.batches) + ", events " + std::to_string(s.events) +
          ", applied " + std::to_string(s.applied) + ", stale " + std::to_string(s.stale) +
          ", dlq " + std::to_string(s.invalid) + ", invalidations " +
          std::to_string(s.invalidations) + " (owed by a previous process " +
          std::to_string(s.recovered_invalidations) + "), lag " + std::to_string(s.lag));
}

void AddSyncFlags(CLI::App* cmd, SyncFlags* f) {
  AddStreamFlags(cmd, &f->stream, "consume from and publish to");
  cmd->add_option("--store", f->store,
                  "Origin store: DIR, rocksdb:///DIR or postgres://USER@HOST:PORT/DB");
  cmd->add_option("--group", f->group, "Consumer group")->capture_default_str();
  cmd->add_option("--topic", f->topic, "Content topic")->capture_default_str();
  cmd->add_option("--dlq-topic", f->dlq_topic, "Dead-letter topic")->capture_default_str();
  cmd->add_option("--invalidation-topic", f->invalidation_topic, "Invalidation topic")
      ->capture_default_str();
  cmd->add_option("--batch", f->batch,
                  "Most events per batch (one fsync, flush and commit each; a poll returns only "
                  "what is there, so a live stream makes small batches)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100'000}));
  cmd->add_option("--stats-every-ms", f->stats_every_ms, "Log the counters this often; 0: never")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{86'400'000}));
  AddMaxRecordBytesOption(cmd, &f->max_record_bytes);
  cmd->add_flag("--drain", f->drain, "Exit 0 once a poll finds no more events (backlog consumed)");
  cmd->add_option("--log-segment-bytes", f->log_segment_bytes,
                  "With --log: size at which the log's segments this process writes (DLQ, "
                  "invalidations) roll over")
      ->capture_default_str()
      ->check(CLI::Range(log::kMinSegmentBytes, log::kMaxSegmentBytes));
  cmd->add_option("--log-retention-bytes", f->log_retention_bytes,
                  "With --log: per topic, delete the oldest sealed segments while the topic is "
                  "larger than this, once every consumer group has read them; 0: no limit")
      ->capture_default_str();
  cmd->add_option("--log-retention-hours", f->log_retention_hours,
                  "With --log: delete sealed segments last written longer ago than this, once "
                  "every consumer group has read them; 0: no limit")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, kMaxLogRetentionHours));
  AddL2Flags(cmd, &f->l2);
  cmd->add_option("--admin-listen", f->admin_listen,
                  "Admin listener HOST:PORT (/metrics with lag and apply counters, /livez); "
                  "off by default")
      ->capture_default_str();
  AddAdminTlsFlags(cmd, &f->admin_tls, &f->admin_insecure);
  AddLogFlags(cmd, &f->log, /*with_access_log=*/false);
  AddConfigOption(cmd, &f->config);
  AddCheckConfigOption(cmd, &f->check_config);
  BindEnvironment(cmd);
}

// The configuration a start (or the last reload) built: the flags and the
// command that binds them (for ChangedSettings).
struct SyncConfig {
  std::unique_ptr<CLI::App> app;  // null for the start's own command
  std::unique_ptr<SyncFlags> flags;
  const CLI::App* cmd = nullptr;
};

// SIGHUP: builds the configuration again as at start (the command line's
// and the environment's settings, the --config file re-read) and applies
// what a running sync can change: the log level and format. Logs what
// changed and what needs a restart; a configuration that no longer parses
// changes nothing.
void ReloadSync(const GivenSettings& given, const std::string& config, SyncConfig* current) {
  SyncConfig next;
  next.app = std::make_unique<CLI::App>();
  next.flags = std::make_unique<SyncFlags>();
  CLI::App* cmd = next.app->add_subcommand("sync");
  next.cmd = cmd;
  AddSyncFlags(cmd, next.flags.get());
  Status s = ApplyGivenSettings(cmd, given);
  if (s.ok()) s = ApplyConfigFile(cmd, config, {KafkaConfigSection(&next.flags->stream)});
  if (!s.ok()) {
    Log(LogLevel::kWarn, "sync",
        "reload: the configuration is not valid, nothing changed: " + s.message());
    return;
  }
  const std::vector<std::string> changed = ChangedSettings(*current->cmd, *cmd);
  std::vector<std::string> applied, restart;
  for (const std::string& key : changed) {
    if (key != "log-level" && key != "log-format") restart.push_back(key);
  }
  const bool log_changed = restart.size() < changed.size();
  if (log_changed) applied.push_back("the log level and format");
  const std::string line = ReloadLine(changed, applied, restart, {});
  // Said before the new level applies, so that a level raised past info
  // still shows the line that raised it. The flags' checks ran at parse.
  Log(LogLevel::kInfo, "sync", line);
  if (log_changed) {
    if (Status log = ApplyLogFlags(next.flags->log); !log.ok()) {
      Log(LogLevel::kError, "sync", "reload: " + log.message());
    }
  }
  *current = std::move(next);
}

// Runs the sync service; returns the exit code.
int RunSync(CLI::App* cmd, SyncFlags* flags) {
  StopSignals signals;  // first: before RocksDB or librdkafka start threads
  const GivenSettings given = TakeGivenSettings(*cmd);
  if (Status s = ApplyConfigFile(cmd, flags->config, {KafkaConfigSection(&flags->stream)});
      !s.ok()) {
    std::cerr << "tempo sync: " << s.message() << "\n";
    return 2;
  }
  if (Status s = ApplyLogFlags(flags->log); !s.ok()) {
    std::cerr << "tempo sync: " << s.message() << "\n";
    return 2;
  }
  const SyncFlags& f = *flags;
  if (!serve::HasStream(f.stream) || f.store.empty()) {
    std::cerr << "tempo sync: give --store and one of --brokers or --log\n";
    return 2;
  }
  if (Status s = serve::CheckStreamOptions(f.stream); !s.ok()) {
    std::cerr << "tempo sync: " << s.message() << "\n";
    return 2;
  }
  log::RetentionOptions retention;
  retention.max_bytes = f.log_retention_bytes;
  retention.max_age = std::chrono::hours(f.log_retention_hours);
  // `tempo serve` reads invalidations from their end and never commits.
  retention.uncommitted_topics = {f.invalidation_topic};
  if (f.stream.log_dir.empty() && (log::RetentionEnabled(retention) ||
                                   f.log_segment_bytes != log::LogOptions().segment_bytes)) {
    std::cerr << "tempo sync: --log-segment-bytes and --log-retention-* need --log (Kafka keeps "
                 "its own retention)\n";
    return 2;
  }
  auto l2 = serve::OpenL2(f.l2);
  if (!l2.ok()) {
    std::cerr << "tempo sync: " << l2.status().message() << "\n";
    return 2;
  }
  if (f.check_config) {
    Status s = serve::CheckAdminListen(f.admin_listen, f.admin_tls, f.admin_insecure);
    if (s.ok() && f.admin_tls.enabled()) s = http::TlsContext::Load(f.admin_tls).status();
    if (!s.ok()) {
      std::cerr << "tempo sync: " << s.message() << "\n";
      return 2;
    }
    PrintCheckedConfig(*cmd, "sync", f.config);
    return 0;
  }
  // From here on, failures are the service's, not the command line's: they go to the log.
  auto origin = serve::OpenStore(f.store);
  if (!origin.ok()) {
    Log(LogLevel::kError, "sync", origin.status().message());
    return 1;
  }
  if (Status s = serve::EnsureTempoTopics(f.stream, {f.topic, f.dlq_topic, f.invalidation_topic});
      !s.ok()) {
    Log(LogLevel::kError, "sync", s.ToString());
    return 1;
  }
  // The producer first: it creates a missing log directory, a consumer does not.
  log::LogOptions log_options;
  log_options.segment_bytes = f.log_segment_bytes;
  auto producer = f.stream.log_dir.empty() ? serve::OpenProducer(f.stream)
                                           : log::OpenLogProducer(f.stream.log_dir, log_options);
  auto consumer = producer.ok()
                      ? serve::OpenConsumer(f.stream, f.group, {f.topic}, /*from_latest=*/false)
                      : producer.status();
  if (!consumer.ok()) {
    Log(LogLevel::kError, "sync", consumer.status().ToString());
    return 1;
  }
  sync::SyncOptions options;
  options.dlq_topic = f.dlq_topic;
  options.invalidation_topic = f.invalidation_topic;
  options.max_batch = f.batch;
  options.decode.max_record_bytes = f.max_record_bytes;
  // The syncer's and the rewriter's lines: retries and failures it works around.
  options.log = [](const std::string& line) { Log(LogLevel::kWarn, "sync", line); };
  // With L2: touched slices are rewritten there before serves hear of them.
  std::unique_ptr<l2::SliceRewriter> rewriter;
  sync::Syncer::Observer observer;
  if (*l2) {
    rewriter = std::make_unique<l2::SliceRewriter>(origin->get(), l2->get(), options.log);
    observer = sync::RewriteInL2(rewriter.get());
  }
  sync::Syncer syncer(consumer->get(), producer->get(), origin->get(), options, observer);
  // Between batches, on this thread: deletions never delay a serving process.
  std::unique_ptr<log::PeriodicRetention> log_retention;
  if (log::RetentionEnabled(retention)) {
    log_retention = std::make_unique<log::PeriodicRetention>(f.stream.log_dir, retention);
  }
  serve::ProcessParts parts;
  parts.l2 = l2->get();
  parts.rewriter = rewriter.get();
  parts.sync_stats = [&syncer, &log_retention] {
    return sync::WithRetentionStats(syncer.Stats(), log_retention.get());
  };
  admin::AdminService admin_service(serve::ReportingHooks(parts));
  auto admin_server =
      serve::StartAdminListener(f.admin_listen, &admin_service, 0, f.admin_tls, f.admin_insecure);
  if (!admin_server.ok()) {
    Log(LogLevel::kError, "sync", admin_server.status().message());
    return admin_server.status().code() == Status::Code::kInvalidArgument ? 2 : 1;
  }
  std::string running = serve::DescribeStream(f.stream) + " topic " + f.topic + " -> store " +
                        serve::RedactStoreUri(f.store);
  if (*l2) running += ", L2 " + f.l2.servers;
  if (*admin_server) running += ", admin on port " + std::to_string((*admin_server)->port());
  if (log_retention) {
    running += ", log retention " + std::to_string(f.log_retention_bytes) + " bytes per topic, " +
               std::to_string(f.log_retention_hours) + " hours (0: no limit)";
  }
  Log(LogLevel::kInfo, "sync", running);
  SyncConfig current;
  current.cmd = cmd;
  signals.Watch(
      [&](int sig, int /*count*/) {
        (void)NotifyStopping();  // systemd shows "deactivating"
        Log(LogLevel::kInfo, "sync", "stopping on signal " + std::to_string(sig));
        syncer.Stop();
      },
      [&] { ReloadSync(given, f.config, &current); });
  // systemd (Type=notify): running; WATCHDOG=1 while the watcher thread runs.
  if (Status s = NotifyReady(); !s.ok()) Log(LogLevel::kWarn, "sync", s.ToString());
  WatchdogPinger watchdog([] { return true; });

  const auto started = std::chrono::steady_clock::now();
  auto last_stats = started;
  sync::RunOptions run;
  run.until_idle = f.drain;
  run.after_batch = [&] {
    if (log_retention) log_retention->RunIfDue();
    const auto now = std::chrono::steady_clock::now();
    if (f.stats_every_ms > 0 && now - last_stats >= std::chrono::milliseconds(f.stats_every_ms)) {
      LogStats(syncer.Stats());
      last_stats = now;
    }
  };
  int exit_code = 0;
  // Retries with backoff inside; returns OK on a signal (a batch it
  // interrupted is replayed on restart) or, with --drain, once idle.
  if (Status s = syncer.Run(run); !s.ok()) {
    Log(LogLevel::kError, "sync", "stopped: " + s.ToString());
    exit_code = 1;
  }
  signals.Unwatch();  // its on_stop uses the syncer
  if (*admin_server) {
    (*admin_server)->Stop();
    (*admin_server)->Wait();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const sync::SyncStats stats = syncer.Stats();
  LogStats(stats);
  std::cout << "applied " << stats.applied << ", stale " << stats.stale << ", invalid "
            << stats.invalid << " in " << seconds << " s ("
            << static_cast<uint64_t>(seconds > 0 ? stats.events / seconds : 0) << " events/s)\n";
  return exit_code;
}

}  // namespace

void RegisterSync(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "sync",
      "Consume the content topic, apply each event to the origin store when its version is "
      "higher, send invalid events to the DLQ topic, and publish one invalidation per touched "
      "page slice. Offsets are committed only after the origin write is durable, so a crash "
      "loses nothing and a replay changes nothing. Runs until SIGINT/SIGTERM (or, with "
      "--drain, until the backlog is consumed).");
  auto flags = std::make_shared<SyncFlags>();
  AddSyncFlags(cmd, flags.get());
  cmd->callback([=] { *exit_code = RunSync(cmd, flags.get()); });
}

}  // namespace tempo::cli
