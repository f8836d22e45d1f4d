// The sync service's loop (`tempo sync`, SPEC §6): consumes content events,
// applies them to the origin under the version rule, sends invalid ones to
// the DLQ, and publishes one invalidation per touched slice after each batch.
//
// At start, before the first poll, the invalidations a previous process
// owed (the origin's outbox, see origin.h) are delivered:
//   0. Origin::PendingInvalidations; when there are any, the observer sees
//      them, they are sent and Flushed as in step 4, then
//      Origin::ClearPendingInvalidations.
// Then one batch, in this order:
//   1. Poll up to max_batch messages.
//   2. DecodeEvent of every message (with options.decode: a record over
//      its size limit is invalid too); an invalid one is queued for the DLQ
//      with the original key and bytes and headers "reason", "topic",
//      "partition", "offset". The valid ones go to the origin in one
//      Origin::ApplyBatch with record_pending (one write, which also records
//      the batch's invalidations in the outbox): a stale version is counted
//      and invalidates nothing; an event the origin rejects as
//      InvalidArgument goes to the DLQ like a decode failure.
//   3. The observer sees the touched slices (L2 rewrite/delete goes there,
//      before any `tempo serve` is told to reload).
//   4. DLQ messages and invalidations are sent and Flushed.
//   5. Origin::Sync, so the batch survives a power loss. After the
//      invalidations: the serving processes read the applied rows without
//      it, and a slow fsync would otherwise delay every change's visibility.
//   6. Consumer::Commit of the batch.
// A crash anywhere before 6 re-delivers the batch; the version rule makes the
// replay a no-op on the origin (after a power loss before 5, the lost writes,
// the outbox record with them, are simply applied again and invalidate).
// The replayed events are stale and touch nothing, so their invalidations
// come from step 0: a crash after 2 and before 4 completed loses none. Each
// batch's record replaces the last one, which step 4 delivered before the
// next poll, so the outbox costs one more value in step 2's write and no
// write to clear it; the price is that a restart after a clean stop sends
// the last batch's invalidations again (both topics' consumers tolerate
// duplicates). Steps 0, 2, 4 and 5 retry a failing origin or producer with
// bounded exponential backoff rather than skip an event or commit past an
// undelivered message; they give up only when Stop() is called. When step 2
// retried, the outbox is merged into the batch's touched slices before step
// 3: a failed ApplyBatch may have been applied after all (a PostgreSQL
// connection lost during the COMMIT), and its retry then finds the events
// stale. Origins without an outbox (the default Origin::ApplyBatch) never
// have pending invalidations: for them a crash between 2 and 4 leaves a
// `tempo serve` that kept the old slice serving it until its L1 TTL expires.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/histogram.h"
#include "common/mutex.h"
#include "common/status.h"
#include "common/time.h"
#include "events/events.h"
#include "events/record.h"
#include "origin/origin.h"
#include "stream/stream.h"

namespace tempo::sync {

struct SyncOptions {
  // Where invalid events go (key, value and headers as described above).
  // Default: stream::kDlqTopic.
  std::string dlq_topic{stream::kDlqTopic};
  // Where invalidations go (see events/invalidation.h). Default:
  // stream::kInvalidationTopic.
  std::string invalidation_topic{stream::kInvalidationTopic};
  // Messages per batch: one origin Sync, one Flush and one Commit each. A
  // poll returns only what is there, so a live stream makes small batches.
  // Default: 10000.
  size_t max_batch = 10000;
  // Limits of the decode of each event (its record size): an event over them
  // goes to the DLQ like any invalid one.
  events::DecodeOptions decode;
  // How long one Poll waits for a first message; also bounds how long Run
  // takes to notice Stop(). Default: 100 ms.
  std::chrono::milliseconds poll_timeout{100};
  // Backoff between retries of a failing origin, producer or consumer:
  // doubles from min to max. Default: 50 ms to 1 s.
  std::chrono::milliseconds retry_backoff_min{50};
  std::chrono::milliseconds retry_backoff_max{1000};
  // How long one Flush may wait for delivery before it counts as failed.
  // Default: 10 s.
  std::chrono::milliseconds flush_timeout{10000};
  // Called with one line per retried failure and per dead-lettered event
  // (for the process log); may be empty.
  std::function<void(const std::string&)> log;
};

// A slice written by a batch and the highest version applied to it.
using SliceTouch = origin::SliceTouch;

// What one RunOnce did.
struct BatchResult {
  uint64_t messages = 0;  // polled (0: nothing arrived within poll_timeout)
  uint64_t applied = 0;
  uint64_t stale = 0;          // version not higher than the stored one
  uint64_t invalid = 0;        // sent to the DLQ
  uint64_t invalidations = 0;  // one per distinct touched slice
};

// How Syncer::Run runs, beyond SyncOptions.
struct RunOptions {
  // Return OK once a poll finds no message (the backlog is consumed), as
  // `tempo sync --drain` does. Default: false (run until Stop()).
  bool until_idle = false;
  // Called on the syncing thread after every RunOnce, whether it succeeded or
  // not (`tempo sync --stats-every-ms` prints counters from it). May be empty.
  std::function<void()> after_batch;
};

// Cumulative counters since construction.
struct SyncStats {
  uint64_t batches = 0;  // committed
  uint64_t events = 0;   // messages processed
  uint64_t applied = 0;
  uint64_t stale = 0;
  uint64_t invalid = 0;
  uint64_t invalidations = 0;
  uint64_t recovered_invalidations = 0;  // owed by a previous process, sent at start
  uint64_t origin_retries = 0;           // failed origin calls retried
  uint64_t producer_retries = 0;         // failed Send/Flush rounds retried
  uint64_t commit_failures = 0;
  int64_t lag = -1;                 // Consumer::Lag after the last batch; -1 unknown
  int64_t last_batch_apply_us = 0;  // decode + apply of the last batch
  int64_t last_batch_total_us = 0;  // first decode to commit of the last batch
  // Applied events by the time from their envelope's publishedAt to the end of the
  // ApplyBatch that applied them, in kLagBounds buckets (1 ms to 60 s). A publishedAt
  // in the future (the publisher's clock ahead of this one) counts as 0; a replayed backlog
  // shows as its age. Stale and invalid events are not applied, so not in it.
  HistogramSnapshot apply_lag;
  uint64_t apply_lag_unknown = 0;  // applied events without a valid RFC 3339 publishedAt
  // Sealed segments of the embedded log deleted by the retention this loop
  // runs, and their bytes (log::PeriodicRetention; see WithRetentionStats in
  // background_sync.h). 0 with Kafka or without retention: the Syncer
  // itself leaves them 0.
  uint64_t log_retention_deleted_segments = 0;
  uint64_t log_retention_deleted_bytes = 0;
};

class Syncer {
 public:
  // Called after each batch that touched slices, with one entry per
  // distinct slice in SliceKey order, after the batch is applied and before the
  // invalidations are sent; likewise with the pending invalidations of step 0.
  // Runs on the syncing thread.
  using Observer = std::function<void(const std::vector<SliceTouch>&)>;

  // The consumer must already be subscribed to the content topic. None of
  // the pointers is owned; all must outlive the Syncer.
  Syncer(stream::Consumer* consumer, stream::Producer* producer, origin::Origin* origin,
         SyncOptions options = {}, Observer observer = nullptr);
  Syncer(const Syncer&) = delete;
  Syncer& operator=(const Syncer&) = delete;

  // Polls and processes one batch (see the top of this file); a batch of 0
  // messages when none arrived within poll_timeout. The first call delivers
  // the pending invalidations first (step 0); its errors end the call and the
  // next call tries again. Errors:
  //  - Poll's error (nothing was consumed);
  //  - Unavailable "stopped" when Stop() interrupted a retry: the batch is
  //    not committed, and the next RunOnce resumes it where it stopped;
  //  - Corruption/Internal/NotFound from the origin, or an InvalidArgument
  //    for the whole ApplyBatch (a read-only origin), which retrying cannot
  //    fix: likewise kept and resumed by the next RunOnce;
  //  - Commit's error: the batch is done and the next commit covers it (a
  //    commit is "up to offset N" per partition); if none does before a
  //    restart, the batch is replayed, harmlessly.
  // Not thread-safe: one thread calls RunOnce or Run.
  Result<BatchResult> RunOnce();

  // Runs batches until Stop() (or, with run.until_idle, until a poll finds
  // nothing): the one loop of `tempo sync` and of serve --embedded's
  // BackgroundSync. Retries Unavailable/IOError with backoff from
  // retry_backoff_min to retry_backoff_max, logged as "sync: <error>;
  // retrying". Returns OK after Stop() or once idle, or the first error that
  // retrying cannot fix (origin corruption, a misconfigured consumer).
  Status Run(const RunOptions& run = {});

  // Asks Run (and any retry in progress) to return; safe from any thread.
  // A batch that meets no failure is finished first. Run returns within
  // about poll_timeout plus one batch. Final: a stopped Syncer does not run
  // again.
  void Stop() LOCKS_EXCLUDED(stop_mu_);

  SyncStats Stats() const;

 private:
  struct DeadLetter {
    size_t index;  // into Batch::messages
    std::string reason;
  };
  // A polled batch being processed; kept across an interrupted RunOnce.
  struct Batch {
    std::vector<stream::Message> messages;
    bool decoded = false;
    std::vector<events::Event> events;  // the messages that decode, in order
    std::vector<size_t> event_message;  // events[i] is messages[event_message[i]]
    size_t next_event = 0;              // first event not yet applied
    bool apply_retried = false;         // an ApplyBatch failed: its outbox is merged in
    bool synced = false;                // origin Sync done
    bool observed = false;              // observer called
    std::vector<DeadLetter> dead_letters;
    // slice -> highest applied version. Hashed: with std::map, SliceKey
    // comparisons were 2.5% of the loop's CPU time.
    std::unordered_map<origin::SliceKey, int64_t, origin::SliceKeyHash> touched;
    BatchResult result;
    std::chrono::steady_clock::time_point started;
    std::chrono::steady_clock::duration apply_time{};
  };

  // Step 0: delivers and clears the origin's pending invalidations.
  Status DeliverPending();
  // Reads the origin's pending invalidations, retrying as RetryOrigin does.
  Status ReadPending(std::vector<SliceTouch>* pending);
  // Steps 2-6 for `batch_`.
  Result<BatchResult> Process();
  // Decodes every message of `batch_` (invalid ones become dead letters).
  void Decode();
  // Applies the decoded events not yet applied with ApplyBatch, retrying
  // origin failures from the first event not applied; records the outcomes.
  Status ApplyEvents();
  // Records the outcome of events [next_event, next_event + results.size())
  // and the slices they touched; `applied_at` is when their ApplyBatch returned.
  void Record(const std::vector<origin::ApplyResult>& results,
              std::vector<origin::SliceKey>* touched, UnixNanos applied_at);
  // Sends every DLQ message of `batch` (none when null) and the
  // invalidations and Flushes, from the start again after any failure, until
  // delivered or stopped.
  Status Deliver(const Batch* batch, const std::vector<SliceTouch>& touches);
  // One round of Deliver: Send all (on a full queue: Flush, then once more), Flush.
  Status SendAll(const Batch* batch, const std::vector<SliceTouch>& touches);
  // Calls `call` until it succeeds, backing off after each retryable
  // failure (logged as "origin <what> failed"); its non-retryable error, or
  // Stopped().
  Status RetryOrigin(std::string_view what, const std::function<Status()>& call);
  // Waits `*backoff` (or until Stop()), then doubles it up to the maximum.
  // Returns false when stopped.
  bool Backoff(std::chrono::milliseconds* backoff) LOCKS_EXCLUDED(stop_mu_);
  // True once Stop() was called.
  bool Stopping() const LOCKS_EXCLUDED(stop_mu_);
  void Log(const std::string& line) const;
  static Status Stopped();

  stream::Consumer* const consumer_;
  stream::Producer* const producer_;
  origin::Origin* const origin_;
  const SyncOptions options_;
  const Observer observer_;

  bool pending_delivered_ = false;  // step 0 done
  std::optional<Batch> batch_;
  // ApplyBatch's outputs, reused across batches.
  std::vector<origin::ApplyResult> apply_results_;
  std::vector<origin::SliceKey> apply_touched_;

  // Held for the stop flag so that Backoff, which waits on stop_cv_, cannot
  // miss a Stop() between its check and its wait. Taken once per batch and
  // per retry, never on the per-event path.
  mutable Mutex stop_mu_;
  bool stopped_ GUARDED_BY(stop_mu_) = false;
  CondVar stop_cv_;  // signalled by Stop()

  std::atomic<uint64_t> batches_{0}, events_{0}, applied_{0}, stale_{0}, invalid_{0},
      invalidations_{0}, recovered_invalidations_{0}, origin_retries_{0}, producer_retries_{0},
      commit_failures_{0};
  std::atomic<int64_t> lag_{-1}, last_batch_apply_us_{0}, last_batch_total_us_{0};
  Histogram apply_lag_{kLagBounds};
  std::atomic<uint64_t> apply_lag_unknown_{0};
};

}  // namespace tempo::sync
