// libFuzzer target for the server's request parsing (request_reader.h):
// arbitrary bytes as what a client sends on one connection, read with the
// functions http::Connection uses, request after request (pipelining), until
// the bytes run out or a request fails, as the connection would.
//
// The first byte picks the listener: bit 0 keeps bodies (a listener with POST
// routes: max_request_body_bytes 4096), bit 1 lowers max_header_bytes to 512
// so that the head limit is reached (the default, 64 KiB, is beyond what the
// fuzzer writes), bits 2-5 the size of the pieces the rest arrives in (1 to
// 16 bytes; 0: all at once).
//
// Beyond "no crash", it checks that the requests read do not depend on how
// the bytes are split into reads (as TCP may split them), nor does the
// outcome, except that an error may be found later (see below), that
// what a request keeps is within its bounds (X-Request-Id, traceparent, body
// size), and that a failure gets one of the server's error answers.
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_reader.h"
#include "http/server.h"
#include "testing/fuzz_check.h"

namespace {

using tempo::http::ParsedRequest;
using tempo::http::ParseOutcome;
using tempo::http::RequestLimits;
using tempo::http::RequestParser;
using tempo::testing::FuzzCheck;

constexpr size_t kBodyKeepingLimitBytes = 4096;
constexpr size_t kSmallHeaderLimitBytes = 512;
// Requests read from one input at most: each takes at least a few bytes, so
// this is never reached with libFuzzer's input sizes; it bounds the loop.
constexpr size_t kMaxRequests = 4096;

// What reading a connection's bytes gave: each request (method, target,
// fields kept, body), then how it ended.
struct Transcript {
  std::vector<std::string> requests;
  std::string end;  // "need more" or "<status> <code>: <message>"

  bool operator==(const Transcript&) const = default;
};

std::string Describe(const ParsedRequest& r) {
  std::string out = r.method + " " + r.target + " HTTP/" + std::to_string(r.version);
  for (const std::string* field :
       {&r.if_none_match, &r.content_type, &r.request_id, &r.traceparent, &r.body}) {
    out.append("|").append(*field);
  }
  out.append(r.shadow ? "|shadow" : "|").append(r.expect_continue ? "|continue" : "|");
  return out;
}

void CheckBounds(const ParsedRequest& r, const RequestLimits& limits) {
  FuzzCheck(!r.method.empty() && r.request_line_parsed);
  FuzzCheck(r.version == 10 || r.version == 11);
  FuzzCheck(r.target.size() <= limits.max_header_bytes);
  FuzzCheck(r.request_id.empty() || tempo::http::IsRequestId(r.request_id));
  FuzzCheck(r.traceparent.empty() || tempo::http::IsTraceparent(r.traceparent));
  if (r.keep_body) {
    FuzzCheck(r.body.size() <= limits.max_request_body_bytes);
  } else {
    FuzzCheck(r.body.empty());
  }
}

// Reads `bytes`, arriving `piece` bytes at a time (0: all at once), as a
// connection does.
Transcript Read(std::string_view bytes, size_t piece, const RequestLimits& limits) {
  Transcript t;
  boost::beast::flat_buffer in;
  size_t arrived = 0;
  // Appends the next piece; false when every byte has arrived.
  auto arrive = [&] {
    if (arrived == bytes.size()) return false;
    const size_t n = piece == 0 ? bytes.size() : std::min(piece, bytes.size() - arrived);
    const auto space = in.prepare(n);
    boost::asio::buffer_copy(space, boost::asio::buffer(bytes.data() + arrived, n));
    in.commit(n);
    arrived += n;
    return true;
  };
  arrive();
  ParsedRequest request;
  std::optional<RequestParser> parser;
  while (t.requests.size() < kMaxRequests) {
    bool empty_line_skipped = false;
    tempo::http::StartRequest(limits, &request, &parser);
    boost::system::error_code ec;
    ParseOutcome outcome;
    // The head, then (whether the listener keeps it or the connection reads
    // and drops it) the body.
    while ((outcome = tempo::http::ParseRequestHead(&*parser, &empty_line_skipped, &in, &ec)) ==
               ParseOutcome::kNeedMore &&
           arrive()) {
    }
    if (outcome == ParseOutcome::kComplete) {
      while ((outcome = tempo::http::ParseRequestBody(&*parser, &in, &ec)) ==
                 ParseOutcome::kNeedMore &&
             arrive()) {
      }
    }
    if (outcome == ParseOutcome::kNeedMore) {
      t.end = "need more";
      return t;
    }
    if (outcome == ParseOutcome::kError) {
      const auto data = in.cdata();
      const auto answer = tempo::http::ParseErrorAnswerFor(
          ec, request, {static_cast<const char*>(data.data()), data.size()}, limits);
      FuzzCheck(answer.status == 400 || answer.status == 413 || answer.status == 431);
      FuzzCheck(answer.status != 413 || request.keep_body);
      FuzzCheck(!answer.code.empty() && !answer.message.empty());
      t.end =
          std::to_string(answer.status) + " " + std::string(answer.code) + ": " + answer.message;
      return t;
    }
    CheckBounds(request, limits);
    t.requests.push_back(Describe(request));
  }
  t.end = "request limit";
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  tempo::http::ServerOptions options;
  if (selector & 1) options.max_request_body_bytes = kBodyKeepingLimitBytes;
  if (selector & 2) options.max_header_bytes = kSmallHeaderLimitBytes;
  const RequestLimits limits = tempo::http::LimitsOf(options);
  const size_t piece = (selector >> 2) & 0x0f;

  const Transcript whole = Read(bytes, 0, limits);
  if (piece != 0) {
    const Transcript split = Read(bytes, piece, limits);
    FuzzCheck(split.requests == whole.requests);
    // Beast finds a malformed line at once in a whole head, but once it has
    // had to wait for more of a head it looks again only when the head's end
    // (or its limit) arrives: the same error may then come later, or as the
    // head limit's. Either way no request is read differently.
    const bool whole_failed = whole.end != "need more";
    FuzzCheck(split.end == whole.end || (whole_failed && split.end.size() >= 3 &&
                                         (split.end == "need more" || split.end[0] == '4')));
  }
  return 0;
}
