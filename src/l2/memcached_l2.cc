// L2Client on a memcached cluster through libmemcached (see l2.h).
//
// One master memcached_st holds the server list and behaviors; a
// memcached_pool (libmemcachedutil) hands each call a clone of it. Clones keep
// their own connections and their own view of which nodes are ejected, so a
// dead node is discovered once per clone.
//
// libmemcached 1.1 ejects a node only when connecting to it fails (refused,
// unreachable, connect timeout). A timeout on an open connection (a hung
// process, a host that vanished without a reset) neither counts toward
// ejection nor closes the socket, so every later call would wait out the
// timeout again on the same connection, and a late reply could be read as the
// answer to the next request. Hence, on a timeout, this client drops the
// clone's connections (the next call reconnects, and a vanished host then
// fails to connect and is ejected) and counts the timeout against the node;
// after failure_limit timeouts in a row it suspends the node, for every
// clone, for retry_after: calls for its keys fail fast with Unavailable.
#include <libmemcached/memcached.h>
#include <libmemcached/util.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <utility>

#include "l2/key.h"
#include "l2/l2.h"
#include "l2/value_codec.h"

namespace tempo::l2 {
namespace {

// memcached reads an expiry over 30 days as an absolute Unix time.
constexpr std::chrono::seconds kMaxTtl{30 * 24 * 3600};

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
  if (o.timeout.count() < 1) return Invalid("timeout must be at least 1 ms");
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
    Lease lease(pool_);
    if (!lease.ok()) return PoolExhausted();
    const std::string key = L2Key(options_.ns, options_.schema, slice);
    const int node = NodeOf(lease.memc(), key);
    if (Suspended(node)) return SuspendedError(node);
    size_t length = 0;
    uint32_t flags = 0;
    memcached_return_t rc = MEMCACHED_SUCCESS;
    char* value = memcached_get(lease.memc(), key.data(), key.size(), &length, &flags, &rc);
    using Found = std::optional<std::vector<origin::Row>>;
    if (rc == MEMCACHED_NOTFOUND) {
      Answered(node);
      Count(misses_);
      return Found();
    }
    if (rc != MEMCACHED_SUCCESS) {
      free(value);
      return Failed("get", node, lease.memc(), rc);
    }
    Answered(node);
    Result<std::vector<origin::Row>> rows =
        DecodeSliceValue(std::string_view(value, length), options_.ns, options_.schema, slice);
    free(value);
    if (!rows.ok()) {
      Count(corrupt_);
      Count(misses_);
      return Found();
    }
    Count(hits_);
    return Found(std::move(rows).value());
  }

  Status Set(const origin::SliceKey& slice, const std::vector<origin::Row>& rows) override {
    return Store(slice, rows, /*only_if_absent=*/false);
  }

  Status Add(const origin::SliceKey& slice, const std::vector<origin::Row>& rows) override {
    return Store(slice, rows, /*only_if_absent=*/true);
  }

  Status Delete(const origin::SliceKey& slice) override {
    Lease lease(pool_);
    if (!lease.ok()) return PoolExhausted();
    const std::string key = L2Key(options_.ns, options_.schema, slice);
    const int node = NodeOf(lease.memc(), key);
    if (Suspended(node)) return SuspendedError(node);
    memcached_return_t rc = memcached_delete(lease.memc(), key.data(), key.size(), 0);
    if (rc != MEMCACHED_SUCCESS && rc != MEMCACHED_NOTFOUND) {
      return Failed("delete", node, lease.memc(), rc);
    }
    Answered(node);
    Count(deletes_);
    return Status::OK();
  }

  L2Stats Stats() const override {
    auto load = [](const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); };
    return L2Stats{load(hits_), load(misses_),  load(corrupt_), load(errors_),
                   load(sets_), load(adds_existing_), load(deletes_), load(oversize_)};
  }

 private:
  // Set (memcached set) or Add (memcached add: only when absent).
  Status Store(const origin::SliceKey& slice, const std::vector<origin::Row>& rows,
               bool only_if_absent) {
    const char* const op = only_if_absent ? "add" : "set";
    for (const origin::Row& row : rows) {
      if (row.scope != slice.scope) {
        return Status::InvalidArgument(std::string("L2 ") + op + ": row " + row.id +
                                       " has scope \"" + row.scope + "\", the slice is \"" +
                                       slice.scope + "\"");
      }
    }
    const std::string value = EncodeSliceValue(options_.ns, options_.schema, slice, rows);
    if (value.size() > options_.max_value_bytes) {
      Count(oversize_);
      return Status::InvalidArgument(std::string("L2 ") + op + ": value of " +
                                     std::to_string(value.size()) + " bytes is over max_value_bytes");
    }
    Lease lease(pool_);
    if (!lease.ok()) return PoolExhausted();
    const std::string key = L2Key(options_.ns, options_.schema, slice);
    const int node = NodeOf(lease.memc(), key);
    if (Suspended(node)) return SuspendedError(node);
    const auto store = only_if_absent ? memcached_add : memcached_set;
    memcached_return_t rc = store(lease.memc(), key.data(), key.size(), value.data(), value.size(),
                                  options_.ttl.count(), 0);
    // An add that finds a value: NOTSTORED (text protocol) or DATA_EXISTS (binary).
    if (only_if_absent && (rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS)) {
      Answered(node);
      Count(adds_existing_);
      return Status::OK();
    }
    if (rc != MEMCACHED_SUCCESS) return Failed(op, node, lease.memc(), rc);
    Answered(node);
    Count(sets_);
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

  // Timeouts on one node, shared by all clones (see the top of this file).
  struct NodeHealth {
    std::atomic<int> timeouts_in_a_row{0};
    std::atomic<int64_t> suspended_until_ns{0};  // steady_clock
  };

  static int64_t NowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // The index in addresses_ of the node `key` maps to in this clone, or -1.
  int NodeOf(memcached_st* memc, const std::string& key) const {
    memcached_return_t rc = MEMCACHED_SUCCESS;
    const memcached_instance_st* instance =
        memcached_server_by_key(memc, key.data(), key.size(), &rc);
    if (instance == nullptr) return -1;
    const std::string_view host = memcached_server_name(instance);
    const in_port_t port = memcached_server_port(instance);
    for (size_t i = 0; i < addresses_.size(); ++i) {
      if (addresses_[i].port == port && addresses_[i].host == host) return static_cast<int>(i);
    }
    return -1;
  }

  bool Suspended(int node) const {
    return node >= 0 && health_[node].suspended_until_ns.load(std::memory_order_relaxed) > NowNs();
  }

  Status SuspendedError(int node) {
    Count(errors_);
    return Status::Unavailable("L2: node " + options_.servers[node] +
                               " is suspended after timing out");
  }

  // The node answered: its run of timeouts is over.
  void Answered(int node) {
    if (node >= 0 && health_[node].timeouts_in_a_row.load(std::memory_order_relaxed) != 0) {
      health_[node].timeouts_in_a_row.store(0, std::memory_order_relaxed);
    }
  }

  static void Count(std::atomic<uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }

  Status PoolExhausted() {
    Count(errors_);
    return Status::Unavailable("L2: all " + std::to_string(options_.pool_size) +
                               " connections are busy");
  }

  Status Failed(const char* op, int node, memcached_st* memc, memcached_return_t rc) {
    Count(errors_);
    Status status =
        Status::Unavailable(std::string("L2 ") + op + ": " + memcached_last_error_message(memc));
    if (rc == MEMCACHED_TIMEOUT) {
      memcached_quit(memc);  // the connection may still deliver the late reply
      if (node >= 0 &&
          health_[node].timeouts_in_a_row.fetch_add(1, std::memory_order_relaxed) + 1 >=
              options_.failure_limit) {
        health_[node].timeouts_in_a_row.store(0, std::memory_order_relaxed);
        health_[node].suspended_until_ns.store(
            NowNs() + std::chrono::nanoseconds(options_.retry_after).count(),
            std::memory_order_relaxed);
      }
    }
    return status;
  }

  const L2Options options_;
  const std::vector<ServerAddress> addresses_;  // parsed options_.servers, same order
  const std::unique_ptr<NodeHealth[]> health_;
  memcached_st* const master_;
  memcached_pool_st* const pool_;
  std::atomic<uint64_t> hits_{0}, misses_{0}, corrupt_{0}, errors_{0}, sets_{0}, adds_existing_{0},
      deletes_{0}, oversize_{0};
};

}  // namespace

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
      {MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, timeout_ms},
      {MEMCACHED_BEHAVIOR_POLL_TIMEOUT, timeout_ms},
      {MEMCACHED_BEHAVIOR_SND_TIMEOUT, timeout_ms * 1000},  // microseconds
      {MEMCACHED_BEHAVIOR_RCV_TIMEOUT, timeout_ms * 1000},
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
