// The PostgreSQL origin's connections and pool (see pg_pool.h).
#include "origin/pg_pool.h"

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/logging.h"

namespace tempo::origin::pg {
namespace {

// Added to statement_timeout for the client-side deadline: the server's own
// timeout should fire first and report a clean error on a live connection.
constexpr int kNetworkMarginMs = 500;

std::string Trimmed(const char* message) {
  std::string out = message == nullptr ? "" : message;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// libpq's notice processor: a server's NOTICE or WARNING (those at or above
// the session's client_min_messages) or libpq's own notice goes to the
// process log as one line, instead of libpq's default, a bare write to stderr.
void LogNotice(void* /*arg*/, const char* message) {
  Log(LogLevel::kWarn, "postgres", Trimmed(message));
}

// Maps a failed statement to a Status by its SQLSTATE class.
Status FromSqlState(std::string_view what, const char* sqlstate, const std::string& message) {
  std::string msg = "origin: " + std::string(what) + ": " + message;
  const std::string_view state = sqlstate == nullptr ? "" : sqlstate;
  // 08 connection, 53 resources, 57 operator intervention (incl. statement
  // timeout and shutdown), 40 serialization/deadlock, 55P03 lock timeout:
  // retrying later may succeed.
  for (std::string_view transient : {"08", "53", "57", "40", "55P03"}) {
    if (state.starts_with(transient)) return Status::Unavailable(std::move(msg));
  }
  // Undefined table or function: the schema is missing.
  if (state == "42P01" || state == "42883") {
    return Status::IOError(msg + " (schema missing: run `tempo migrate --store URI`)");
  }
  if (state == "XX001" || state == "XX002") return Status::Corruption(std::move(msg));
  return Status::IOError(std::move(msg));
}

}  // namespace

Status ValidateOptions(const std::string& uri, const PostgresOptions& options) {
  if (options.pool_size < 1 || options.connect_timeout_ms < 1 || options.statement_timeout_ms < 1) {
    return Status::InvalidArgument(
        "origin: PostgresOptions need pool_size >= 1 and positive timeouts");
  }
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(uri.c_str(), &error);
  if (parsed == nullptr) {
    std::string why = error != nullptr ? Trimmed(error) : "out of memory";
    PQfreemem(error);
    return Status::InvalidArgument("origin: bad PostgreSQL URI: " + why);
  }
  PQconninfoFree(parsed);
  return Status::OK();
}

std::chrono::milliseconds ConnectionConfig::StatementBudget() const {
  return std::chrono::milliseconds(options.statement_timeout_ms + kNetworkMarginMs);
}

// ---- one connection -----------------------------------------------------------

Status Connection::Lost(std::string_view what, const std::string& why) {
  std::string message = "origin: " + std::string(what) + ": " + why;
  Close();
  return Status::Unavailable(std::move(message));
}

bool Connection::WaitSocket(bool for_write, Clock::time_point deadline) {
  const int fd = PQsocket(conn_);
  if (fd < 0) return false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;  // ready, or an error libpq will report
    if (n < 0 && errno != EINTR) return false;
  }
}

Status Connection::Connect(const ConnectionConfig& config) {
  Close();
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(config.options.connect_timeout_ms);
  // Defaults first: values in the URI (expanded from dbname) override them.
  const char* keywords[] = {"application_name", "dbname", nullptr};
  const char* values[] = {"tempo", config.uri.c_str(), nullptr};
  conn_ = PQconnectStartParams(keywords, values, /*expand_dbname=*/1);
  if (conn_ == nullptr) return Status::Unavailable("origin: connect: out of memory");
  PQsetNoticeProcessor(conn_, LogNotice, nullptr);
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (PQstatus(conn_) != CONNECTION_BAD && state != PGRES_POLLING_OK &&
         state != PGRES_POLLING_FAILED) {
    if (!WaitSocket(state == PGRES_POLLING_WRITING, deadline)) {
      return Lost("connect",
                  "no answer within " + std::to_string(config.options.connect_timeout_ms) + " ms");
    }
    state = PQconnectPoll(conn_);
  }
  if (state != PGRES_POLLING_OK || PQstatus(conn_) != CONNECTION_OK) {
    return Lost("connect", Trimmed(PQerrorMessage(conn_)));
  }
  if (PQsetnonblocking(conn_, 1) != 0) return Lost("connect", Trimmed(PQerrorMessage(conn_)));
  ++sessions_;

  // Session settings: a bounded statement time, asynchronous commit (see
  // "Durability" in pg_origin.h), and no NOTICEs from idempotent DDL on stderr.
  const std::string setup =
      "SET statement_timeout = " + std::to_string(config.options.statement_timeout_ms) +
      "; SET synchronous_commit = off; SET client_min_messages = warning";
  if (auto r = Simple(setup.c_str(), deadline); !r.ok()) return r.status();
  return Status::OK();
}

Status Connection::Ensure(const ConnectionConfig& config) {
  if (conn_ != nullptr) {
    // An idle connection has nothing to read unless the server closed it
    // (restart, idle timeout): notice that now instead of failing a request.
    // One left inside a transaction (a multi-statement query that failed
    // half-way) would fail every later statement: start afresh.
    pollfd p{PQsocket(conn_), POLLIN, 0};
    if (p.fd < 0 || (poll(&p, 1, 0) > 0 && PQconsumeInput(conn_) == 0) ||
        PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) != PQTRANS_IDLE) {
      Close();
    }
  }
  if (conn_ != nullptr) return Status::OK();
  if (Status s = Connect(config); !s.ok()) return s;
  const Clock::time_point deadline = Clock::now() + config.StatementBudget();
  for (const Statement& stmt : config.prepared) {
    if (!PQsendPrepare(conn_, stmt.name, stmt.sql, static_cast<int>(stmt.param_types.size()),
                       stmt.param_types.data())) {
      return Lost("prepare", Trimmed(PQerrorMessage(conn_)));
    }
    if (auto r = Finish("prepare", deadline); !r.ok()) {
      Close();  // a half-prepared connection must not be reused
      return r.status();
    }
  }
  return Status::OK();
}

Result<PgResult> Connection::Finish(std::string_view what, Clock::time_point deadline) {
  for (;;) {  // PQflush: 0 sent, 1 more to send, -1 failed
    int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0) return Lost(what, Trimmed(PQerrorMessage(conn_)));
    if (!WaitSocket(/*for_write=*/true, deadline)) return Lost(what, "timed out sending");
  }
  PgResult result, error;
  for (;;) {
    while (PQisBusy(conn_)) {
      if (!WaitSocket(/*for_write=*/false, deadline)) return Lost(what, "timed out");
      if (!PQconsumeInput(conn_)) return Lost(what, Trimmed(PQerrorMessage(conn_)));
    }
    PgResult next(PQgetResult(conn_));
    if (!next) break;
    const ExecStatusType status = PQresultStatus(next.get());
    if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE ||
        status == PGRES_NONFATAL_ERROR) {
      if (!error) error = std::move(next);
    } else {
      result = std::move(next);
    }
  }
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Lost(
        what, error ? Trimmed(PQresultErrorMessage(error.get())) : Trimmed(PQerrorMessage(conn_)));
  }
  if (error) {
    return FromSqlState(what, PQresultErrorField(error.get(), PG_DIAG_SQLSTATE),
                        Trimmed(PQresultErrorMessage(error.get())));
  }
  if (!result) return Status::Internal("origin: " + std::string(what) + ": no result");
  return result;
}

Result<PgResult> Connection::Prepared(const char* name, const Params& params,
                                      Clock::time_point deadline) {
  if (!PQsendQueryPrepared(conn_, name, params.count(), params.values(), params.lengths(),
                           params.formats(), /*resultFormat=*/1)) {
    return Lost(name, Trimmed(PQerrorMessage(conn_)));
  }
  return Finish(name, deadline);
}

Result<PgResult> Connection::Unprepared(const char* sql, const Params& params,
                                        Clock::time_point deadline) {
  if (!PQsendQueryParams(conn_, sql, params.count(), /*paramTypes=*/nullptr, params.values(),
                         params.lengths(), params.formats(), /*resultFormat=*/1)) {
    return Lost("query", Trimmed(PQerrorMessage(conn_)));
  }
  return Finish("query", deadline);
}

Result<PgResult> Connection::Simple(const char* sql, Clock::time_point deadline) {
  if (!PQsendQuery(conn_, sql)) return Lost("query", Trimmed(PQerrorMessage(conn_)));
  return Finish("query", deadline);
}

// ---- the pool -------------------------------------------------------------------

ConnectionPool::ConnectionPool(ConnectionConfig config) : config_(std::move(config)) {
  for (int i = 0; i < config_.options.pool_size; ++i) {
    free_.push_back(std::make_unique<Connection>());
  }
}

Result<ConnectionPool::Lease> ConnectionPool::Acquire() {
  std::unique_ptr<Connection> conn;
  {
    const Clock::time_point give_up = Clock::now() + config_.StatementBudget();
    MutexLock lock(&mu_);
    while (free_.empty()) {
      if (!available_.WaitUntil(&mu_, give_up) && free_.empty()) {
        return Status::Unavailable("origin: every pooled connection stayed busy");
      }
    }
    conn = std::move(free_.back());
    free_.pop_back();
  }
  const bool was_connected = conn->connected();
  const uint64_t session = conn->sessions();
  Lease lease(this, std::move(conn));
  if (Status s = lease->Ensure(config_); !s.ok()) return s;
  lease.reused_ = was_connected && lease->sessions() == session;
  return lease;
}

Status ConnectionPool::ConnectAll() {
  MutexLock lock(&mu_);
  for (const std::unique_ptr<Connection>& conn : free_) {
    if (Status s = conn->Ensure(config_); !s.ok()) return s;
  }
  return Status::OK();
}

void ConnectionPool::Return(std::unique_ptr<Connection> conn) {
  {
    MutexLock lock(&mu_);
    free_.push_back(std::move(conn));
  }
  available_.Signal();
}

}  // namespace tempo::origin::pg
