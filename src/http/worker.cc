// Worker: accept loop, idle sweep and graceful stop of one serving thread.
#include "http/worker.h"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <random>
#include <string>
#include <utility>

#include "common/bug.h"
#include "common/logging.h"
#include "http/response_head.h"

namespace tempo::http {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// Each io_context is driven by exactly one thread and only that thread does
// I/O on its sockets, so the reactor's per-descriptor locks can go; the
// scheduler keeps its lock because RequestStop posts from other threads.
constexpr int kConcurrencyHint = BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO;
// The sweep runs at a quarter of the idle timeout, within these bounds: the
// clock (and so the Date header and every deadline) is at most this stale.
constexpr int64_t kMinSweepIntervalMs = 10;
constexpr int64_t kMaxSweepIntervalMs = 1000;
// A failed accept (out of descriptors, say) is retried after this pause
// rather than in a busy loop.
constexpr int64_t kAcceptRetryMs = 10;
// After a stop request, connections still mid-request get this long to be
// answered before they are closed.
constexpr int64_t kStopDrainMs = 2000;

// A random base for this process's request ids.
uint64_t ProcessIdBase() {
  static const uint64_t base = [] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }();
  return base;
}

// SplitMix64's finalizer: a bijection of 64-bit values that spreads a
// counter's bits, so consecutive ids look unrelated.
uint64_t Mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ServerStats ServerCounters::Snapshot() const {
  ServerStats stats;
  stats.connections_accepted = accepted.load(std::memory_order_relaxed);
  stats.connections_rejected = rejected.load(std::memory_order_relaxed);
  stats.accept_failures = accept_failures.load(std::memory_order_relaxed);
  stats.connections_open = open.load(std::memory_order_relaxed);
  stats.fallbacks = fallbacks.load(std::memory_order_relaxed);
  stats.tls_handshakes = tls_handshakes.load(std::memory_order_relaxed);
  stats.tls_handshake_failures = tls_handshake_failures.load(std::memory_order_relaxed);
  stats.header_timeouts = header_timeouts.load(std::memory_order_relaxed);
  stats.idle_timeouts = idle_timeouts.load(std::memory_order_relaxed);
  stats.connection_errors = connection_errors.load(std::memory_order_relaxed);
  for (size_t status = 0; status < own_by_status.size(); ++status) {
    const uint64_t n = own_by_status[status].load(std::memory_order_relaxed);
    if (n > 0) stats.own_responses[static_cast<int>(status)] = n;
  }
  return stats;
}

Worker::Worker(const ServerOptions& options, const Handler& handler, ServerCounters* counters,
               const TlsContext* tls)
    : options_(options),
      handler_(handler),
      counters_(counters),
      tls_(tls),
      io_(kConcurrencyHint),
      mailbox_(std::make_shared<Mailbox>()),
      acceptor_(io_),
      sweep_timer_(io_),
      accept_retry_timer_(io_),
      drain_timer_(io_),
      sweep_interval_ms_(
          std::clamp<int64_t>(std::min(options.idle_timeout_ms, options.header_timeout_ms) / 4,
                              kMinSweepIntervalMs, kMaxSweepIntervalMs)),
      // Workers' counters start 2^48 apart: ids cannot collide within a process.
      request_id_base_(ProcessIdBase() +
                       (counters->next_worker.fetch_add(1, std::memory_order_relaxed) << 48)) {
  RefreshClock();
}

Worker::~Worker() {
  {
    MutexLock lock(&mailbox_->mu);
    mailbox_->io = nullptr;  // late deferred answers have nowhere to go
  }
  // Connections hold sockets of io_, so they go first.
  connections_.clear_and_dispose([this](Connection* c) {
    delete c;
    counters_->open.fetch_sub(1, std::memory_order_relaxed);
  });
}

Status Worker::Listen(const tcp::endpoint& endpoint) {
  const std::string where = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) {
    // Asio has no portable name for SO_REUSEPORT.
    const int on = 1;
    if (setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
      ec.assign(errno, boost::system::system_category());
    }
  }
  if (ec)
    return Status::IOError("cannot open a listening socket for " + where + ": " + ec.message());
  acceptor_.bind(endpoint, ec);
  if (ec) return Status::IOError("cannot bind " + where + ": " + ec.message());
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IOError("cannot listen on " + where + ": " + ec.message());
  const tcp::endpoint bound = acceptor_.local_endpoint(ec);
  if (ec) return Status::IOError("cannot read the bound port of " + where + ": " + ec.message());
  port_ = bound.port();
  return Status::OK();
}

void Worker::Run() {
  {
    MutexLock lock(&mailbox_->mu);
    mailbox_->io = &io_;
  }
  Accept();
  ScheduleSweep();
  for (;;) {
    try {
      io_.run();
      break;
    } catch (...) {
      // Handlers catch what they can (see Connection::CallHandler); what gets
      // here (an allocation failure) is a bug to see. Keep serving the others.
      TEMPO_BUG(false, "an exception escaped a serving thread's event loop");
    }
  }
  MutexLock lock(&mailbox_->mu);
  mailbox_->io = nullptr;
}

void Worker::RequestStop() {
  asio::post(io_, [this] { BeginStop(); });
}

void Worker::Remove(Connection* c) {
  connections_.erase(connections_.iterator_to(*c));
  delete c;
  counters_->open.fetch_sub(1, std::memory_order_relaxed);
  if (stopping_ && connections_.empty()) drain_timer_.cancel();
}

void Worker::CountOwn(int status) {
  if (status >= 0 && static_cast<size_t>(status) < counters_->own_by_status.size()) {
    counters_->own_by_status[status].fetch_add(1, std::memory_order_relaxed);
  }
}

void Worker::CountFallback(int status) {
  counters_->fallbacks.fetch_add(1, std::memory_order_relaxed);
  CountOwn(status);
}

void Worker::CountConnectionError() {
  counters_->connection_errors.fetch_add(1, std::memory_order_relaxed);
}

void Worker::MakeRequestId(std::string* id) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v = Mix(request_id_base_ + request_ids_made_++);
  id->resize(16);
  for (int i = 15; i >= 0; --i) {
    (*id)[static_cast<size_t>(i)] = kHex[v & 0xf];
    v >>= 4;
  }
}

void Worker::CountHandshake(bool ok) {
  if (ok) {
    counters_->tls_handshakes.fetch_add(1, std::memory_order_relaxed);
  } else if (!stopping_) {
    counters_->tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
  }
}

const std::shared_ptr<asio::ssl::context>& Worker::CurrentTlsContext() {
  const uint64_t generation = tls_->generation();
  if (tls_context_ == nullptr || generation != tls_generation_) {
    tls_generation_ = generation;
    tls_context_ = tls_->Current();
  }
  return tls_context_;
}

void Worker::Accept() {
  acceptor_.async_accept(
      [this](const error_code& ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
}

void Worker::OnAccept(const error_code& ec, tcp::socket socket) {
  if (stopping_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    counters_->accept_failures.fetch_add(1, std::memory_order_relaxed);
    if ((ec == asio::error::no_descriptors || ec.value() == ENFILE) &&
        !counters_->out_of_descriptors.exchange(true)) {
      Log(LogLevel::kError, "http",
          "out of file descriptors: cannot accept connections (" + ec.message() +
              "); retrying every " + std::to_string(kAcceptRetryMs) + " ms");
    }
    accept_retry_timer_.expires_after(std::chrono::milliseconds(kAcceptRetryMs));
    accept_retry_timer_.async_wait([this](const error_code& wait_ec) {
      if (!wait_ec && !stopping_) Accept();
    });
    return;
  }
  if (counters_->out_of_descriptors.load(std::memory_order_relaxed) &&
      counters_->out_of_descriptors.exchange(false)) {
    LogLine("http", "accepting connections again");
  }
  counters_->accepted.fetch_add(1, std::memory_order_relaxed);
  error_code ignored;
  const int64_t open = counters_->open.fetch_add(1, std::memory_order_relaxed);
  if (options_.max_connections > 0 && open >= options_.max_connections) {
    // Over the limit: closed at once, so the descriptors kept in reserve
    // stay free for what must keep working.
    counters_->open.fetch_sub(1, std::memory_order_relaxed);
    counters_->rejected.fetch_add(1, std::memory_order_relaxed);
    socket.close(ignored);
    Accept();
    return;
  }
  // Each response goes out in one write; Nagle would only delay it.
  socket.set_option(tcp::no_delay(true), ignored);
  auto* connection =
      new Connection(this, std::move(socket), tls_ == nullptr ? nullptr : CurrentTlsContext());
  connections_.push_back(*connection);
  connection->Start();
  Accept();
}

void Worker::ScheduleSweep() {
  sweep_timer_.expires_after(std::chrono::milliseconds(sweep_interval_ms_));
  sweep_timer_.async_wait([this](const error_code& ec) {
    if (ec || stopping_) return;
    Sweep();
    ScheduleSweep();
  });
}

void Worker::Sweep() {
  RefreshClock();
  for (Connection& c : connections_) {
    if (now_ms_ < c.deadline_ms()) continue;
    // A handshake that times out is counted as a failed handshake.
    if (!c.IsLingering() && !c.IsHandshaking()) {
      (c.IsIdle() ? counters_->idle_timeouts : counters_->header_timeouts)
          .fetch_add(1, std::memory_order_relaxed);
    }
    c.Abort();  // its pending operation then removes it
  }
}

void Worker::RefreshClock() {
  now_ms_ = SteadyNowMs();
  wall_minus_steady_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count() -
                          std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now().time_since_epoch())
                              .count();
  const std::time_t wall = std::time(nullptr);
  if (wall != date_time_) {
    date_time_ = wall;
    date_ = FormatHttpDate(wall);
  }
}

void Worker::BeginStop() {
  if (stopping_) return;
  stopping_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  sweep_timer_.cancel();
  accept_retry_timer_.cancel();
  for (Connection& c : connections_) {
    if (c.IsIdle() || c.IsLingering()) c.Abort();
  }
  if (connections_.empty()) return;
  drain_timer_.expires_after(std::chrono::milliseconds(kStopDrainMs));
  drain_timer_.async_wait([this](const error_code& ec) {
    if (!ec) AbortAll();
  });
}

void Worker::AbortAll() {
  for (Connection& c : connections_) c.Abort();
}

}  // namespace tempo::http
