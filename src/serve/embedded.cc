// Embedded mode: the data directory, the demo data and the in-process sync loop.
#include "serve/embedded.h"

#include <cstdlib>
#include <sstream>

#include "common/logging.h"
#include "gen/generator.h"
#include "l2/slice_rewriter.h"
#include "log/log.h"
#include "sync/publish.h"
#include "sync/rewrite_in_l2.h"

namespace tempo::serve {
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
  LogLine("serve", "published the demo data set (" + std::to_string(report->sent) + " events, " +
                       std::to_string(report->invalid) + " invalid ones left out)");
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

Result<std::unique_ptr<sync::BackgroundSync>> StartEmbeddedSync(const std::string& log_dir,
                                                                origin::Origin* origin,
                                                                l2::L2Client* l2,
                                                                log::RetentionOptions retention) {
  auto producer = log::OpenLogProducer(log_dir);
  if (!producer.ok()) return producer.status();
  auto end = log::EndOffset(log_dir, stream::kContentTopic);
  if (!end.ok()) return end.status();
  if (*end == 0) {
    if (Status s = PublishDemoData(**producer); !s.ok()) return s;
  }
  auto consumer = log::OpenLogConsumer(
      log_dir, kEmbeddedSyncGroup, {std::string(stream::kContentTopic)}, log::StartAt::kEarliest);
  if (!consumer.ok()) return consumer.status();
  sync::SyncOptions options;
  // The syncer's and the rewriter's lines: retries and failures it works around.
  options.log = [](const std::string& line) { Log(LogLevel::kWarn, "sync", line); };
  sync::Syncer::Observer observer;
  if (l2 != nullptr) {
    // Owned by the observer, which the BackgroundSync keeps.
    auto rewriter = std::make_shared<l2::SliceRewriter>(origin, l2, options.log);
    observer = [rewriter, rewrite = sync::RewriteInL2(rewriter.get())](
                   const std::vector<sync::SliceTouch>& touches) { rewrite(touches); };
  }
  std::unique_ptr<log::PeriodicRetention> periodic;
  if (log::RetentionEnabled(retention)) {
    // Serving processes read invalidations from their end and never commit.
    retention.uncommitted_topics.emplace_back(stream::kInvalidationTopic);
    periodic = std::make_unique<log::PeriodicRetention>(log_dir, std::move(retention));
  }
  auto background = std::make_unique<sync::BackgroundSync>(
      std::move(consumer).value(), std::move(producer).value(), origin, std::move(options),
      std::move(observer), std::move(periodic));
  // The backlog first, so that the first request sees it.
  if (Status s = background->CatchUp(); !s.ok()) return s;
  background->Start(
      [](const Status& s) { Log(LogLevel::kError, "sync", "stopped: " + s.ToString()); });
  return background;
}

}  // namespace tempo::serve
