// OriginReader: origin reads that respect the caller's deadline, and what
// they tell about the origin's health.
//
// A request must not wait on a dead or hung origin longer than its deadline
// (SPEC §8 "short timeouts"; issue 6: default 50 ms), whatever the origin
// (RocksDB, PostgreSQL). So reads run on the reader's own threads and the
// caller waits for the answer only until its deadline; a read still running
// then finishes in the background and its answer is dropped. At most
// `max_pending` reads may be queued or running: past that a read fails at
// once (load shedding), so a hung origin ties up a bounded number of threads
// and no memory grows.
//
// Reads are shared fairly between tenants (issue 15 §4): one tenant may hold
// at most `tenant_share` of max_pending (past that its read fails at once,
// as above, and other tenants' reads are still taken), and the threads take
// queued reads from the tenants in turn (round robin), so a tenant's miss
// storm queues behind itself, not in front of other tenants' reads.
//
// Every answer feeds the health record behind Ready(): the origin is
// unreachable from its first failure (Unavailable, IOError, a missed
// deadline) until its next success. A probe thread reads the origin every
// `probe_interval` so health stays current while L1 answers everything.
// Safe for concurrent use.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/histogram.h"
#include "common/mutex.h"
#include "common/status.h"
#include "origin/origin.h"

namespace tempo::api {

using Deadline = std::chrono::steady_clock::time_point;

struct OriginReaderOptions {
  // Threads running reads: the most reads in progress at once.
  int threads = 8;
  // Reads queued or running beyond which a new read fails at once.
  size_t max_pending = 256;
  // The share of max_pending one tenant's reads may hold (at least one
  // read); 1 lets one tenant take them all.
  double tenant_share = 0.5;
  // How often the probe reads the origin; zero disables the probe.
  std::chrono::milliseconds probe_interval{std::chrono::seconds(1)};
};

// Counters since construction and the current health.
struct OriginReaderStats {
  uint64_t reads = 0;        // reads answered in time (ok or not)
  uint64_t failures = 0;     // ... whose answer was an error
  uint64_t timeouts = 0;     // reads whose caller stopped waiting at its deadline
  uint64_t shed = 0;         // reads refused: max_pending reached, or a tenant's share of it
  uint64_t tenant_shed = 0;  // ... of them, for a tenant's share
  size_t pending = 0;        // reads queued or running now
  bool reachable = true;     // false from a failure until the next success
  // Since when the origin has been unreachable (steady clock), if it is.
  std::chrono::steady_clock::time_point unreachable_since{};
  // Durations of the origin reads run (the probe's included), measured on the reader's
  // thread from the read's start to its result, whether or not its caller still waited;
  // in kReadLatencyBounds buckets. Shed reads and reads skipped because their
  // caller had gone are not in it.
  HistogramSnapshot read_latency;
};

class OriginReader {
 public:
  // REQUIRES: origin outlives the reader.
  OriginReader(origin::Origin* origin, const OriginReaderOptions& options);
  // Stops the probe, waits for the reads in progress.
  ~OriginReader();
  OriginReader(const OriginReader&) = delete;
  OriginReader& operator=(const OriginReader&) = delete;

  // Called with the rows of a successful read on the reader's thread, after
  // the caller has been answered, and also when the caller stopped waiting:
  // how a slow read still fills L2 for the next request.
  using RowsCallback = std::function<void(const std::vector<origin::Row>&)>;

  // Origin::ReadScope and Origin::TenantKnown, answered by `deadline` or
  // Unavailable ("no answer within the deadline", or "too many reads
  // pending"). `then` (may be empty) is described above.
  Result<std::vector<origin::Row>> ReadScope(const origin::PartitionKey& partition,
                                             std::string_view scope, Deadline deadline,
                                             RowsCallback then = nullptr);
  Result<bool> TenantKnown(std::string_view tenant, Deadline deadline);

  // False when the origin has been unreachable for longer than `grace`;
  // `reason` then says since when and the last error.
  bool Ready(std::chrono::milliseconds grace, std::string* reason) const;

  OriginReaderStats Stats() const;

 private:
  struct Call;  // one read: its work, and its answer once there
  // One tenant's reads: queued, and queued or running.
  struct TenantQueue {
    std::deque<std::shared_ptr<Call>> calls;
    size_t pending = 0;
  };

  // Queues `work` for `tenant` and waits for its answer until `deadline`.
  // When `work` succeeds, the worker runs `then` after answering.
  Status Run(std::string_view tenant, std::function<Status()> work, Deadline deadline,
             std::function<void()> then = nullptr);
  void Worker();
  void Probe();
  void Record(const Status& status) EXCLUSIVE_LOCKS_REQUIRED(mu_);  // feeds health

  origin::Origin* const origin_;
  const OriginReaderOptions options_;

  mutable Mutex mu_;
  CondVar work_cv_;                  // workers wait for calls
  CondVar probe_cv_;                 // the probe sleeps on it
  const size_t tenant_max_pending_;  // tenant_share of max_pending, at least 1
  // Tenants with reads queued or running (so at most max_pending of them);
  // nodes keep their addresses, which ready_ holds.
  std::unordered_map<std::string, TenantQueue> tenants_ GUARDED_BY(mu_);
  // Tenants with queued reads, in the order the workers serve them.
  std::deque<TenantQueue*> ready_ GUARDED_BY(mu_);
  size_t pending_ GUARDED_BY(mu_) = 0;  // queued + running, all tenants
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t reads_ GUARDED_BY(mu_) = 0;
  uint64_t failures_ GUARDED_BY(mu_) = 0;
  uint64_t timeouts_ GUARDED_BY(mu_) = 0;
  uint64_t shed_ GUARDED_BY(mu_) = 0;
  uint64_t tenant_shed_ GUARDED_BY(mu_) = 0;
  bool reachable_ GUARDED_BY(mu_) = true;
  std::chrono::steady_clock::time_point unreachable_since_ GUARDED_BY(mu_){};
  std::string last_error_ GUARDED_BY(mu_);
  Histogram read_latency_{kReadLatencyBounds};  // lock-free

  std::vector<std::thread> workers_;
  std::thread probe_;
};

}  // namespace tempo::api
