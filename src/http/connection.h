// Connection: one accepted socket, served request after request on its
// worker's thread.
//
// A connection always has exactly one asynchronous operation in flight (a
// read or a write), and it deletes itself (through Worker::Remove) when that
// operation fails. So nothing else ever deletes a live connection: the
// worker's sweeps and stop only close the socket (Abort), which makes the
// pending operation complete with an error. Handlers capture a raw `this`,
// which that single-owner rule keeps valid.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/intrusive/list_hook.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "http/request_parser.h"
#include "http/response_head.h"
#include "http/server.h"

namespace tempo::http {

class Worker;

class Connection final : public boost::intrusive::list_base_hook<> {
 public:
  Connection(Worker* worker, boost::asio::ip::tcp::socket socket);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Begins reading the first request.
  void Start();

  // Closes the socket so the pending operation fails and the connection is
  // destroyed. Safe to call more than once.
  void Abort();

  // True when waiting for a request of which no byte has arrived: closing
  // now loses nothing.
  bool IsIdle() const;
  // True after the last response, while draining what the client still sends.
  bool IsLingering() const { return state_ == State::kLingering; }
  // The worker clock time (ms) after which the sweep closes this connection.
  int64_t deadline_ms() const { return deadline_ms_; }

 private:
  enum class State { kReading, kWriting, kLingering };
  enum class ParseOutcome { kComplete, kNeedMore, kError };

  void Read();
  void OnRead(const boost::system::error_code& ec, size_t bytes);
  // Answers every complete request in the buffer (up to a batch limit), then
  // writes, or reads when nothing is ready.
  void Process();
  ParseOutcome Parse(boost::system::error_code* ec);
  void AnswerRequest();
  void AnswerParseError(const boost::system::error_code& ec);
  void Write();
  void OnWrite(const boost::system::error_code& ec);
  // Half-closes and reads until the client closes, so that unread request
  // bytes do not turn the close into a reset that destroys our last response.
  void Linger();
  void OnLingerRead(const boost::system::error_code& ec, size_t bytes);
  // Closes the socket and deletes this connection.
  void Destroy();

  Worker* const worker_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer in_;  // received bytes not yet parsed
  ParsedRequest request_;         // fields of the request being parsed
  std::optional<RequestParser> parser_;
  Response response_;     // reused: the handler's strings keep their capacity
  std::string out_;       // response bytes waiting to be written
  std::string out_body_;  // a large body written after out_ without a copy
  State state_ = State::kReading;
  bool close_after_write_ = false;
  int64_t deadline_ms_ = 0;
  size_t linger_bytes_ = 0;
};

}  // namespace tempo::http
