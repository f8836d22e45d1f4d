// Connection: read, parse, answer, write; keep-alive and pipelining.
#include "http/connection.h"

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <string_view>
#include <utility>

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
// The product's limit on the request-target. Longer targets that still fit
// the header limit reach the handler, which answers them itself; this one is
// for targets too long to parse at all.
constexpr size_t kMaxUriBytes = 8192;
// How long, and how many bytes, a closing connection drains.
constexpr int64_t kLingerMs = 1000;
constexpr size_t kMaxLingerBytes = 256 * 1024;
// The longest "HTTP/1.1" plus the spaces around it, for the target estimate.
constexpr size_t kRequestLineOverheadBytes = 11;

void ReleaseIfLarge(std::string* s) {
  if (s->capacity() > kMaxRetainedBytes) std::string().swap(*s);
}

}  // namespace

Connection::Connection(Worker* worker, asio::ip::tcp::socket socket)
    : worker_(worker), socket_(std::move(socket)) {}

void Connection::Start() {
  deadline_ms_ = worker_->now_ms() + worker_->options().idle_timeout_ms;
  Read();
}

void Connection::Abort() {
  error_code ignored;
  socket_.close(ignored);
}

bool Connection::IsIdle() const {
  return state_ == State::kReading && in_.size() == 0 && !(parser_ && parser_->got_some());
}

void Connection::Read() {
  state_ = State::kReading;
  socket_.async_read_some(in_.prepare(kReadChunkBytes),
                          [this](const error_code& ec, size_t bytes) { OnRead(ec, bytes); });
}

void Connection::OnRead(const error_code& ec, size_t bytes) {
  if (ec) {
    // EOF between requests is the normal end of keep-alive; mid-request
    // there is nobody left to answer.
    Destroy();
    return;
  }
  in_.commit(bytes);
  Process();
}

void Connection::Process() {
  for (;;) {
    if (!parser_) {
      request_.Clear();
      parser_.emplace(&request_);
      const ServerOptions& options = worker_->options();
      parser_->header_limit(
          static_cast<uint32_t>(std::min<size_t>(options.max_header_bytes, UINT32_MAX)));
      parser_->body_limit(options.max_body_bytes);
      parser_->eager(true);
    }
    error_code ec;
    const ParseOutcome outcome = Parse(&ec);
    if (outcome == ParseOutcome::kNeedMore) break;
    if (outcome == ParseOutcome::kError) {
      AnswerParseError(ec);
      break;
    }
    AnswerRequest();
    parser_.reset();
    if (close_after_write_ || !out_body_.empty() || out_.size() >= kMaxBatchBytes) break;
  }
  if (!out_.empty()) {
    Write();
    return;
  }
  if (worker_->stopping() && in_.size() == 0 && !(parser_ && parser_->got_some())) {
    Destroy();
    return;
  }
  if (in_.size() == 0 && in_.capacity() > kMaxRetainedBytes) in_.shrink_to_fit();
  Read();
}

Connection::ParseOutcome Connection::Parse(error_code* ec) {
  for (;;) {
    const size_t used = parser_->put(in_.data(), *ec);
    in_.consume(used);
    if (*ec == beast::http::error::need_more) {
      ec->clear();
      return ParseOutcome::kNeedMore;
    }
    if (*ec) return ParseOutcome::kError;
    if (parser_->is_done()) return ParseOutcome::kComplete;
    if (used == 0 || in_.size() == 0) return ParseOutcome::kNeedMore;
  }
}

void Connection::AnswerRequest() {
  const Request request{request_.method, request_.target, request_.if_none_match};
  response_.status = 200;
  response_.headers.clear();
  response_.body.clear();
  response_.omit_body = false;
  bool handled = true;
  try {
    worker_->handler()(request, &response_);
  } catch (...) {
    // A handler must not throw; if it does, the client still gets an answer.
    handled = false;
  }

  const bool keep_alive = parser_->keep_alive() && !worker_->stopping();
  Persistence persistence = Persistence::kClose;
  if (keep_alive) {
    persistence = request_.version >= 11 ? Persistence::kKeepAlive : Persistence::kKeepAliveHttp10;
  } else {
    close_after_write_ = true;
  }
  // Interim (1xx) answers are not supported: the handler gives final ones.
  if (!handled || response_.status < 200 || response_.status > 999) {
    // Closing afterwards keeps framing safe even if this answers a HEAD.
    close_after_write_ = true;
    AppendErrorResponse(500, "internal", "the request handler failed", worker_->date(),
                        Persistence::kClose, &out_);
    return;
  }

  // A HEAD response never has content, whatever the handler filled in, and
  // its Content-Length is the one GET would have had. For other methods an
  // omitted body must be announced as zero bytes or framing breaks.
  const bool is_head = request_.method == "HEAD";
  const bool send_body = !is_head && !response_.omit_body;
  const size_t content_length = (is_head || send_body) ? response_.body.size() : 0;
  AppendResponseHead(response_.status, response_.headers, content_length, worker_->date(),
                     persistence, &out_);
  if (send_body && !StatusForbidsBody(response_.status)) {
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
  if (ec == beast::http::error::header_limit) {
    // Estimate the request-target's length: parsed if the request line was
    // complete, else at least what follows the method in the unparsed line.
    size_t target_bytes = request_.target.size();
    if (!request_.request_line_parsed) {
      const auto data = in_.cdata();
      const std::string_view line(static_cast<const char*>(data.data()),
                                  std::min(data.size(), worker_->options().max_header_bytes));
      const size_t space = line.find(' ');
      const size_t after_method = space == std::string_view::npos ? 0 : space + 1;
      target_bytes = line.size() > after_method + kRequestLineOverheadBytes
                         ? line.size() - after_method - kRequestLineOverheadBytes
                         : 0;
    }
    if (target_bytes > kMaxUriBytes) {
      AppendErrorResponse(400, "uri_too_long", "the request-target is over 8192 bytes", date,
                          Persistence::kClose, &out_);
    } else {
      AppendErrorResponse(431, "header_too_large", "the request header is over the size limit",
                          date, Persistence::kClose, &out_);
    }
  } else if (ec == beast::http::error::body_limit) {
    AppendErrorResponse(413, "body_too_large", "the request body is over the size limit", date,
                        Persistence::kClose, &out_);
  } else {
    AppendErrorResponse(400, "bad_request", "malformed HTTP request", date, Persistence::kClose,
                        &out_);
  }
  parser_.reset();
}

void Connection::Write() {
  state_ = State::kWriting;
  deadline_ms_ = worker_->now_ms() + worker_->options().idle_timeout_ms;
  const std::array<asio::const_buffer, 2> buffers = {asio::buffer(out_), asio::buffer(out_body_)};
  asio::async_write(socket_, buffers,
                    [this](const error_code& ec, size_t /*bytes*/) { OnWrite(ec); });
}

void Connection::OnWrite(const error_code& ec) {
  if (ec) {
    Destroy();
    return;
  }
  out_.clear();
  ReleaseIfLarge(&out_);
  if (!out_body_.empty()) std::string().swap(out_body_);
  if (close_after_write_) {
    Linger();
    return;
  }
  // The client has until the idle timeout to send its next request in full.
  deadline_ms_ = worker_->now_ms() + worker_->options().idle_timeout_ms;
  state_ = State::kReading;
  Process();
}

void Connection::Linger() {
  state_ = State::kLingering;
  deadline_ms_ = worker_->now_ms() + kLingerMs;
  linger_bytes_ = 0;
  in_.consume(in_.size());
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
  Abort();
  worker_->Remove(this);  // deletes this
}

}  // namespace tempo::http
