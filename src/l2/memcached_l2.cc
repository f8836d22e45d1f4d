// L2Client on a memcached cluster through libmemcached (see l2.h).
//
// One master memcached_st holds the server list and behaviors; a
// memcached_pool (libmemcachedutil) hands each call a clone of it. Clones keep
// their own connections and their own view of which nodes are ejected, so a
// dead node is discovered once per clone.
//
// Time bound. libmemcached 1.1 bounds each wait separately: connect by
// CONNECT_TIMEOUT, every poll(2) for the socket to become readable or
// writable by POLL_TIMEOUT; a wait that runs out ends the call with
// MEMCACHED_TIMEOUT. (RCV_TIMEOUT and SND_TIMEOUT set SO_RCVTIMEO/SO_SNDTIMEO,
// which do nothing on its non-blocking sockets.) A call that finds its
// connection open never connects (a broken connection fails the call), so it
// waits at most once, for POLL_TIMEOUT, before the node sends something; a
// call on a closed connection connects first and then waits. Before each call
// this client sets the clone's timeouts (ArmTimeouts) so that the two
// together stay within options.timeout: all of it for the answer on an open
// connection, half for connecting and half for the answer otherwise.
//
// Hung nodes. libmemcached ejects a node only when connecting to it fails. A
// timeout on an open connection neither counts toward ejection nor closes the
// socket, so every later call would wait out the timeout again, and a late
// reply could be read as the answer to the next request. Hence, on a timeout,
// this client drops the clone's connections (without waiting) and suspends
// the node for every clone (NodeHealth): calls for its keys fail at once
// until retry_after, then exactly one call probes it.
#include <libmemcached/memcached.h>
#include <libmemcached/util.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <set>
#include <utility>

#include "common/logging.h"
#include "common/mutex.h"
#include "l2/key.h"
#include "l2/l2.h"
#include "l2/value_codec.h"

namespace tempo::l2 {
namespace {

// memcached reads an expiry over 30 days as an absolute Unix time.
constexpr std::chrono::seconds kMaxTtl{30 * 24 * 3600};
constexpr std::chrono::milliseconds kMinTimeout{2};
// Undecodable values are logged at most this often (they are counted always).
constexpr std::chrono::milliseconds kCorruptLogInterval{10'000};
constexpr const char* kLogComponent = "l2";

Status Invalid(const std::string& what) { return Status::InvalidArgument("L2 options: " + what); }

Status ValidateOptions(const L2Options& o) {
  if (o.servers.empty()) return Invalid("no memcached servers");
  std::set<std::string> seen;
  for (const std::string& server : o.servers) {
    Result<ServerAddress> address = ParseServer(server);
    if (!address.ok()) return address.status();
    if (!seen.insert(server).second) return Invalid("server " + server + " listed twice");
  }
  if (o.ns.empty()) return Invalid("empty namespace");
  if (o.schema < 0) return Invalid("schema must be >= 0");
  // Split in two on a new connection, each part at least libmemcached's 1 ms.
  if (o.timeout < kMinTimeout) return Invalid("timeout must be at least 2 ms");
  if (o.retry_after.count() < 1) return Invalid("retry_after must be at least 1 ms");
  if (o.failure_limit < 1) return Invalid("failure_limit must be at least 1");
  if (o.ttl.count() < 1 || o.ttl > kMaxTtl) return Invalid("ttl must be 1 s to 30 days");
  if (o.pool_size < 1 || o.pool_size > UINT32_MAX) return Invalid("pool_size must be at least 1");
  if (o.max_value_bytes < 1) return Invalid("max_value_bytes must be at least 1");
  return Status::OK();
}

class MemcachedL2 final : public L2Client {
 public:
  MemcachedL2(const L2Options& options, std::vector<ServerAddress> addresses, memcached_st* master,
              memcached_pool_st* pool)
      : options_(options),
        addresses_(std::move(addresses)),
        health_(new NodeHealth[addresses_.size()]),
        master_(master),
        pool_(pool) {}

  ~MemcachedL2() override {
    memcached_pool_destroy(pool_);  // frees the clones, not the master
    memcached_free(master_);
  }

  Result<std::optional<std::vector<origin::Row>>> Get(const origin::SliceKey& slice) override {
    Result<L2Read> read = Read(slice);
    if (!read.ok()) return read.status();
    return std::move(read->rows);
  }

  Result<L2Read> Read(const origin::SliceKey& slice) override {
    Lease lease(pool_);
    if (!lease.ok()) return PoolExhausted();
    const std::string key = L2Key(options_.ns, options_.schema, slice);
    const Call call = Begin(lease.memc(), key);
    if (call.admission == Admission::kRefused) return SuspendedError(call.node);
    const ReadTimer timer(&read_latency_);  // from here on, every return is an answer or error
    size_t length = 0;
    uint32_t flags = 0;
    memcached_return_t rc = MEMCACHED_SUCCESS;
    char* value = memcached_get(lease.memc(), key.data(), key.size(), &length, &flags, &rc);
    if (rc == MEMCACHED_NOTFOUND) {
      Answered(call);
      Count(misses_);
      return L2Read();
    }
    if (rc != MEMCACHED_SUCCESS) {
      free(value);
      return Failed("get", call, lease.memc(), rc);
    }
    Answered(call);
    // memcached_get fetches into the clone's own result (libmemcached
    // fetch.cc), which keeps the item's CAS; the binary protocol always sends it.
    const uint64_t cas = memcached_result_cas(&lease.memc()->result);
    Result<std::vector<origin::Row>> rows =
        DecodeSliceValue(std::string_view(value, length), options_.ns, options_.schema, slice);
    free(value);
    if (!rows.ok()) {
      Count(corrupt_);
      Count(misses_);
      corrupt_log_.Log(kLogComponent, "value under " + key + " is not usable (" +
                                          rows.status().message() + "); read as a miss");
      return L2Read{std::nullopt, cas};
    }
    Count(hits_);
    return L2Read{std::move(rows).value(), 0};
  }

  Status Set(const origin::SliceKey& slice, const std::vector<origin::Row>& rows) override {
    return Store(slice, rows, StoreOp::kSet, 0);
  }

  Status Add(const origin::SliceKey& slice, const std::vector<origin::Row>& rows) override {
    return Store(slice, rows, StoreOp::kAdd, 0);
  }

  Status Repair(const origin::SliceKey& slice, const std::vector<origin::Row>& rows,
                uint64_t cas) override {
    if (cas == 0) return Status::InvalidArgument("L2 repair: no CAS token of a corrupt value");
    return Store(slice, rows, StoreOp::kCas, cas);
  }

  Status Delete(const origin::SliceKey& slice) override {
    Lease lease(pool_);
    if (!lease.ok()) return PoolExhausted();
    const std::string key = L2Key(options_.ns, options_.schema, slice);
    const Call call = Begin(lease.memc(), key);
    if (call.admission == Admission::kRefused) return SuspendedError(call.node);
    memcached_return_t rc = memcached_delete(lease.memc(), key.data(), key.size(), 0);
    if (rc != MEMCACHED_SUCCESS && rc != MEMCACHED_NOTFOUND) {
      return Failed("delete", call, lease.memc(), rc);
    }
    Answered(call);
    Count(deletes_);
    return Status::OK();
  }

  L2Stats Stats() const override {
    auto load = [](const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); };
    L2Stats stats;
    stats.hits = load(hits_);
    stats.misses = load(misses_);
    stats.corrupt = load(corrupt_);
    stats.errors = load(errors_);
    stats.sets = load(sets_);
    stats.adds_existing = load(adds_existing_);
    stats.deletes = load(deletes_);
    stats.oversize = load(oversize_);
    stats.suspensions = load(suspensions_);
    stats.repairs = load(repairs_);
    stats.repairs_conflicted = load(repairs_conflicted_);
    stats.read_latency = read_latency_.Snapshot();
    return stats;
  }

 private:
  enum class StoreOp { kSet, kAdd, kCas };

  // Observes the time from its construction to its destruction in a histogram.
  class ReadTimer {
   public:
    explicit ReadTimer(Histogram* histogram)
        : histogram_(histogram), start_(std::chrono::steady_clock::now()) {}
    ~ReadTimer() { histogram_->Observe(std::chrono::steady_clock::now() - start_); }
    ReadTimer(const ReadTimer&) = delete;
    ReadTimer& operator=(const ReadTimer&) = delete;

   private:
    Histogram* const histogram_;
    const std::chrono::steady_clock::time_point start_;
  };

  // Whether a call may use its node: freely, as the one probe of a suspended
  // node whose retry_after has passed, or not at all (suspended).
  enum class Admission { kGo, kProbe, kRefused };

  // One call's node (index in addresses_, -1 when unknown) and admission.
  struct Call {
    int node = -1;
    Admission admission = Admission::kGo;
  };

  // A node's service state, shared by all clones. Calls read it lock-free
  // (suspended_until_ns on admission, state on an answer); changes of state
  // take `mu`, so that each is made, counted and logged once.
  enum class NodeState { kInService, kFailing, kSuspended };
  struct NodeHealth {
    std::atomic<int64_t> suspended_until_ns{0};  // steady_clock; 0 when not suspended
    std::atomic<bool> probing{false};            // a probe holds the node
    std::atomic<NodeState> state{NodeState::kInService};
    Mutex mu;
    int64_t suspended_since_ns GUARDED_BY(mu) = 0;
  };

  // Set (memcached set), Add (memcached add: only when absent) or Repair
  // (memcached cas: only when unchanged since read).
  Status Store(const origin::SliceKey& slice, const std::vector<origin::Row>& rows, StoreOp op,
               uint64_t cas) {
    const char* const name = op == StoreOp::kSet ? "set" : op == StoreOp::kAdd ? "add" : "repair";
    for (const origin::Row& row : rows) {
      if (row.scope != slice.scope) {
        return Status::InvalidArgument(std::string("L2 ") + name + ": row " + row.id +
                                       " has scope \"" + row.scope + "\", the slice is \"" +
                                       slice.scope + "\"");
      }
    }
    const std::string value = EncodeSliceValue(options_.ns, options_.schema, slice, rows);
    if (value.size() > options_.max_value_bytes) {
      Count(oversize_);
      return Status::InvalidArgument(std::string("L2 ") + name + ": value of " +
                                     std::to_string(value.size()) +
                                     " bytes is over max_value_bytes");
    }
    Lease lease(pool_);
    if (!lease.ok()) return PoolExhausted();
    const std::string key = L2Key(options_.ns, options_.schema, slice);
    const Call call = Begin(lease.memc(), key);
    if (call.admission == Admission::kRefused) return SuspendedError(call.node);
    memcached_st* const memc = lease.memc();
    const time_t ttl = options_.ttl.count();
    memcached_return_t rc = MEMCACHED_SUCCESS;
    switch (op) {
      case StoreOp::kSet:
        rc = memcached_set(memc, key.data(), key.size(), value.data(), value.size(), ttl, 0);
        break;
      case StoreOp::kAdd:
        rc = memcached_add(memc, key.data(), key.size(), value.data(), value.size(), ttl, 0);
        break;
      case StoreOp::kCas:
        rc = memcached_cas(memc, key.data(), key.size(), value.data(), value.size(), ttl, 0, cas);
        break;
    }
    // An add that finds a value: NOTSTORED (text protocol) or DATA_EXISTS
    // (binary). A cas whose token is stale: DATA_EXISTS; on a key gone since
    // the read: NOTFOUND.
    const bool kept = rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS ||
                      (op == StoreOp::kCas && rc == MEMCACHED_NOTFOUND);
    if (op != StoreOp::kSet && kept) {
      Answered(call);
      Count(op == StoreOp::kAdd ? adds_existing_ : repairs_conflicted_);
      return Status::OK();
    }
    if (rc != MEMCACHED_SUCCESS) return Failed(name, call, memc, rc);
    Answered(call);
    Count(op == StoreOp::kCas ? repairs_ : sets_);
    return Status::OK();
  }

  // One pooled clone for the duration of a call. Never waits: a sub-second
  // wait is not possible with memcached_pool_fetch (it rounds its deadline
  // to whole seconds), and queueing on the request path is worse than
  // falling through to the origin.
  class Lease {
   public:
    explicit Lease(memcached_pool_st* pool) : pool_(pool) {
      memcached_return_t rc = MEMCACHED_SUCCESS;
      memc_ = memcached_pool_fetch(pool_, nullptr, &rc);
      // memcached_clone (how the pool makes each clone) keeps the
      // distribution but drops the weighted-ketama flag, and the clone would
      // hash on another ring than the master's (libketama's). Restored once
      // per clone: the pool keeps its clones for its lifetime.
      if (memc_ != nullptr &&
          memcached_behavior_get(memc_, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) == 0) {
        memcached_behavior_set(memc_, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
      }
    }
    ~Lease() {
      if (memc_ != nullptr) memcached_pool_release(pool_, memc_);
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    bool ok() const { return memc_ != nullptr; }
    memcached_st* memc() const { return memc_; }

   private:
    memcached_pool_st* pool_;
    memcached_st* memc_ = nullptr;
  };

  static int64_t NowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // Finds the node `key` maps to in this clone, admits the call to it and,
  // when admitted, arms the clone's timeouts for it.
  Call Begin(memcached_st* memc, const std::string& key) {
    // Rebuild the ring now if an ejected node is due back, so that the node
    // found here is the one the operation itself will use.
    memcached_autoeject(memc);
    memcached_return_t rc = MEMCACHED_SUCCESS;
    const memcached_instance_st* instance =
        memcached_server_by_key(memc, key.data(), key.size(), &rc);
    Call call;
    call.node = IndexOf(instance);
    call.admission = Admit(call.node);
    if (call.admission != Admission::kRefused) ArmTimeouts(memc, instance);
    return call;
  }

  // Splits options_.timeout between connecting and waiting for the answer
  // (see the top of this file). A connection is open when it has a local
  // port (memcached_server_srcport is 0 without a socket).
  void ArmTimeouts(memcached_st* memc, const memcached_instance_st* instance) const {
    const int64_t total_ms = options_.timeout.count();
    const bool open = instance != nullptr && memcached_server_srcport(instance) != 0;
    const int64_t connect_ms = total_ms / 2;
    const int64_t answer_ms = open ? total_ms : total_ms - connect_ms;
    memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT,
                           static_cast<uint64_t>(connect_ms));
    memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, static_cast<uint64_t>(answer_ms));
  }

  // The index in addresses_ of `instance`, or -1.
  int IndexOf(const memcached_instance_st* instance) const {
    if (instance == nullptr) return -1;
    const std::string_view host = memcached_server_name(instance);
    const in_port_t port = memcached_server_port(instance);
    for (size_t i = 0; i < addresses_.size(); ++i) {
      if (addresses_[i].port == port && addresses_[i].host == host) return static_cast<int>(i);
    }
    return -1;
  }

  Admission Admit(int node) {
    if (node < 0) return Admission::kGo;
    NodeHealth& health = health_[node];
    const int64_t until = health.suspended_until_ns.load(std::memory_order_acquire);
    if (until == 0) return Admission::kGo;
    if (NowNs() < until) return Admission::kRefused;
    bool expected = false;
    return health.probing.compare_exchange_strong(expected, true, std::memory_order_acq_rel)
               ? Admission::kProbe
               : Admission::kRefused;
  }

  Status SuspendedError(int node) {
    Count(errors_);
    return Status::Unavailable("L2: node " + options_.servers[node] +
                               " is suspended after timing out");
  }

  // The node answered. A probe's answer ends the suspension; an answer to a
  // call admitted before the node was suspended does not (the node has since
  // timed out); any answer ends a failing spell.
  void Answered(const Call& call) {
    if (call.node < 0) return;
    NodeHealth& health = health_[call.node];
    if (call.admission == Admission::kGo &&
        health.state.load(std::memory_order_relaxed) == NodeState::kInService) {
      return;  // the common case: no change, no lock
    }
    MutexLock lock(&health.mu);
    const NodeState state = health.state.load(std::memory_order_relaxed);
    if (call.admission == Admission::kProbe) {
      const int64_t since_ms = (NowNs() - health.suspended_since_ns) / 1'000'000;
      health.state.store(NodeState::kInService, std::memory_order_relaxed);
      health.suspended_until_ns.store(0, std::memory_order_release);
      health.probing.store(false, std::memory_order_release);
      Log(LogLevel::kWarn, kLogComponent,
          "node " + options_.servers[call.node] + " restored: answered again after " +
              std::to_string(since_ms) + " ms suspended");
    } else if (state == NodeState::kFailing) {
      health.state.store(NodeState::kInService, std::memory_order_relaxed);
      LogLine(kLogComponent, "node " + options_.servers[call.node] + " restored: answered again");
    }
  }

  // The node did not answer within the call's wait: suspend it (again, when
  // the call was its probe).
  void TimedOut(const Call& call, const std::string& why) {
    if (call.node < 0) return;
    NodeHealth& health = health_[call.node];
    MutexLock lock(&health.mu);
    const int64_t now = NowNs();
    const int64_t until = now + std::chrono::nanoseconds(options_.retry_after).count();
    if (call.admission == Admission::kProbe) {
      health.suspended_until_ns.store(until, std::memory_order_release);
      health.probing.store(false, std::memory_order_release);
      return;  // still suspended: no change of state to log
    }
    if (health.state.load(std::memory_order_relaxed) == NodeState::kSuspended) return;
    health.state.store(NodeState::kSuspended, std::memory_order_relaxed);
    health.suspended_since_ns = now;
    health.suspended_until_ns.store(until, std::memory_order_release);
    Count(suspensions_);
    Log(LogLevel::kWarn, kLogComponent,
        "node " + options_.servers[call.node] + " suspended for " +
            std::to_string(options_.retry_after.count()) + " ms: no answer within the " +
            std::to_string(options_.timeout.count()) + " ms timeout (" + why + ")");
  }

  // The call failed without a timeout (refused, reset, protocol error): the
  // node is failing but costs no wait; libmemcached ejects it after
  // failure_limit failed connects. A probe that fails so ends the suspension.
  void Erred(const Call& call, const std::string& why) {
    if (call.node < 0) return;
    NodeHealth& health = health_[call.node];
    if (call.admission == Admission::kGo &&
        health.state.load(std::memory_order_relaxed) != NodeState::kInService) {
      return;  // already failing or suspended: no change
    }
    MutexLock lock(&health.mu);
    if (call.admission == Admission::kProbe) {
      health.suspended_until_ns.store(0, std::memory_order_release);
      health.probing.store(false, std::memory_order_release);
    } else if (health.state.load(std::memory_order_relaxed) != NodeState::kInService) {
      return;
    }
    health.state.store(NodeState::kFailing, std::memory_order_relaxed);
    Log(LogLevel::kWarn, kLogComponent, "node " + options_.servers[call.node] + " failing: " + why);
  }

  static void Count(std::atomic<uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }

  Status PoolExhausted() {
    Count(errors_);
    return Status::Unavailable("L2: all " + std::to_string(options_.pool_size) +
                               " connections are busy");
  }

  // Replies with which the node answered, though not as asked: no change to
  // its state of service.
  static bool NodeAnsweredWithError(memcached_return_t rc) {
    return rc == MEMCACHED_E2BIG || rc == MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE ||
           rc == MEMCACHED_SERVER_ERROR || rc == MEMCACHED_CLIENT_ERROR;
  }

  Status Failed(const char* op, const Call& call, memcached_st* memc, memcached_return_t rc) {
    Count(errors_);
    Status status =
        Status::Unavailable(std::string("L2 ") + op + ": " + memcached_last_error_message(memc));
    // For the log: what went wrong, without libmemcached's source locations.
    const memcached_return_t last = memcached_last_error(memc);
    const int error_number = memcached_last_error_errno(memc);
    const std::string why = std::string(memcached_strerror(memc, last)) +
                            (error_number != 0 ? std::string(": ") + strerror(error_number) : "");
    if (rc == MEMCACHED_TIMEOUT || last == MEMCACHED_TIMEOUT) {
      // The connection may still deliver the late reply: close it. quit
      // writes a goodbye to every open connection of the clone; a zero poll
      // timeout keeps a full send buffer from making that another wait.
      memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 0);
      memcached_quit(memc);
      TimedOut(call, why);
    } else if (NodeAnsweredWithError(rc)) {
      Answered(call);
    } else {
      Erred(call, why);
    }
    return status;
  }

  const L2Options options_;
  const std::vector<ServerAddress> addresses_;  // parsed options_.servers, same order
  const std::unique_ptr<NodeHealth[]> health_;
  memcached_st* const master_;
  memcached_pool_st* const pool_;
  LogLimiter corrupt_log_{kCorruptLogInterval};
  std::atomic<uint64_t> hits_{0}, misses_{0}, corrupt_{0}, errors_{0}, sets_{0}, adds_existing_{0},
      deletes_{0}, oversize_{0}, suspensions_{0}, repairs_{0}, repairs_conflicted_{0};
  Histogram read_latency_{kReadLatencyBounds};  // L2Stats::read_latency
};

}  // namespace

std::chrono::milliseconds MaxCallWait(const L2Options& options) { return options.timeout; }

Result<std::unique_ptr<L2Client>> L2Client::Open(const L2Options& options) {
  if (Status s = ValidateOptions(options); !s.ok()) return s;

  memcached_st* master = memcached_create(nullptr);
  if (master == nullptr) return Status::Internal("memcached_create failed");
  // libmemcached measures the back-off in whole seconds.
  const uint64_t retry_s = (options.retry_after.count() + 999) / 1000;
  const uint64_t timeout_ms = options.timeout.count();
  const std::pair<memcached_behavior_t, uint64_t> behaviors[] = {
      {MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1},
      // libketama-compatible consistent hashing (MD5, 160 points per node):
      // the same ring as other ketama clients, and losing a node moves only its keys.
      {MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1},
      {MEMCACHED_BEHAVIOR_TCP_NODELAY, 1},
      // Re-armed before every call (ArmTimeouts); these hold for calls that
      // bypass it. SND/RCV timeouts are left unset: they do nothing on
      // libmemcached's non-blocking sockets.
      {MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, timeout_ms / 2},
      {MEMCACHED_BEHAVIOR_POLL_TIMEOUT, timeout_ms - timeout_ms / 2},
      // Ejection: after failure_limit failures (counted at most once per
      // retry_timeout) the node leaves the ring for dead_timeout, is then
      // tried once, and leaves again at its next failure. Without a
      // dead_timeout libmemcached would never try an ejected node again.
      {MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS, 1},
      {MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, static_cast<uint64_t>(options.failure_limit)},
      {MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, retry_s},
      {MEMCACHED_BEHAVIOR_DEAD_TIMEOUT, retry_s},
  };
  for (const auto& [behavior, value] : behaviors) {
    memcached_return_t rc = memcached_behavior_set(master, behavior, value);
    if (rc != MEMCACHED_SUCCESS) {
      Status s = Status::Internal(std::string("memcached_behavior_set: ") +
                                  memcached_strerror(master, rc));
      memcached_free(master);
      return s;
    }
  }
  std::vector<ServerAddress> addresses;
  for (const std::string& server : options.servers) {
    const ServerAddress& address = addresses.emplace_back(*ParseServer(server));
    memcached_return_t rc = memcached_server_add(master, address.host.c_str(), address.port);
    if (rc != MEMCACHED_SUCCESS) {
      Status s =
          Status::InvalidArgument("L2 server " + server + ": " + memcached_strerror(master, rc));
      memcached_free(master);
      return s;
    }
  }
  memcached_pool_st* pool =
      memcached_pool_create(master, 1, static_cast<uint32_t>(options.pool_size));
  if (pool == nullptr) {
    memcached_free(master);
    return Status::Internal("memcached_pool_create failed");
  }
  return std::unique_ptr<L2Client>(new MemcachedL2(options, std::move(addresses), master, pool));
}

}  // namespace tempo::l2
