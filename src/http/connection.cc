// Connection: read, parse, answer (at once or deferred), write; keep-alive and
// pipelining.
#include "http/connection.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <limits>
#include <string_view>
#include <utility>

#include "common/bug.h"
#include "http/request_reader.h"
#include "http/worker.h"

namespace tempo::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

// Bytes asked of each read. wrk-style requests are ~100 bytes; 16 KiB takes a
// deep pipeline in one system call without making idle connections costly.
constexpr size_t kReadChunkBytes = 16 * 1024;
// Pipelined answers are gathered into one write up to this size.
constexpr size_t kMaxBatchBytes = 64 * 1024;
// Bodies up to this size are copied behind their head so the response goes
// out as one buffer; larger ones are written in place as a second buffer.
constexpr size_t kInlineBodyMaxBytes = 16 * 1024;
// Buffers that grew past this for one large request or response are freed
// afterwards rather than held for the life of the connection.
constexpr size_t kMaxRetainedBytes = 256 * 1024;
// How long, and how many bytes, a closing connection drains.
constexpr int64_t kLingerMs = 1000;
constexpr size_t kMaxLingerBytes = 256 * 1024;
// The sweep never closes a connection whose answer is deferred: the
// deferral's own deadline bounds that wait.
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
// How long a deferral whose sender claimed it at the deadline may still take
// to deliver its answer before the fallback goes out after all.
constexpr std::chrono::seconds kLostAnswerWait{1};

void ReleaseIfLarge(std::string* s) {
  if (s->capacity() > kMaxRetainedBytes) std::string().swap(*s);
}

}  // namespace

// A deferred answer. Send runs on the handler's thread and posts to the
// connection's through the worker's Mailbox; everything else runs on the
// connection's thread. Nothing here keeps the worker running: a stopped
// worker drops a late answer (the connection's timer has answered it), so a
// handle held elsewhere, or a handler that never answers, cannot hold up Stop.
class Connection::Pending final : public PendingResponse,
                                  public std::enable_shared_from_this<Pending> {
 public:
  Pending(std::shared_ptr<Mailbox> mailbox, Connection* connection)
      : mailbox_(std::move(mailbox)), connection_(connection) {}

  bool Send(Response response) override {
    if (!sender_claimed_ && !TryClaim()) return false;
    response_ = std::move(response);
    // The post publishes response_ to the connection's thread.
    MutexLock lock(&mailbox_->mu);
    if (mailbox_->io != nullptr) {
      asio::post(*mailbox_->io, [self = shared_from_this()] {
        if (self->connection_ != nullptr) self->connection_->OnAnswer(self.get());
      });
    }
    return true;
  }

  bool Claim() override {
    sender_claimed_ = TryClaim();
    return sender_claimed_;
  }

  // True for the first caller only: the sender or the deadline.
  bool TryClaim() { return !claimed_.exchange(true, std::memory_order_acq_rel); }

  Response TakeResponse() { return std::move(response_); }
  Connection* connection() const { return connection_; }
  // The connection has gone (or answered otherwise): a later Send is refused.
  void Detach() {
    connection_ = nullptr;
    claimed_.store(true, std::memory_order_release);
  }

 private:
  const std::shared_ptr<Mailbox> mailbox_;
  std::atomic<bool> claimed_{false};
  bool sender_claimed_ = false;  // the sender's thread only: Claim succeeded
  Response response_;            // written by Send's claimer before its post
  Connection* connection_;       // the connection's thread only; null once it has gone
};

Connection::Connection(Worker* worker, asio::ip::tcp::socket socket,
                       std::shared_ptr<asio::ssl::context> tls)
    : worker_(worker),
      socket_(std::move(socket)),
      tls_context_(std::move(tls)),
      answer_timer_(socket_.get_executor()) {
  if (tls_context_ != nullptr) tls_ = std::make_unique<TlsStream>(socket_, *tls_context_);
  if (worker_->options().on_complete) {
    error_code ec;
    const auto peer = socket_.remote_endpoint(ec);
    if (!ec) {
      const auto address = peer.address();
      client_ = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
      client_ += ":" + std::to_string(peer.port());
    }
  }
}

Connection::~Connection() { DetachPending(); }

void Connection::Start() {
  if (tls_ == nullptr) {
    ArmReadDeadline();
    Read();
    return;
  }
  // A client that connects and never completes the handshake is swept like
  // one that never completes its request.
  state_ = State::kHandshaking;
  deadline_ms_ = worker_->now_ms() + worker_->options().header_timeout_ms;
  tls_->async_handshake(asio::ssl::stream_base::server,
                        [this](const error_code& ec) { OnHandshake(ec); });
}

void Connection::OnHandshake(const error_code& ec) {
  worker_->CountHandshake(!ec);
  if (ec || worker_->stopping()) {
    Destroy();
    return;
  }
  ArmReadDeadline();
  Read();
}

void Connection::Abort() {
  error_code ignored;
  socket_.close(ignored);
  // A deferred answer can no longer be delivered: end its wait now (its
  // fallback's write then fails, and the connection goes).
  if (pending_ != nullptr && !answered_)
    ArmAnswerTimer(std::chrono::steady_clock::time_point::min());
}

bool Connection::IsIdle() const {
  if (state_ == State::kHandshaking) return true;
  return state_ == State::kReading && in_.size() == 0 && !(parser_ && parser_->got_some()) &&
         !discard_body_;
}

void Connection::ArmReadDeadline() {
  const ServerOptions& options = worker_->options();
  reading_request_ = in_.size() > 0 || discard_body_;
  deadline_ms_ =
      worker_->now_ms() + (reading_request_ ? options.header_timeout_ms : options.idle_timeout_ms);
}

void Connection::Read() {
  state_ = State::kReading;
  auto on_read = [this](const error_code& ec, size_t bytes) { OnRead(ec, bytes); };
  if (tls_ == nullptr) {
    socket_.async_read_some(in_.prepare(kReadChunkBytes), std::move(on_read));
  } else {
    tls_->async_read_some(in_.prepare(kReadChunkBytes), std::move(on_read));
  }
}

void Connection::OnRead(const error_code& ec, size_t bytes) {
  if (ec) {
    // EOF between requests is the normal end of keep-alive; mid-request
    // there is nobody left to answer.
    CountIoError(ec, !reading_request_);
    Destroy();
    return;
  }
  in_.commit(bytes);
  if (!reading_request_) {
    // The first byte of a request: it now has the header timeout to arrive whole.
    reading_request_ = true;
    deadline_ms_ = worker_->now_ms() + worker_->options().header_timeout_ms;
  }
  Process();
}

void Connection::Process() {
  if (pending_ != nullptr) {
    if (!answered_) {
      // Earlier pipelined answers go out meanwhile; then wait for this one.
      if (!out_.empty()) {
        Write();
      } else {
        state_ = State::kWaiting;
        deadline_ms_ = kNever;
      }
      return;
    }
    DetachPending();
    FinishAnswer();
  }
  for (;;) {
    if (close_after_write_ || !out_body_.empty() || out_.size() >= kMaxBatchBytes) break;
    error_code ec;
    if (discard_body_) {
      const ParseOutcome outcome = DiscardBody(&ec);
      if (outcome == ParseOutcome::kNeedMore) break;
      if (outcome == ParseOutcome::kError) {
        // The answer is out (or queued); the framing is lost, so close.
        close_after_write_ = true;
        break;
      }
    }
    if (!parser_) BeginRequest();
    ParseOutcome outcome = ParseHead(&ec);
    if (outcome == ParseOutcome::kComplete && request_.keep_body) outcome = ReadBody(&ec);
    if (outcome == ParseOutcome::kNeedMore) break;
    if (outcome == ParseOutcome::kError) {
      AnswerParseError(ec);
      break;
    }
    if (!CallHandler()) {
      Process();  // waits for the deferred answer (writing what is ready)
      return;
    }
    FinishAnswer();
  }
  if (!out_.empty()) {
    Write();
    return;
  }
  if (close_after_write_) {
    Linger();
    return;
  }
  if (worker_->stopping() && in_.size() == 0 && !(parser_ && parser_->got_some())) {
    Destroy();
    return;
  }
  if (in_.size() == 0 && in_.capacity() > kMaxRetainedBytes) in_.shrink_to_fit();
  Read();
}

void Connection::BeginRequest() {
  empty_line_skipped_ = false;
  StartRequest(LimitsOf(worker_->options()), &request_, &parser_);
  continue_sent_ = false;
}

ParseOutcome Connection::ParseHead(error_code* ec) {
  return ParseRequestHead(&*parser_, &empty_line_skipped_, &in_, ec);
}

ParseOutcome Connection::DiscardBody(error_code* ec) {
  const ParseOutcome outcome = ParseRequestBody(&*parser_, &in_, ec);
  if (outcome == ParseOutcome::kComplete) {
    discard_body_ = false;
    parser_.reset();
    // The idle timeout if nothing of the next request is here, else its header timeout.
    ArmReadDeadline();
  }
  return outcome;
}

ParseOutcome Connection::ReadBody(error_code* ec) {
  if (parser_->is_done()) return ParseOutcome::kComplete;
  if (request_.expect_continue && request_.version >= 11 && !continue_sent_) {
    // The client waits for this before it sends the body (RFC 9110 §10.1.1).
    continue_sent_ = true;
    out_.append("HTTP/1.1 100 Continue\r\n\r\n");
  }
  return ParseRequestBody(&*parser_, &in_, ec);
}

bool Connection::CallHandler() {
  keep_alive_ = parser_->keep_alive();  // FinishAnswer drops it while stopping
  Request request{request_.method, request_.target, request_.if_none_match, this};
  request.body = request_.body;
  request.content_type = request_.content_type;
  request.shadow = request_.shadow;
  request.request_id = RequestId();
  request.traceparent = request_.traceparent;
  if (worker_->options().on_complete) handler_start_ = std::chrono::steady_clock::now();
  response_.status = 200;
  response_.headers.clear();
  response_.body.clear();
  response_.omit_body = false;
  response_.tenant.clear();
  try {
    worker_->handler()(request, &response_);
  } catch (...) {
    // A handler must not throw: a bug, but one whose client still gets an
    // answer (FinishAnswer turns a status out of range into a 500).
    TEMPO_BUG(false, "a request handler threw");
    if (pending_ != nullptr) DetachPending();
    response_.status = 0;
    return true;
  }
  return pending_ == nullptr;
}

std::shared_ptr<PendingResponse> Connection::Defer(std::chrono::steady_clock::time_point deadline,
                                                   Response fallback) {
  TEMPO_BUG(pending_ == nullptr, "Defer called twice for one request");
  DetachPending();  // a second Defer replaces the first, which can no longer reach us
  pending_ = std::make_shared<Pending>(worker_->mailbox(), this);
  answered_ = false;
  fallback_ = std::move(fallback);
  ArmAnswerTimer(deadline);
  return pending_;
}

void Connection::ArmAnswerTimer(std::chrono::steady_clock::time_point at) {
  answer_timer_.expires_at(at);  // a previous wait completes with operation_aborted
  answer_timer_.async_wait([p = pending_](const error_code& ec) {
    if (!ec && p->connection() != nullptr) p->connection()->OnAnswerDeadline(p.get());
  });
}

void Connection::OnAnswer(Pending* p) {
  if (pending_.get() != p || answered_) return;
  response_ = p->TakeResponse();
  answered_ = true;
  if (state_ == State::kWaiting) Process();  // else the write in flight calls it
}

void Connection::OnAnswerDeadline(Pending* p) {
  if (pending_.get() != p || answered_) return;
  if (!p->TryClaim() && !answer_lost_) {
    // The sender claimed first and is posting its answer: wait for it, but
    // not for ever (a sender that fails between its claim and its post).
    answer_lost_ = true;
    ArmAnswerTimer(std::chrono::steady_clock::now() + kLostAnswerWait);
    return;
  }
  response_ = std::move(fallback_);
  answer_is_fallback_ = true;
  worker_->CountFallback(response_.status);
  answered_ = true;
  if (state_ == State::kWaiting) Process();
}

void Connection::DetachPending() {
  if (pending_ == nullptr) return;
  pending_->Detach();
  pending_.reset();
  answered_ = false;
  answer_lost_ = false;
  fallback_ = Response();
  error_code ignored;
  answer_timer_.cancel(ignored);
}

void Connection::FinishAnswer() {
  if (worker_->stopping()) keep_alive_ = false;  // say so: the connection closes next
  // What happens to the body: none, or a small one announced by
  // Content-Length, is read and dropped and the connection goes on; any
  // other is never read, so the connection must close after this answer.
  if (parser_->is_done()) {
    parser_.reset();
    ReleaseIfLarge(&request_.body);
  } else {
    const auto length = parser_->content_length();
    if (!parser_->chunked() && length && *length <= worker_->options().max_body_bytes &&
        !request_.expect_continue && keep_alive_) {
      discard_body_ = true;
    } else {
      keep_alive_ = false;
      parser_.reset();
    }
  }
  Persistence persistence = Persistence::kClose;
  if (keep_alive_) {
    persistence = request_.version >= 11 ? Persistence::kKeepAlive : Persistence::kKeepAliveHttp10;
  } else {
    close_after_write_ = true;
  }
  // Interim (1xx) answers are not supported: the handler gives final ones.
  if (response_.status < 200 || response_.status > 999) {
    // Closing afterwards keeps framing safe even if this answers a HEAD.
    close_after_write_ = true;
    discard_body_ = false;
    parser_.reset();
    worker_->CountOwn(500);
    const size_t body_bytes = AppendErrorResponse(
        500, "internal", "the request handler failed", worker_->date(), Persistence::kClose, &out_,
        worker_->options().extra_headers, {request_.request_id, request_.traceparent});
    Complete(500, body_bytes, /*handler_answer=*/false);
    answer_is_fallback_ = false;
    return;
  }

  // A HEAD response never has content, whatever the handler filled in, and
  // its Content-Length is the one GET would have had. For other methods an
  // omitted body must be announced as zero bytes or framing breaks.
  const bool is_head = request_.method == "HEAD";
  const bool send_body = !is_head && !response_.omit_body;
  const size_t content_length = (is_head || send_body) ? response_.body.size() : 0;
  AppendResponseHead(response_.status, response_.headers, content_length, worker_->date(),
                     persistence, &out_, {request_.request_id, request_.traceparent});
  const bool body_sent = send_body && !StatusForbidsBody(response_.status);
  Complete(response_.status, body_sent ? response_.body.size() : 0, !answer_is_fallback_);
  answer_is_fallback_ = false;
  if (body_sent) {
    if (response_.body.size() <= kInlineBodyMaxBytes) {
      out_.append(response_.body);
    } else {
      out_body_ = std::move(response_.body);  // no copy: the handler built it
    }
  }
  ReleaseIfLarge(&response_.body);
}

void Connection::AnswerParseError(const error_code& ec) {
  close_after_write_ = true;
  const std::string_view date = worker_->date();
  const RequestIds ids{RequestId(), request_.traceparent};
  const auto data = in_.cdata();
  const ParseErrorAnswer answer =
      ParseErrorAnswerFor(ec, request_, {static_cast<const char*>(data.data()), data.size()},
                          LimitsOf(worker_->options()));
  const int status = answer.status;
  worker_->CountOwn(status);
  const size_t body_bytes =
      AppendErrorResponse(status, answer.code, answer.message, date, Persistence::kClose, &out_,
                          worker_->options().extra_headers, ids);
  if (worker_->options().on_complete) {
    handler_start_ = std::chrono::steady_clock::now();  // no handler ran: zero duration
    Complete(status, body_bytes, /*handler_answer=*/false);
  }
  parser_.reset();
  ReleaseIfLarge(&request_.body);
}

std::string_view Connection::RequestId() {
  if (request_.request_id.empty()) worker_->MakeRequestId(&request_.request_id);
  return request_.request_id;
}

void Connection::Complete(int status, uint64_t body_bytes, bool handler_answer) {
  const auto& on_complete = worker_->options().on_complete;
  if (!on_complete) return;
  CompletedRequest done;
  done.request_id = RequestId();
  done.traceparent = request_.traceparent;
  done.client = client_;
  if (request_.request_line_parsed) {
    done.method = request_.method;
    done.target = request_.target;
  }
  done.status = status;
  done.body_bytes = body_bytes;
  done.duration = std::chrono::steady_clock::now() - handler_start_;
  done.started_at = worker_->WallTimeOf(handler_start_);
  done.response = handler_answer ? &response_ : nullptr;
  on_complete(done);
}

void Connection::CountIoError(const error_code& ec, bool between_requests) {
  if (ec == asio::error::operation_aborted) return;  // our own close
  if (between_requests && (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)) {
    return;
  }
  worker_->CountConnectionError();
}

void Connection::Write() {
  state_ = State::kWriting;
  deadline_ms_ = worker_->now_ms() + worker_->options().idle_timeout_ms;
  const std::array<asio::const_buffer, 2> buffers = {asio::buffer(out_), asio::buffer(out_body_)};
  auto on_write = [this](const error_code& ec, size_t /*bytes*/) { OnWrite(ec); };
  if (tls_ == nullptr) {
    asio::async_write(socket_, buffers, std::move(on_write));
  } else {
    asio::async_write(*tls_, buffers, std::move(on_write));
  }
}

void Connection::OnWrite(const error_code& ec) {
  if (ec) {
    CountIoError(ec, /*between_requests=*/false);
    Destroy();
    return;
  }
  out_.clear();
  ReleaseIfLarge(&out_);
  if (!out_body_.empty()) std::string().swap(out_body_);
  if (close_after_write_ && pending_ == nullptr) {
    Linger();
    return;
  }
  state_ = State::kReading;
  // The client has until the idle timeout to begin its next request.
  ArmReadDeadline();
  Process();
}

void Connection::Linger() {
  state_ = State::kLingering;
  deadline_ms_ = worker_->now_ms() + kLingerMs;
  linger_bytes_ = 0;
  in_.consume(in_.size());
  if (tls_ == nullptr) {
    LingerTcp();
    return;
  }
  // A close_notify, so the client knows the stream ended whole. Marking the
  // client's as received makes the shutdown end once ours is written
  // instead of waiting for the client's; the linger deadline bounds the
  // write. What the client still sends is then drained below TLS.
  SSL_set_shutdown(tls_->native_handle(),
                   SSL_get_shutdown(tls_->native_handle()) | SSL_RECEIVED_SHUTDOWN);
  tls_->async_shutdown([this](const error_code& ec) {
    if (ec && !socket_.is_open()) {
      Destroy();  // aborted: swept or stopped
      return;
    }
    LingerTcp();
  });
}

void Connection::LingerTcp() {
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  // A stopping server does not wait for the client to close: with nothing
  // unread, closing now cannot reset the connection.
  if (worker_->stopping() && socket_.available(ignored) == 0) {
    Destroy();
    return;
  }
  socket_.async_read_some(in_.prepare(kReadChunkBytes),
                          [this](const error_code& ec, size_t bytes) { OnLingerRead(ec, bytes); });
}

void Connection::OnLingerRead(const error_code& ec, size_t bytes) {
  linger_bytes_ += bytes;
  if (ec || linger_bytes_ > kMaxLingerBytes) {
    Destroy();
    return;
  }
  // The bytes are discarded: prepare() hands out the same space again.
  socket_.async_read_some(in_.prepare(kReadChunkBytes),
                          [this](const error_code& ec, size_t bytes) { OnLingerRead(ec, bytes); });
}

void Connection::Destroy() {
  DetachPending();
  Abort();
  worker_->Remove(this);  // deletes this
}

}  // namespace tempo::http
