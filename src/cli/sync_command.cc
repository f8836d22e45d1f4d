// `tempo sync`: the content sync service (SPEC §6): consumes the content
// topic, applies it to an origin store, dead-letters invalid events and
// publishes invalidations.
#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include "admin/admin_service.h"
#include "cli/admin_listener.h"
#include "cli/commands.h"
#include "cli/config_file.h"
#include "cli/event_input.h"
#include "cli/l2_flags.h"
#include "cli/process_metrics.h"
#include "cli/stop_signals.h"
#include "cli/store_uri.h"
#include "cli/stream_flags.h"
#include "l2/slice_rewriter.h"
#include "sync/syncer.h"

namespace tempo::cli {
namespace {

void PrintStats(const sync::SyncStats& s) {
  std::cerr << "tempo sync: batches " << s.batches << ", events " << s.events << ", applied "
            << s.applied << ", stale " << s.stale << ", dlq " << s.invalid << ", invalidations "
            << s.invalidations << " (owed by a previous process " << s.recovered_invalidations
            << "), lag " << s.lag << "\n";
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
  auto flags = std::make_shared<StreamFlags>();
  auto store = std::make_shared<std::string>();
  auto group = std::make_shared<std::string>("tempo-sync");
  auto topic = std::make_shared<std::string>(stream::kContentTopic);
  auto dlq_topic = std::make_shared<std::string>(stream::kDlqTopic);
  auto invalidation_topic = std::make_shared<std::string>(stream::kInvalidationTopic);
  auto batch = std::make_shared<size_t>(10000);
  auto stats_every_ms = std::make_shared<int64_t>(10'000);
  auto drain = std::make_shared<bool>(false);
  auto config = std::make_shared<std::string>();
  auto l2_flags = std::make_shared<L2Flags>();
  auto admin_listen = std::make_shared<std::string>("off");
  auto max_record_bytes = std::make_shared<size_t>();
  AddStreamFlags(cmd, flags.get(), "consume from and publish to");
  cmd->add_option("--store", *store, "Origin store: DIR, rocksdb:///DIR or postgres://USER@HOST:PORT/DB");
  cmd->add_option("--group", *group, "Consumer group")->default_val("tempo-sync");
  cmd->add_option("--topic", *topic, "Content topic")->default_val(std::string(stream::kContentTopic));
  cmd->add_option("--dlq-topic", *dlq_topic, "Dead-letter topic")
      ->default_val(std::string(stream::kDlqTopic));
  cmd->add_option("--invalidation-topic", *invalidation_topic, "Invalidation topic")
      ->default_val(std::string(stream::kInvalidationTopic));
  cmd->add_option("--batch", *batch,
                  "Most events per batch (one fsync, flush and commit each; a poll returns only "
                  "what is there, so a live stream makes small batches)")
      ->default_val(10000)
      ->check(CLI::Range(size_t{1}, size_t{100'000}));
  cmd->add_option("--stats-every-ms", *stats_every_ms, "Print counters to stderr this often; 0: never")
      ->default_val(10'000)
      ->check(CLI::Range(int64_t{0}, int64_t{86'400'000}));
  AddMaxRecordBytesOption(cmd, max_record_bytes.get());
  cmd->add_flag("--drain", *drain, "Exit 0 once a poll finds no more events (backlog consumed)");
  AddL2Flags(cmd, l2_flags.get());
  cmd->add_option("--admin-listen", *admin_listen,
                  "Admin listener HOST:PORT (/metrics with lag and apply counters, /livez); "
                  "off by default")
      ->default_val("off");
  AddConfigOption(cmd, config.get());
  cmd->callback([=] {
    StopSignals signals;  // first: before RocksDB or librdkafka start threads
    if (Status s = ApplyConfigFile(cmd, *config); !s.ok()) {
      std::cerr << "tempo sync: " << s.message() << "\n";
      *exit_code = 2;
      return;
    }
    if (!HasStream(*flags) || store->empty()) {
      std::cerr << "tempo sync: give --store and one of --brokers or --log\n";
      *exit_code = 2;
      return;
    }
    auto l2 = OpenL2(*l2_flags);
    if (!l2.ok()) {
      std::cerr << "tempo sync: " << l2.status().message() << "\n";
      *exit_code = 2;
      return;
    }
    auto origin = OpenStore(*store);
    if (!origin.ok()) {
      std::cerr << "tempo sync: " << origin.status().message() << "\n";
      *exit_code = 1;
      return;
    }
    if (Status s = EnsureTempoTopics(*flags, {*topic, *dlq_topic, *invalidation_topic}); !s.ok()) {
      std::cerr << "tempo sync: " << s.ToString() << "\n";
      *exit_code = 1;
      return;
    }
    // The producer first: it creates a missing log directory, a consumer does not.
    auto producer = OpenProducer(*flags);
    auto consumer = producer.ok() ? OpenConsumer(*flags, *group, {*topic}, /*from_latest=*/false)
                                  : producer.status();
    if (!consumer.ok()) {
      std::cerr << "tempo sync: " << consumer.status().ToString() << "\n";
      *exit_code = 1;
      return;
    }
    sync::SyncOptions options;
    options.dlq_topic = *dlq_topic;
    options.invalidation_topic = *invalidation_topic;
    options.max_batch = *batch;
    options.decode.max_record_bytes = *max_record_bytes;
    options.log = [](const std::string& line) { std::cerr << "tempo sync: " << line << "\n"; };
    // With L2: touched slices are rewritten there before serves hear of them.
    std::unique_ptr<l2::SliceRewriter> rewriter;
    sync::Syncer::Observer observer;
    if (*l2) {
      rewriter = std::make_unique<l2::SliceRewriter>(origin->get(), l2->get(), options.log);
      observer = RewriteInL2(rewriter.get());
    }
    sync::Syncer syncer(consumer->get(), producer->get(), origin->get(), options, observer);
    ProcessParts parts;
    parts.l2 = l2->get();
    parts.rewriter = rewriter.get();
    parts.sync_stats = [&syncer] { return syncer.Stats(); };
    admin::AdminService admin_service(ReportingHooks(parts));
    auto admin_server = StartAdminListener(*admin_listen, &admin_service);
    if (!admin_server.ok()) {
      std::cerr << "tempo sync: " << admin_server.status().message() << "\n";
      *exit_code = 1;
      return;
    }
    std::cerr << "tempo sync: " << DescribeStream(*flags) << " topic " << *topic << " -> store "
              << *store;
    if (*l2) std::cerr << ", L2 " << l2_flags->servers;
    if (*admin_server) std::cerr << ", admin on port " << (*admin_server)->port();
    std::cerr << "\n";
    std::atomic<bool> stopping{false};
    signals.Watch([&](int sig) {
      std::cerr << "tempo sync: stopping on signal " << sig << "\n";
      stopping = true;
      syncer.Stop();
    });

    const auto started = std::chrono::steady_clock::now();
    auto last_stats = started;
    while (!stopping) {
      auto result = syncer.RunOnce();
      const auto now = std::chrono::steady_clock::now();
      if (*stats_every_ms > 0 && now - last_stats >= std::chrono::milliseconds(*stats_every_ms)) {
        PrintStats(syncer.Stats());
        last_stats = now;
      }
      if (!result.ok()) {
        const Status s = result.status();
        if (stopping) break;  // Stop() interrupted a retry; the batch is replayed on restart
        if (s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kIOError) {
          std::cerr << "tempo sync: " << s.ToString() << " (retrying)\n";
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          continue;
        }
        std::cerr << "tempo sync: " << s.ToString() << "\n";
        *exit_code = 1;
        break;
      }
      if (*drain && result->messages == 0) break;
    }
    signals.Unwatch();  // its on_stop uses the syncer
    if (*admin_server) {
      (*admin_server)->Stop();
      (*admin_server)->Wait();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const sync::SyncStats stats = syncer.Stats();
    PrintStats(stats);
    std::cout << "applied " << stats.applied << ", stale " << stats.stale << ", invalid "
              << stats.invalid << " in " << seconds << " s ("
              << static_cast<uint64_t>(seconds > 0 ? stats.events / seconds : 0)
              << " events/s)\n";
  });
}

}  // namespace tempo::cli
