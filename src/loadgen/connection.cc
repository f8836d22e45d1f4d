// Connection: the state machine described in connection.h.
#include "loadgen/connection.h"

#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>

namespace tempo::loadgen {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

// What one read asks for: an answer of the hot URL (4 KiB) and its header in one.
constexpr size_t kReadBytes = 16 * 1024;

int64_t Microseconds(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d + std::chrono::nanoseconds(500))
             .count() /
         1000;
}

}  // namespace

Connection::Connection(WorkerState* worker)
    : worker_(worker),
      socket_(worker->io.get_executor()),
      send_timer_(worker->io.get_executor()),
      timeout_timer_(worker->io.get_executor()),
      schedule_(Clock::time_point{}, 1.0, 1, 0) {}

void Connection::Open() {
  StartTimeout();
  socket_.async_connect(worker_->endpoint, [this](const boost::system::error_code& ec) {
    EndTimeout();
    if (ec) {
      open_error_ = timed_out_ ? "connect timed out" : ec.message();
      Close();
    } else {
      socket_.set_option(asio::ip::tcp::no_delay(true));
    }
    timeout_timer_.cancel();  // so that the connect phase's event loop returns now
  });
}

void Connection::Start(const SendSchedule& schedule) {
  schedule_ = schedule;
  next_ = 0;
  ScheduleNext();
}

void Connection::ScheduleNext() {
  const Clock::time_point intended = schedule_.At(next_);
  if (intended >= worker_->end) return Finish();
  if (intended <= Clock::now()) return Send();
  send_timer_.expires_at(intended);
  send_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !done_) Send();
  });
}

void Connection::Send() {
  const Clock::time_point now = Clock::now();
  // Late past the end (the previous answer came after it): the run is over for this one.
  if (now >= worker_->end) return Finish();
  intended_ = schedule_.At(next_++);
  measured_ = now >= worker_->measure_start;
  request_ = &worker_->NextRequest();
  if (socket_.is_open()) return Write();
  StartTimeout();
  socket_.async_connect(worker_->endpoint,
                        [this](const boost::system::error_code& ec) { Connected(ec); });
}

void Connection::Connected(const boost::system::error_code& ec) {
  if (ec) return Failed(ErrorKind::kConnect);
  boost::system::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  Write();
}

void Connection::Write() {
  sent_ = Clock::now();
  StartTimeout();
  asio::async_write(socket_, asio::buffer(*request_),
                    [this](const boost::system::error_code& ec, size_t) {
                      if (ec) return Failed(timed_out_ ? ErrorKind::kTimeout : ErrorKind::kIo);
                      parser_.emplace();
                      parser_->header_limit(kMaxHeaderBytes);
                      parser_->body_limit(kMaxBodyBytes);
                      parser_->eager(true);  // the body in the same put() as the header
                      Parse();               // what a previous read left, if anything; else a read
                    });
}

void Connection::Read() {
  socket_.async_read_some(buffer_.prepare(kReadBytes),
                          [this](const boost::system::error_code& ec, size_t n) {
                            if (ec == asio::error::eof && !timed_out_ && parser_->got_some()) {
                              // An answer whose body ends with the connection.
                              boost::beast::error_code eof_ec;
                              parser_->put_eof(eof_ec);
                              if (!eof_ec && parser_->is_done()) return Answered();
                            }
                            if (ec)
                              return Failed(timed_out_ ? ErrorKind::kTimeout : ErrorKind::kIo);
                            buffer_.commit(n);
                            Parse();
                          });
}

void Connection::Parse() {
  while (buffer_.size() > 0) {
    boost::beast::error_code ec;
    const size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more) break;
    if (ec) return Failed(ErrorKind::kIo);
    if (parser_->is_done()) return Answered();
    if (used == 0) break;
  }
  Read();
}

void Connection::Answered() {
  const Clock::time_point now = Clock::now();
  EndTimeout();
  const int64_t latency_us = Microseconds(now - intended_);
  const int status = parser_->status();
  if (measured_) {
    worker_->latency_us.Record(latency_us);
    worker_->service_time_us.Record(Microseconds(now - sent_));
    ++worker_->answers;
    if (status >= 400 && status < 500) ++worker_->errors.status_4xx;
    if (status >= 500 && status < 600) ++worker_->errors.status_5xx;
  }
  ProgressCounters& progress = worker_->progress;
  progress.answers.fetch_add(1, std::memory_order_relaxed);
  if (status >= 400) progress.errors.fetch_add(1, std::memory_order_relaxed);
  int64_t max = progress.max_latency_us.load(std::memory_order_relaxed);
  while (latency_us > max && !progress.max_latency_us.compare_exchange_weak(
                                 max, latency_us, std::memory_order_relaxed)) {
  }
  if (!parser_->keep_alive()) Close();
  ScheduleNext();
}

void Connection::Failed(ErrorKind kind) {
  EndTimeout();
  if (measured_) {
    switch (kind) {
      case ErrorKind::kConnect:
        ++worker_->errors.connect;
        break;
      case ErrorKind::kTimeout:
        ++worker_->errors.timeout;
        break;
      case ErrorKind::kIo:
        ++worker_->errors.io;
        break;
    }
  }
  worker_->progress.errors.fetch_add(1, std::memory_order_relaxed);
  Close();
  ScheduleNext();
}

void Connection::Finish() {
  // The intended sends of the measured window that were never made.
  const uint64_t window_end = schedule_.CountBefore(worker_->end);
  const uint64_t first = std::max(next_, schedule_.CountBefore(worker_->measure_start));
  if (window_end > first) worker_->unsent += window_end - first;
  next_ = window_end;
  done_ = true;
  EndTimeout();
  send_timer_.cancel();
  timeout_timer_.cancel();
  Close();
}

void Connection::Close() {
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  buffer_.clear();
}

void Connection::StartTimeout() {
  timed_out_ = false;
  deadline_ = Clock::now() + worker_->timeout;
  if (!timeout_timer_waiting_) WaitForDeadline();
}

void Connection::WaitForDeadline() {
  timeout_timer_waiting_ = true;
  timeout_timer_.expires_at(deadline_);
  timeout_timer_.async_wait([this](const boost::system::error_code& ec) {
    timeout_timer_waiting_ = false;
    if (ec || done_ || deadline_ == Clock::time_point::max()) return;  // nothing in flight
    if (Clock::now() < deadline_) return WaitForDeadline();  // armed for an earlier request
    timed_out_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);  // the pending connect, write or read ends with operation_aborted
  });
}

}  // namespace tempo::loadgen
