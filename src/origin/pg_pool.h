// The PostgreSQL origin's connections: one libpq connection driven in
// non-blocking mode under a deadline, and a fixed pool of them lent to one
// caller at a time. Every network wait goes through poll() with a deadline;
// libpq's blocking calls are not used, so no call outlives its timeout.
// Internal to src/origin/ (see pg_origin.h).
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "libpq-fe.h"
#include "origin/pg_codec.h"
#include "origin/pg_origin.h"

namespace tempo::origin::pg {

using Clock = std::chrono::steady_clock;

// A statement every pooled connection prepares when it connects.
struct Statement {
  const char* name;
  const char* sql;
  std::vector<Oid> param_types;
};

// InvalidArgument unless `options` are usable and libpq can parse `uri`.
Status ValidateOptions(const std::string& uri, const PostgresOptions& options);

// Where and how to connect, and what to prepare on each connection.
struct ConnectionConfig {
  std::string uri;
  PostgresOptions options;
  // Prepared by Ensure() on every new connection; must outlive the config.
  std::span<const Statement> prepared;

  // The client-side deadline of one statement: statement_timeout plus a
  // margin for the network.
  std::chrono::milliseconds StatementBudget() const;
};

// One libpq connection in non-blocking mode. Not thread-safe: the pool lends
// it to one caller at a time. The server's notices and warnings on it go to
// the process log (component "postgres"), never straight to stderr. Any failure that leaves the
// protocol state unknown (timeout, lost socket) closes it; the next Ensure() reconnects.
class Connection {
 public:
  Connection() = default;
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects and sets up the session (no prepared statements: the schema
  // may not exist yet). Bounded by the connect timeout.
  Status Connect(const ConnectionConfig& config);
  // Connects and prepares config.prepared, unless connected and healthy.
  Status Ensure(const ConnectionConfig& config);

  // Runs a prepared statement; results in binary format.
  Result<PgResult> Prepared(const char* name, const Params& params, Clock::time_point deadline);
  // Runs one statement that is not prepared; results in binary format.
  Result<PgResult> Unprepared(const char* sql, const Params& params, Clock::time_point deadline);
  // Runs one or more ';'-separated statements (simple protocol, no parameters).
  Result<PgResult> Simple(const char* sql, Clock::time_point deadline);

  void Close() {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
  }

  bool connected() const { return conn_ != nullptr; }
  // Counts the connections made: unchanged across two calls means the same
  // server session.
  uint64_t sessions() const { return sessions_; }

 private:
  // Waits until the socket is readable (or writable); false on timeout or error.
  bool WaitSocket(bool for_write, Clock::time_point deadline);
  // Flushes the sent command and collects its results (the first error wins,
  // else the last result).
  Result<PgResult> Finish(std::string_view what, Clock::time_point deadline);
  // Closes the connection and returns Unavailable naming `what` and `why`.
  Status Lost(std::string_view what, const std::string& why);

  PGconn* conn_ = nullptr;
  uint64_t sessions_ = 0;
};

// A fixed set of connections lent to one caller at a time. Thread-safe.
class ConnectionPool {
 public:
  explicit ConnectionPool(ConnectionConfig config);

  // A connection lent until the Lease is destroyed.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (conn_) pool_->Return(std::move(conn_));
    }
    Connection* get() { return conn_.get(); }
    Connection* operator->() { return conn_.get(); }
    // The connection's session was open before this lease: the server may
    // have closed it since without the health check seeing it (a backend
    // that sent its FATAL message and then the end of the stream).
    bool reused() const { return reused_; }

   private:
    friend class ConnectionPool;
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
    bool reused_ = false;
  };

  // Waits (bounded by the statement budget) for a free connection and makes
  // sure it is connected. Unavailable when none is free in time.
  Result<Lease> Acquire();

  // The deadline of a statement started now.
  Clock::time_point StatementDeadline() const { return Clock::now() + config_.StatementBudget(); }

  // Connects every idle connection now (at open, before any caller waits).
  Status ConnectAll();

 private:
  void Return(std::unique_ptr<Connection> conn);

  const ConnectionConfig config_;
  Mutex mu_;
  CondVar available_;  // signalled when a connection is returned
  std::vector<std::unique_ptr<Connection>> free_ GUARDED_BY(mu_);
};

}  // namespace tempo::origin::pg
