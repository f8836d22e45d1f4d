// Worker: one thread's share of the server -- an io_context, an acceptor on
// the shared port (SO_REUSEPORT lets the kernel spread connections over the
// workers' acceptors), and the connections it accepted.
//
// Everything but RequestStop runs on the worker's own thread, so no state is
// shared between workers and nothing on the request path takes a lock.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "common/mutex.h"
#include "common/status.h"
#include "http/connection.h"
#include "http/server.h"
#include "http/tls_context.h"

namespace tempo::http {

// What the workers of one server share: the count of open connections that
// max_connections bounds, and the counters behind ServerStats (touched on
// accepts, closes and the server's own answers, never per request).
struct ServerCounters {
  std::atomic<int64_t> open{0};
  std::atomic<uint64_t> accepted{0}, rejected{0}, accept_failures{0}, fallbacks{0};
  std::atomic<uint64_t> tls_handshakes{0}, tls_handshake_failures{0};
  std::atomic<uint64_t> header_timeouts{0}, idle_timeouts{0}, connection_errors{0};
  // Workers number themselves from this (their request ids differ by it).
  std::atomic<uint64_t> next_worker{0};
  std::array<std::atomic<uint64_t>, 1000> own_by_status{};
  std::atomic<bool> out_of_descriptors{false};  // logged once per episode

  ServerStats Snapshot() const;
};

// Where answers deferred to other threads are posted: the worker's
// io_context while it runs, nothing once it has stopped. Shared with the
// deferred answers, which may outlive the worker.
struct Mailbox {
  Mutex mu;
  boost::asio::io_context* io GUARDED_BY(mu) = nullptr;
};

class Worker {
 public:
  // `options`, `handler`, `counters` and `tls` (null on a plain-HTTP
  // listener) must outlive the worker.
  Worker(const ServerOptions& options, const Handler& handler, ServerCounters* counters,
         const TlsContext* tls);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Opens the acceptor with SO_REUSEPORT, binds it to `endpoint` and listens.
  Status Listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // The bound port. REQUIRES: Listen succeeded.
  uint16_t port() const { return port_; }

  // Serves until stopped. Call once, on the worker's thread.
  void Run();
  // Makes Run return once in-flight requests are answered (at most
  // kStopDrainMs later). Thread-safe; idempotent.
  void RequestStop();

  // For connections, on the worker's thread.
  const Handler& handler() const { return handler_; }
  const ServerOptions& options() const { return options_; }
  bool stopping() const { return stopping_; }
  // A coarse monotonic clock (ms), refreshed by the sweep timer: reading it
  // costs nothing on the request path.
  int64_t now_ms() const { return now_ms_; }
  // The wall-clock time (ns since the Unix epoch) of a steady-clock instant,
  // by the offset between the clocks taken with now_ms(): one read of the
  // steady clock gives both a duration and a log time.
  int64_t WallTimeOf(std::chrono::steady_clock::time_point at) const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count() +
           wall_minus_steady_ns_;
  }
  // The current Date header value, refreshed with now_ms().
  std::string_view date() const { return date_; }
  // Where other threads post deferred answers for this worker's connections.
  const std::shared_ptr<Mailbox>& mailbox() const { return mailbox_; }
  // Unlinks and deletes `c`. Called by `c` itself once it has no operation
  // in flight.
  void Remove(Connection* c);
  // Counts an answer the server gave itself (not the handler).
  void CountOwn(int status);
  // Counts a deferred answer's fallback, sent at its deadline.
  void CountFallback(int status);
  // Counts a TLS handshake that completed, or failed (not while stopping).
  void CountHandshake(bool ok);
  // Counts a connection that ended in a read or write error.
  void CountConnectionError();
  // Replaces *id with a new request id: 16 hex digits, unique in the
  // process (a per-process random base, the worker's number and a counter
  // through a bijective mix), so ids of one process never repeat and ids of
  // different processes almost surely differ.
  void MakeRequestId(std::string* id);

 private:
  void Accept();
  void OnAccept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);
  void ScheduleSweep();
  // Refreshes the clock and closes connections past their deadline.
  void Sweep();
  void RefreshClock();
  void BeginStop();
  void AbortAll();
  // The TLS context for a connection accepted now: the worker's copy,
  // refreshed when a reload has replaced it (no lock per connection).
  const std::shared_ptr<boost::asio::ssl::context>& CurrentTlsContext();

  const ServerOptions& options_;
  const Handler& handler_;
  ServerCounters* const counters_;
  const TlsContext* const tls_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  uint64_t tls_generation_ = 0;
  boost::asio::io_context io_;
  std::shared_ptr<Mailbox> mailbox_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer sweep_timer_;
  boost::asio::steady_timer accept_retry_timer_;
  boost::asio::steady_timer drain_timer_;
  boost::intrusive::list<Connection> connections_;
  int64_t sweep_interval_ms_;
  int64_t now_ms_ = 0;
  int64_t wall_minus_steady_ns_ = 0;  // system_clock - steady_clock, with now_ms_
  std::time_t date_time_ = 0;         // the second date_ shows
  std::string date_;
  uint16_t port_ = 0;
  bool stopping_ = false;
  uint64_t request_id_base_;
  uint64_t request_ids_made_ = 0;
};

}  // namespace tempo::http
