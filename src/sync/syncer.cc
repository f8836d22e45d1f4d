// The sync loop: deliver what a previous process owed, then poll, decode,
// apply, observe, deliver, sync, commit.
#include "sync/syncer.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/time.h"
#include "events/events.h"
#include "events/invalidation.h"

namespace tempo::sync {
namespace {

using Clock = std::chrono::steady_clock;

int64_t Micros(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// Failures that may go away by themselves: a disk or a broker that is busy,
// full or unreachable for a while.
bool Retryable(const Status& s) {
  return s.code() == Status::Code::kIOError || s.code() == Status::Code::kUnavailable;
}

}  // namespace

Syncer::Syncer(stream::Consumer* consumer, stream::Producer* producer, origin::Origin* origin,
               SyncOptions options, Observer observer)
    : consumer_(consumer),
      producer_(producer),
      origin_(origin),
      options_(std::move(options)),
      observer_(std::move(observer)) {}

void Syncer::Stop() {
  {
    MutexLock lock(&stop_mu_);
    stopped_ = true;
  }
  stop_cv_.SignalAll();
}

bool Syncer::Stopping() const {
  MutexLock lock(&stop_mu_);
  return stopped_;
}

bool Syncer::Backoff(std::chrono::milliseconds* backoff) {
  MutexLock lock(&stop_mu_);
  const Clock::time_point deadline = Clock::now() + *backoff;
  // WaitUntil is true when woken before the deadline: Stop(), or spuriously.
  while (!stopped_ && stop_cv_.WaitUntil(&stop_mu_, deadline)) {
  }
  *backoff = std::min(*backoff * 2, options_.retry_backoff_max);
  return !stopped_;
}

void Syncer::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

Status Syncer::Stopped() {
  return Status::Unavailable("sync: stopped before the batch was committed");
}

Status Syncer::Run(const RunOptions& run) {
  std::chrono::milliseconds backoff = options_.retry_backoff_min;
  while (!Stopping()) {
    Result<BatchResult> batch = RunOnce();
    if (run.after_batch) run.after_batch();
    if (batch.ok()) {
      if (run.until_idle && batch->messages == 0) break;
      backoff = options_.retry_backoff_min;
      continue;
    }
    if (Stopping()) break;
    if (!Retryable(batch.status())) return batch.status();
    Log("sync: " + batch.status().ToString() + "; retrying");
    Backoff(&backoff);
  }
  return Status::OK();
}

Result<BatchResult> Syncer::RunOnce() {
  if (!pending_delivered_) {
    if (Status s = DeliverPending(); !s.ok()) return s;
    pending_delivered_ = true;
  }
  if (!batch_) {
    Result<std::vector<stream::Message>> polled =
        consumer_->Poll(options_.max_batch, options_.poll_timeout);
    if (!polled.ok()) return polled.status();
    if (polled->empty()) {
      lag_ = consumer_->Lag();
      return BatchResult{};
    }
    // Not batch_.emplace(): clang 14 finds a nested class with default member
    // initializers not default-constructible inside its enclosing class.
    batch_ = Batch{};
    batch_->messages = std::move(*polled);
    batch_->result.messages = batch_->messages.size();
    batch_->started = Clock::now();
  }
  return Process();
}

Status Syncer::RetryOrigin(std::string_view what, const std::function<Status()>& call) {
  std::chrono::milliseconds backoff = options_.retry_backoff_min;
  for (Status s = call(); !s.ok(); s = call()) {
    if (!Retryable(s)) return s;
    ++origin_retries_;
    Log("sync: origin " + std::string(what) + " failed: " + s.ToString() + "; retrying");
    if (!Backoff(&backoff)) return Stopped();
  }
  return Status::OK();
}

Status Syncer::ReadPending(std::vector<SliceTouch>* pending) {
  return RetryOrigin("read of pending invalidations", [&] {
    Result<std::vector<SliceTouch>> r = origin_->PendingInvalidations();
    if (r.ok()) *pending = std::move(r).value();
    return r.status();
  });
}

Status Syncer::DeliverPending() {
  std::vector<SliceTouch> pending;
  if (Status s = ReadPending(&pending); !s.ok()) return s;
  if (pending.empty()) return Status::OK();
  Log("sync: sending the " + std::to_string(pending.size()) +
      " invalidations of a batch applied before the last stop");
  if (observer_) observer_(pending);
  if (Status s = Deliver(nullptr, pending); !s.ok()) return s;
  recovered_invalidations_ += pending.size();
  return RetryOrigin("clear of pending invalidations",
                     [this] { return origin_->ClearPendingInvalidations(); });
}

Result<BatchResult> Syncer::Process() {
  Batch& b = *batch_;
  const Clock::time_point apply_start = Clock::now();
  if (!b.decoded) Decode();
  const Status applied = ApplyEvents();
  b.apply_time += Clock::now() - apply_start;
  if (!applied.ok()) return applied;
  // A failed ApplyBatch may have been applied after all (PostgreSQL: the
  // connection lost during the COMMIT). Its retry then finds the events
  // stale and touches nothing, but the outbox holds what it touched. Else
  // the outbox holds what this batch or the last one touched: at worst,
  // duplicates of delivered invalidations.
  if (b.apply_retried) {
    std::vector<SliceTouch> recorded;
    if (Status s = ReadPending(&recorded); !s.ok()) return s;
    for (SliceTouch& t : recorded) {
      auto [it, inserted] = b.touched.try_emplace(std::move(t.slice), t.version);
      if (!inserted) it->second = std::max(it->second, t.version);
    }
    b.apply_retried = false;
  }

  std::vector<SliceTouch> touches;
  touches.reserve(b.touched.size());
  for (const auto& [slice, version] : b.touched) touches.push_back({slice, version});
  std::sort(touches.begin(), touches.end(),
            [](const SliceTouch& x, const SliceTouch& y) { return x.slice < y.slice; });
  // Once per batch: a batch resumed after an interrupted delivery was observed already.
  if (observer_ && !touches.empty() && !b.observed) observer_(touches);
  b.observed = true;

  if (!b.dead_letters.empty() || !touches.empty()) {
    if (Status s = Deliver(&b, touches); !s.ok()) return s;
  }
  b.result.invalidations = touches.size();
  invalidations_ += touches.size();

  // After the invalidations: readers see Apply's writes without it (a RocksDB
  // secondary reads the WAL through the page cache), while an fsync on a busy
  // disk takes 100 ms to a second. It only guards against a power loss, and
  // then the batch, not yet committed, is applied again.
  if (!b.synced) {
    if (Status s = RetryOrigin("sync", [this] { return origin_->Sync(); }); !s.ok()) return s;
    b.synced = true;
  }

  const Status committed = consumer_->Commit(b.messages);
  lag_ = consumer_->Lag();
  last_batch_apply_us_ = Micros(b.apply_time);
  last_batch_total_us_ = Micros(Clock::now() - b.started);
  const BatchResult result = b.result;
  batch_.reset();
  if (!committed.ok()) {
    ++commit_failures_;
    return Status::Unavailable("sync: commit failed (a later commit covers the batch): " +
                               committed.ToString());
  }
  ++batches_;
  return result;
}

void Syncer::Decode() {
  Batch& b = *batch_;
  b.events.reserve(b.messages.size());
  for (size_t i = 0; i < b.messages.size(); ++i) {
    Result<events::Event> event = events::DecodeEvent(b.messages[i].value, options_.decode);
    if (!event.ok()) {
      b.dead_letters.push_back({i, event.status().message()});
      ++b.result.invalid;
      ++invalid_;
      continue;
    }
    b.events.push_back(std::move(event).value());
    b.event_message.push_back(i);
  }
  b.decoded = true;
}

Status Syncer::ApplyEvents() {
  Batch& b = *batch_;
  if (b.next_event == b.events.size()) return Status::OK();  // a resumed, applied batch
  std::vector<const events::Event*> pending;
  std::chrono::milliseconds backoff = options_.retry_backoff_min;
  for (;;) {
    pending.clear();
    for (size_t i = b.next_event; i < b.events.size(); ++i) pending.push_back(&b.events[i]);
    apply_touched_.clear();
    const Status s =
        origin_->ApplyBatch(pending, &apply_results_, &apply_touched_, /*record_pending=*/true);
    if (s.ok() && apply_results_.size() != pending.size()) {
      return Status::Internal("sync: ApplyBatch gave " + std::to_string(apply_results_.size()) +
                              " results for " + std::to_string(pending.size()) + " events");
    }
    // On a failure, the events the origin applied before it are kept (see
    // Origin::ApplyBatch): the retry resumes after them.
    Record(apply_results_, &apply_touched_, NowUnixNanos());
    if (s.ok()) break;
    if (!Retryable(s)) return s;
    ++origin_retries_;
    b.apply_retried = true;
    Log("sync: origin apply failed: " + s.ToString() + "; retrying");
    if (!Backoff(&backoff)) return Stopped();
  }
  events_ += b.messages.size();
  // Origin rejections after the decode failures: back to message order for the DLQ.
  std::sort(b.dead_letters.begin(), b.dead_letters.end(),
            [](const DeadLetter& x, const DeadLetter& y) { return x.index < y.index; });
  return Status::OK();
}

void Syncer::Record(const std::vector<origin::ApplyResult>& results,
                    std::vector<origin::SliceKey>* touched, UnixNanos applied_at) {
  Batch& b = *batch_;
  size_t end = 0;  // the current event's slices are (*touched)[end - result.touched, end)
  for (const origin::ApplyResult& result : results) {
    end += result.touched;
    const events::Event& event = b.events[b.next_event];
    const size_t message = b.event_message[b.next_event];
    ++b.next_event;
    if (!result.status.ok()) {  // InvalidArgument: the store rejects this event for good
      b.dead_letters.push_back({message, result.status.message()});
      ++b.result.invalid;
      ++invalid_;
      continue;
    }
    if (result.outcome == origin::ApplyOutcome::kStale) {
      ++b.result.stale;
      ++stale_;
      continue;
    }
    for (size_t i = end - result.touched; i < end; ++i) {
      auto [it, inserted] = b.touched.try_emplace(std::move((*touched)[i]), event.version);
      if (!inserted) it->second = std::max(it->second, event.version);
    }
    ++b.result.applied;
    ++applied_;
    if (const std::optional<UnixNanos> published = ParseRfc3339(event.published_at)) {
      apply_lag_.Observe(std::chrono::nanoseconds(applied_at - *published));
    } else {
      ++apply_lag_unknown_;
    }
  }
}

Status Syncer::Deliver(const Batch* batch, const std::vector<SliceTouch>& touches) {
  std::chrono::milliseconds backoff = options_.retry_backoff_min;
  for (Status s = SendAll(batch, touches); !s.ok(); s = SendAll(batch, touches)) {
    ++producer_retries_;
    // Flush does not say which messages were lost, so a retry sends them all
    // again: consumers of both topics tolerate duplicates.
    Log("sync: delivery failed: " + s.ToString() + "; sending the messages again");
    if (!Backoff(&backoff)) return Stopped();
  }
  return Status::OK();
}

Status Syncer::SendAll(const Batch* batch, const std::vector<SliceTouch>& touches) {
  const auto send = [this](const std::string& topic, std::string_view key, std::string_view value,
                           const std::vector<stream::Header>& headers) {
    Status s = producer_->Send(topic, key, value, headers);
    if (s.code() != Status::Code::kUnavailable) return s;
    // A full queue: wait for it to drain, then try once more.
    if (Status flushed = producer_->Flush(options_.flush_timeout); !flushed.ok()) return flushed;
    return producer_->Send(topic, key, value, headers);
  };
  const std::vector<DeadLetter> no_dead_letters;
  for (const DeadLetter& dead : batch == nullptr ? no_dead_letters : batch->dead_letters) {
    const stream::Message& m = batch->messages[dead.index];
    const std::vector<stream::Header> headers = {{"reason", dead.reason},
                                                 {"topic", m.topic},
                                                 {"partition", std::to_string(m.partition)},
                                                 {"offset", std::to_string(m.offset)}};
    if (Status s = send(options_.dlq_topic, m.key, m.value, headers); !s.ok()) return s;
  }
  for (const SliceTouch& touch : touches) {
    const std::string key = events::InvalidationKey(touch.slice);
    const std::string value = events::EncodeInvalidation(touch.slice, touch.version);
    if (Status s = send(options_.invalidation_topic, key, value, {}); !s.ok()) return s;
  }
  return producer_->Flush(options_.flush_timeout);
}

SyncStats Syncer::Stats() const {
  return SyncStats{batches_.load(),
                   events_.load(),
                   applied_.load(),
                   stale_.load(),
                   invalid_.load(),
                   invalidations_.load(),
                   recovered_invalidations_.load(),
                   origin_retries_.load(),
                   producer_retries_.load(),
                   commit_failures_.load(),
                   lag_.load(),
                   last_batch_apply_us_.load(),
                   last_batch_total_us_.load(),
                   apply_lag_.Snapshot(),
                   apply_lag_unknown_.load(),
                   /*log_retention_deleted_segments=*/0,
                   /*log_retention_deleted_bytes=*/0};
}

}  // namespace tempo::sync
