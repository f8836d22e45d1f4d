// A Syncer that runs on a thread of its own: the sync loop of `tempo serve
// --embedded`, with the same semantics (and the same Syncer::Run loop, retries
// and backoff) as `tempo sync`, and the embedded log's retention between its
// batches.
#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "common/status.h"
#include "log/log.h"
#include "origin/origin.h"
#include "stream/stream.h"
#include "sync/syncer.h"

namespace tempo::sync {

class BackgroundSync final {
 public:
  // Called once with the error that ended Syncer::Run (never after Stop()).
  using OnError = std::function<void(const Status&)>;

  // Takes the consumer (subscribed to the content topic) and the producer;
  // `origin` is not owned and must outlive this. With `retention` (may be
  // null), RunIfDue is called after every batch, on the syncing thread.
  // Starts nothing.
  BackgroundSync(std::unique_ptr<stream::Consumer> consumer,
                 std::unique_ptr<stream::Producer> producer, origin::Origin* origin,
                 SyncOptions options, Syncer::Observer observer = nullptr,
                 std::unique_ptr<log::PeriodicRetention> retention = nullptr);
  // Stops the loop and joins its thread.
  ~BackgroundSync();
  BackgroundSync(const BackgroundSync&) = delete;
  BackgroundSync& operator=(const BackgroundSync&) = delete;

  // Applies batches until a poll finds none, on the calling thread, so that
  // what the stream already holds is in the origin when it returns. No
  // retries: the first error is returned (a process that cannot catch up at
  // start should not start). REQUIRES: before Start().
  Status CatchUp();

  // Runs Syncer::Run on a new thread until Stop() or the destructor;
  // `on_error` (may be empty) hears of an error that ends it. Call once.
  void Start(OnError on_error = nullptr);

  // Asks the loop to return and waits for its thread. Idempotent.
  void Stop();

  // The Syncer's counters, with the retention's (WithRetentionStats).
  SyncStats Stats() const;

 private:
  const std::unique_ptr<stream::Consumer> consumer_;
  const std::unique_ptr<stream::Producer> producer_;
  Syncer syncer_;
  const std::unique_ptr<log::PeriodicRetention> retention_;
  std::thread thread_;
};

// `stats` with the totals of `retention` (may be null) in its
// log_retention_* fields.
SyncStats WithRetentionStats(SyncStats stats, const log::PeriodicRetention* retention);

}  // namespace tempo::sync
