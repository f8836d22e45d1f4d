// OriginReader: a bounded pool of origin reads with per-caller deadlines.
#include "api/origin_reader.h"

#include <algorithm>
#include <utility>

#include "common/logging.h"

namespace tempo::api {

struct OriginReader::Call {
  std::string tenant;
  std::function<Status()> work;
  std::function<void()> then;  // after a successful work, once answered
  CondVar done_cv;             // signalled (under OriginReader::mu_) when done
  // Guarded by OriginReader::mu_.
  bool done = false;
  bool abandoned = false;  // the caller stopped waiting
  Status status;
};

namespace {

using Clock = std::chrono::steady_clock;

// Failures that say the origin cannot serve: unreachable or too slow
// (Unavailable, IOError), or its data is damaged (Corruption). A bad
// argument is the caller's problem, not the origin's health.
bool IsOriginFailure(const Status& status) {
  return status.code() == Status::Code::kUnavailable || status.code() == Status::Code::kIOError ||
         status.code() == Status::Code::kCorruption;
}

}  // namespace

OriginReader::OriginReader(origin::Origin* origin, const OriginReaderOptions& options)
    : origin_(origin),
      options_(options),
      tenant_max_pending_(
          std::max<size_t>(1, static_cast<size_t>(static_cast<double>(options.max_pending) *
                                                  std::clamp(options.tenant_share, 0.0, 1.0)))) {
  const int threads = options_.threads > 0 ? options_.threads : 1;
  workers_.reserve(threads);
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Worker(); });
  if (options_.probe_interval.count() > 0) probe_ = std::thread([this] { Probe(); });
}

OriginReader::~OriginReader() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  work_cv_.SignalAll();
  probe_cv_.SignalAll();
  if (probe_.joinable()) probe_.join();
  for (std::thread& worker : workers_) worker.join();
}

Result<std::vector<origin::Row>> OriginReader::ReadScope(const origin::PartitionKey& partition,
                                                         std::string_view scope, Deadline deadline,
                                                         RowsCallback then) {
  // The work owns copies of its inputs and its output: a caller that stopped
  // waiting has gone, with its stack.
  auto rows = std::make_shared<std::vector<origin::Row>>();
  std::function<void()> after;
  if (then) after = [rows, then = std::move(then)] { then(*rows); };
  Status status = Run(
      partition.tenant,
      [origin = origin_, partition = partition, scope = std::string(scope), rows]() -> Status {
        auto read = origin->ReadScope(partition, scope);
        if (!read.ok()) return read.status();
        *rows = std::move(read).value();
        return Status::OK();
      },
      deadline, std::move(after));
  if (!status.ok()) return status;
  return *rows;  // a copy: `then` may still be reading them
}

Result<bool> OriginReader::TenantKnown(std::string_view tenant, Deadline deadline) {
  auto known = std::make_shared<bool>(false);
  Status status = Run(
      tenant,
      [origin = origin_, tenant = std::string(tenant), known]() -> Status {
        auto read = origin->TenantKnown(tenant);
        if (!read.ok()) return read.status();
        *known = *read;
        return Status::OK();
      },
      deadline);
  if (!status.ok()) return status;
  return *known;
}

Status OriginReader::Run(std::string_view tenant, std::function<Status()> work, Deadline deadline,
                         std::function<void()> then) {
  // A caller whose deadline has passed (it queued elsewhere) gets no read:
  // nobody would wait for it, and it says nothing about the origin.
  if (Clock::now() >= deadline) return Status::Unavailable("no time left before the deadline");
  auto call = std::make_shared<Call>();
  call->tenant = std::string(tenant);
  call->work = std::move(work);
  call->then = std::move(then);
  MutexLock lock(&mu_);
  if (stopping_) return Status::Unavailable("origin reader is stopping");
  if (pending_ >= options_.max_pending) {
    ++shed_;
    return Status::Unavailable("origin: too many reads pending (" +
                               std::to_string(options_.max_pending) + ")");
  }
  TenantQueue& queue = tenants_[call->tenant];
  if (queue.pending >= tenant_max_pending_) {
    ++shed_;
    ++tenant_shed_;
    if (queue.pending == 0) tenants_.erase(call->tenant);
    return Status::Unavailable("origin: too many reads pending for tenant " + call->tenant + " (" +
                               std::to_string(tenant_max_pending_) + ", --origin-tenant-share)");
  }
  ++pending_;
  ++queue.pending;
  if (queue.calls.empty()) ready_.push_back(&queue);
  queue.calls.push_back(call);
  work_cv_.Signal();
  while (!call->done) {
    if (!call->done_cv.WaitUntil(&mu_, deadline) && !call->done) {
      call->abandoned = true;
      ++timeouts_;
      Record(Status::Unavailable("origin did not answer within the deadline"));
      return Status::Unavailable("origin did not answer within the deadline");
    }
  }
  ++reads_;
  if (!call->status.ok()) ++failures_;
  return call->status;
}

void OriginReader::Worker() {
  mu_.Lock();
  for (;;) {
    while (!stopping_ && ready_.empty()) work_cv_.Wait(&mu_);
    if (ready_.empty()) break;  // stopping, nothing left
    // Round robin: the first tenant in line gives one read, and goes to the
    // back of the line if it has more.
    TenantQueue* queue = ready_.front();
    ready_.pop_front();
    std::shared_ptr<Call> call = std::move(queue->calls.front());
    queue->calls.pop_front();
    if (!queue->calls.empty()) ready_.push_back(queue);
    Status status = Status::Unavailable("origin reader is stopping");
    // A call nobody waits for any more is not worth an origin read: under a
    // slow origin, skipping it lets the queue drain.
    if (!call->abandoned && !stopping_) {
      mu_.Unlock();
      const Clock::time_point start = Clock::now();
      status = call->work();
      read_latency_.Observe(Clock::now() - start);
      mu_.Lock();
      Record(status);
    }
    const bool run_then = status.ok() && call->then != nullptr;
    call->status = std::move(status);
    call->done = true;
    call->done_cv.SignalAll();
    if (run_then) {
      mu_.Unlock();
      call->then();
      mu_.Lock();
    }
    --pending_;  // after `then`: it counts against max_pending too
    if (--queue->pending == 0) tenants_.erase(call->tenant);  // its calls are empty too
  }
  mu_.Unlock();
}

void OriginReader::Probe() {
  mu_.Lock();
  while (!stopping_) {
    const auto wake = Clock::now() + options_.probe_interval;
    while (!stopping_ && probe_cv_.WaitUntil(&mu_, wake)) {
    }
    if (stopping_) break;
    mu_.Unlock();
    // Any answer will do; TenantKnown is the cheapest read every origin has.
    // Its outcome reaches the health record through Run.
    (void)TenantKnown("", Clock::now() + options_.probe_interval);
    mu_.Lock();
  }
  mu_.Unlock();
}

void OriginReader::Record(const Status& status) {
  if (status.ok() || !IsOriginFailure(status)) {
    if (!reachable_) {
      const auto down_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - unreachable_since_);
      LogLine("origin",
              "answering again after " + std::to_string(down_ms.count()) + " ms of failures");
    }
    reachable_ = true;
    return;
  }
  if (reachable_) {
    reachable_ = false;
    unreachable_since_ = Clock::now();
    Log(LogLevel::kError, "origin",
        status.code() == Status::Code::kCorruption
            ? "damaged: " + status.ToString()
            : "unreachable or too slow: " + status.ToString());
  }
  last_error_ = status.ToString();
}

bool OriginReader::Ready(std::chrono::milliseconds grace, std::string* reason) const {
  MutexLock lock(&mu_);
  if (reachable_) return true;
  const auto down_for =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - unreachable_since_);
  if (down_for <= grace) return true;
  if (reason != nullptr) {
    *reason = "origin failing for " + std::to_string(down_for.count()) + " ms: " + last_error_;
  }
  return false;
}

OriginReaderStats OriginReader::Stats() const {
  OriginReaderStats stats;
  stats.read_latency = read_latency_.Snapshot();
  MutexLock lock(&mu_);
  stats.reads = reads_;
  stats.failures = failures_;
  stats.timeouts = timeouts_;
  stats.shed = shed_;
  stats.tenant_shed = tenant_shed_;
  stats.pending = pending_;
  stats.reachable = reachable_;
  stats.unreachable_since = unreachable_since_;
  return stats;
}

}  // namespace tempo::api
