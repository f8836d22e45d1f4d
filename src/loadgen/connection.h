// Connection: one keep-alive HTTP/1.1 connection of a load run, with at most one request in
// flight, sending on its SendSchedule (loadgen.h explains the model).
//
// It is always in one of three states, and its one timer serves the state it is in:
//   waiting  until the next intended send time (the timer fires: send);
//   in flight  a connect, or a request and its answer (the timer fires: the time-out, which
//            closes the socket so that the pending operation ends with an error);
//   done     the run is over for it (no operation, no timer).
// Every handler of the timer carries the generation it was armed in, and does nothing when
// the timer has been armed again since: a cancelled wait may already be queued.
//
// Runs only on its worker's thread; not safe for concurrent use.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <optional>
#include <string>

#include "loadgen/discard_body.h"
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
  enum class ErrorKind { kConnect, kTimeout, kIo };

  void ScheduleNext();
  void Send();
  void Connected(const boost::system::error_code& ec);
  void Write();
  void Answered(const boost::system::error_code& ec);
  void Failed(ErrorKind kind);
  void Finish();
  void Close();
  // Arms the timer for the time-out of what is now in flight.
  void ArmTimeout();

  WorkerState* const worker_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  uint64_t timer_generation_ = 0;
  bool timed_out_ = false;
  std::string open_error_;

  SendSchedule schedule_;
  uint64_t next_ = 0;  // the index in schedule_ of the next request to send
  // The request in flight.
  const std::string* request_ = nullptr;
  Clock::time_point intended_;
  Clock::time_point sent_;
  bool measured_ = false;

  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::response_parser<DiscardBody>> parser_;
};

}  // namespace tempo::loadgen
