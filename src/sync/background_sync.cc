// The background sync loop.
#include "sync/background_sync.h"

#include <utility>

namespace tempo::sync {

BackgroundSync::BackgroundSync(std::unique_ptr<stream::Consumer> consumer,
                               std::unique_ptr<stream::Producer> producer, origin::Origin* origin,
                               SyncOptions options, Syncer::Observer observer,
                               std::unique_ptr<log::PeriodicRetention> retention)
    : consumer_(std::move(consumer)),
      producer_(std::move(producer)),
      syncer_(consumer_.get(), producer_.get(), origin, std::move(options), std::move(observer)),
      retention_(std::move(retention)) {}

BackgroundSync::~BackgroundSync() { Stop(); }

Status BackgroundSync::CatchUp() {
  while (true) {
    Result<BatchResult> batch = syncer_.RunOnce();
    if (retention_) retention_->RunIfDue();
    if (!batch.ok()) return batch.status();
    if (batch->messages == 0) return Status::OK();
  }
}

void BackgroundSync::Start(OnError on_error) {
  thread_ = std::thread([this, on_error = std::move(on_error)] {
    RunOptions run;
    if (retention_) run.after_batch = [this] { retention_->RunIfDue(); };
    Status s = syncer_.Run(run);
    if (!s.ok() && on_error) on_error(s);
  });
}

void BackgroundSync::Stop() {
  syncer_.Stop();
  if (thread_.joinable()) thread_.join();
}

SyncStats BackgroundSync::Stats() const {
  return WithRetentionStats(syncer_.Stats(), retention_.get());
}

SyncStats WithRetentionStats(SyncStats stats, const log::PeriodicRetention* retention) {
  if (retention == nullptr) return stats;
  const log::RetentionStats r = retention->Stats();
  stats.log_retention_deleted_segments = r.deleted_segments;
  stats.log_retention_deleted_bytes = r.deleted_bytes;
  return stats;
}

}  // namespace tempo::sync
