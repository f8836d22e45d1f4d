// Connection: one keep-alive HTTP/1.1 connection of a load run, with at most one request in
// flight, sending on its SendSchedule (loadgen.h explains the model).
//
// It is waiting until its next intended send time (on send_timer_), in flight (a connect, or a
// request and its answer), or done. The time-out of what is in flight is kept lazily: a new
// request only moves deadline_, and timeout_timer_ is armed only when it is not already
// waiting; when it fires before the deadline (it was armed for an earlier request) it waits
// again for the rest. A saturated connection thus touches its timer once per time-out rather
// than once per request (a re-armed timer cancels its wait, queues the cancelled handler and
// re-sorts the timer heap: about 10 % of a saturated run's CPU). Its sockets and timers are
// bound to the io_context's own executor type, not any_io_executor, which Beast's composed
// operations would otherwise copy and destroy several times per read. Answers are read with
// plain reads fed to an AnswerParser, not Beast's composed http::async_read.
//
// Runs only on its worker's thread; not safe for concurrent use.
#pragma once

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <optional>
#include <string>

#include "loadgen/answer_parser.h"
#include "loadgen/schedule.h"
#include "loadgen/worker.h"

namespace tempo::loadgen {

class Connection {
 public:
  explicit Connection(WorkerState* worker);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts connecting (bounded by the time-out); the outcome is open() once the worker's
  // event loop has run it.
  void Open();
  bool open() const { return socket_.is_open(); }
  const std::string& open_error() const { return open_error_; }

  // Starts sending on `schedule`: the first request at schedule.At(0).
  void Start(const SendSchedule& schedule);

 private:
  using Executor = boost::asio::io_context::executor_type;
  using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
  using Timer = boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>, Executor>;
  enum class ErrorKind { kConnect, kTimeout, kIo };

  void ScheduleNext();
  void Send();
  void Connected(const boost::system::error_code& ec);
  void Write();
  void Read();
  // Feeds what was read to the parser: the answer, or another read.
  void Parse();
  void Answered();
  void Failed(ErrorKind kind);
  void Finish();
  void Close();
  // Starts the time-out of what is now in flight; EndTimeout when it is over.
  void StartTimeout();
  void EndTimeout() { deadline_ = Clock::time_point::max(); }
  void WaitForDeadline();

  WorkerState* const worker_;
  Socket socket_;
  Timer send_timer_;
  Timer timeout_timer_;
  bool timeout_timer_waiting_ = false;
  Clock::time_point deadline_ = Clock::time_point::max();  // max: nothing in flight
  bool timed_out_ = false;
  bool done_ = false;
  std::string open_error_;

  SendSchedule schedule_;
  uint64_t next_ = 0;  // the index in schedule_ of the next request to send
  // The request in flight.
  const std::string* request_ = nullptr;
  Clock::time_point intended_;
  Clock::time_point sent_;
  bool measured_ = false;

  boost::beast::flat_buffer buffer_;
  std::optional<AnswerParser> parser_;
};

}  // namespace tempo::loadgen
