// The background sync loop.
#include "sync/background_sync.h"

#include <utility>

namespace tempo::sync {

BackgroundSync::BackgroundSync(std::unique_ptr<stream::Consumer> consumer,
                               std::unique_ptr<stream::Producer> producer, origin::Origin* origin,
                               SyncOptions options, Syncer::Observer observer)
    : consumer_(std::move(consumer)),
      producer_(std::move(producer)),
      syncer_(consumer_.get(), producer_.get(), origin, std::move(options), std::move(observer)) {}

BackgroundSync::~BackgroundSync() { Stop(); }

Status BackgroundSync::CatchUp() {
  while (true) {
    Result<BatchResult> batch = syncer_.RunOnce();
    if (!batch.ok()) return batch.status();
    if (batch->messages == 0) return Status::OK();
  }
}

void BackgroundSync::Start(OnError on_error) {
  thread_ = std::thread([this, on_error = std::move(on_error)] {
    Status s = syncer_.Run();
    if (!s.ok() && on_error) on_error(s);
  });
}

void BackgroundSync::Stop() {
  syncer_.Stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tempo::sync
