#include "cli/embedded.h"

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "cli/l2_flags.h"
#include "gen/generator.h"
#include "log/log.h"
#include "sync/publish.h"

namespace tempo::cli {
namespace {

// The demo data set, published on first start.
constexpr uint64_t kDemoSeed = 1;
constexpr int kDemoTenants = 4;
constexpr int kDemoModules = 60;

Status PublishDemoData(stream::Producer& producer) {
  std::stringstream events;
  gen::GenOptions options;
  options.seed = kDemoSeed;
  options.tenants = kDemoTenants;
  options.modules = kDemoModules;
  if (Status s = gen::Generate(options, events, nullptr, nullptr); !s.ok()) return s;
  auto report = sync::Publish(events, producer, stream::kContentTopic);
  if (!report.ok()) return report.status();
  // The generator includes invalid events on purpose: they land in the DLQ.
  std::cerr << "tempo serve: published the demo data set (" << report->sent << " events, "
            << report->invalid << " invalid ones left out)\n";
  return Status::OK();
}

}  // namespace

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

Result<std::unique_ptr<EmbeddedSync>> EmbeddedSync::Start(const std::string& log_dir,
                                                          origin::Origin* origin,
                                                          l2::L2Client* l2) {
  std::unique_ptr<EmbeddedSync> sync(new EmbeddedSync());
  auto producer = log::OpenLogProducer(log_dir);
  if (!producer.ok()) return producer.status();
  sync->producer_ = std::move(producer).value();
  auto end = log::EndOffset(log_dir, stream::kContentTopic);
  if (!end.ok()) return end.status();
  if (*end == 0) {
    if (Status s = PublishDemoData(*sync->producer_); !s.ok()) return s;
  }
  auto consumer = log::OpenLogConsumer(log_dir, kEmbeddedSyncGroup,
                                       {std::string(stream::kContentTopic)},
                                       log::StartAt::kEarliest);
  if (!consumer.ok()) return consumer.status();
  sync->consumer_ = std::move(consumer).value();
  sync::SyncOptions options;
  options.log = [](const std::string& line) { std::cerr << "tempo serve: sync: " << line << "\n"; };
  sync::Syncer::Observer observer;
  if (l2 != nullptr) {
    sync->rewriter_ = std::make_unique<l2::SliceRewriter>(origin, l2, options.log);
    observer = RewriteInL2(sync->rewriter_.get());
  }
  sync->syncer_ = std::make_unique<sync::Syncer>(sync->consumer_.get(), sync->producer_.get(),
                                                 origin, options, std::move(observer));
  // The backlog first, so that the first request sees it.
  while (true) {
    auto batch = sync->syncer_->RunOnce();
    if (!batch.ok()) return batch.status();
    if (batch->messages == 0) break;
  }
  EmbeddedSync* raw = sync.get();
  sync->thread_ = std::thread([raw] {
    if (Status s = raw->syncer_->Run(); !s.ok()) {
      std::cerr << "tempo serve: sync stopped: " << s.ToString() << "\n";
    }
  });
  return sync;
}

EmbeddedSync::~EmbeddedSync() {
  if (syncer_) syncer_->Stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tempo::cli
