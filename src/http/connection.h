// Connection: one accepted socket, served request after request on its
// worker's thread.
//
// A connection always has exactly one thing in flight that will call it back
// -- a read, a write, or a deferred answer (whose deadline timer guarantees
// it comes) -- and it deletes itself (through Worker::Remove) when a read or
// write fails. So nothing else ever deletes a live connection: the worker's
// sweeps and stop only close the socket (Abort), which makes the pending
// operation complete with an error. Socket handlers capture a raw `this`,
// which that single-owner rule keeps valid; a deferred answer reaches the
// connection through its Pending, which the connection detaches when it goes.
//
// On a TLS listener the connection owns an OpenSSL stream over its socket and
// first completes the handshake (bounded by the header timeout); every read
// and write then goes through the stream. The plain path stays as it was: a
// test of one pointer per operation picks the stream, with no virtual call.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/intrusive/list_hook.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "http/request_reader.h"
#include "http/response_head.h"
#include "http/server.h"

namespace tempo::http {

class Worker;

class Connection final : public boost::intrusive::list_base_hook<>, private Responder {
 public:
  // With `tls` (the listener's context when it was accepted), the
  // connection speaks TLS; null: plain HTTP.
  Connection(Worker* worker, boost::asio::ip::tcp::socket socket,
             std::shared_ptr<boost::asio::ssl::context> tls);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Begins the TLS handshake, or reading the first request.
  void Start();

  // Closes the socket so the pending operation fails and the connection is
  // destroyed. Safe to call more than once.
  void Abort();

  // True when waiting for a request of which no byte has arrived (or still
  // in the TLS handshake): closing now loses nothing.
  bool IsIdle() const;
  // True after the last response, while draining what the client still sends.
  bool IsLingering() const { return state_ == State::kLingering; }
  // True while the TLS handshake is in progress.
  bool IsHandshaking() const { return state_ == State::kHandshaking; }
  // The worker clock time (ms) after which the sweep closes this connection.
  int64_t deadline_ms() const { return deadline_ms_; }

 private:
  class Pending;  // a deferred answer (PendingResponse)
  enum class State { kHandshaking, kReading, kWriting, kWaiting, kLingering };
  using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>;

  // Responder.
  std::shared_ptr<PendingResponse> Defer(std::chrono::steady_clock::time_point deadline,
                                         Response fallback) override;
  // A deferred answer arrived (`p` sent it), or its deadline passed.
  void OnAnswer(Pending* p);
  void OnAnswerDeadline(Pending* p);
  // (Re)arms the deferred answer's timer: at `at`, OnAnswerDeadline.
  void ArmAnswerTimer(std::chrono::steady_clock::time_point at);

  void OnHandshake(const boost::system::error_code& ec);
  void Read();
  void OnRead(const boost::system::error_code& ec, size_t bytes);
  // Answers every complete request in the buffer (up to a batch limit), then
  // writes, or reads when nothing is ready, or waits for a deferred answer.
  void Process();
  // Starts the next request's parser, skipping one empty line before it.
  void BeginRequest();
  // Parses until the request's head is complete.
  ParseOutcome ParseHead(boost::system::error_code* ec);
  // Reads the body of the request whose head is parsed (listeners that
  // keep bodies), first sending "100 Continue" when the client waits for it.
  ParseOutcome ReadBody(boost::system::error_code* ec);
  // Parses (and discards) the body of the request just answered.
  ParseOutcome DiscardBody(boost::system::error_code* ec);
  // Calls the handler for the parsed head; false when it deferred its answer.
  bool CallHandler();
  // Appends the answer in response_ (the handler's, a deferred one or a
  // fallback; a 500 when its status is out of range, as after a throwing
  // handler) to out_, and decides what happens to the request's body.
  void FinishAnswer();
  void AnswerParseError(const boost::system::error_code& ec);
  void Write();
  void OnWrite(const boost::system::error_code& ec);
  // The sweep deadline while reading: the idle timeout before a request's
  // first byte, the header timeout after it.
  void ArmReadDeadline();
  // Half-closes and reads until the client closes, so that unread request
  // bytes do not turn the close into a reset that destroys our last response.
  // Over TLS, a close_notify goes out first (without waiting for the
  // client's).
  void Linger();
  void LingerTcp();
  void OnLingerRead(const boost::system::error_code& ec, size_t bytes);
  // Forgets the deferred answer: it can no longer reach this connection.
  void DetachPending();
  // Closes the socket and deletes this connection.
  void Destroy();
  // A read or write failed with `ec`: counted unless it is the clean end of
  // a keep-alive connection between requests (`between_requests` and EOF)
  // or the server's own close (operation_aborted).
  void CountIoError(const boost::system::error_code& ec, bool between_requests);
  // The request id of the request being answered, made now if the client
  // sent none.
  std::string_view RequestId();
  // Calls ServerOptions::on_complete, if set, for the answer just queued:
  // the handler's (`handler_answer`) or the server's own.
  void Complete(int status, uint64_t body_bytes, bool handler_answer);

  Worker* const worker_;
  boost::asio::ip::tcp::socket socket_;
  // TLS listeners only: the context (kept for the connection's life) and the
  // stream over socket_.
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  std::unique_ptr<TlsStream> tls_;
  boost::beast::flat_buffer in_;  // received bytes not yet parsed
  ParsedRequest request_;         // fields of the request being parsed
  std::optional<RequestParser> parser_;
  Response response_;     // reused: the handler's strings keep their capacity
  std::string out_;       // response bytes waiting to be written
  std::string out_body_;  // a large body written after out_ without a copy
  State state_ = State::kReading;
  bool close_after_write_ = false;
  bool keep_alive_ = false;       // of the request being answered
  bool discard_body_ = false;     // the answered request's body is being read and dropped
  bool reading_request_ = false;  // some byte of the next request has arrived
  int64_t deadline_ms_ = 0;
  size_t linger_bytes_ = 0;
  // The deferred answer of the request in progress, if it deferred.
  std::shared_ptr<Pending> pending_;
  bool answered_ = false;            // pending_'s answer (or fallback) is in response_
  bool answer_lost_ = false;         // the deadline found the answer claimed but not yet here
  bool empty_line_skipped_ = false;  // the one empty line before this request
  bool continue_sent_ = false;       // "100 Continue" went out for this request
  Response fallback_;
  bool answer_is_fallback_ = false;  // response_ holds fallback_ (the server's own answer)
  std::string client_;               // the peer, "IP:PORT", for on_complete
  std::chrono::steady_clock::time_point handler_start_;  // set when on_complete is
  boost::asio::steady_timer answer_timer_;
};

}  // namespace tempo::http
