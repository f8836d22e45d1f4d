// Tests of the HTTP server over real sockets on 127.0.0.1.
#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/bug.h"
#include "http/request_parser.h"
#include "http/test_client.h"

namespace tempo::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A client socket with a receive timeout, so a broken server fails the test
// instead of hanging it.
using test::Client;

std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

// Echoes the request: body "<method> <target>", X-If-None-Match when sent.
// "/304" answers Not Modified; "/throw" throws.
void EchoHandler(const Request& request, Response* response) {
  if (request.target == "/throw") throw std::runtime_error("handler bug");
  response->headers.emplace_back("Content-Type", "text/plain");
  if (!request.if_none_match.empty()) {
    response->headers.emplace_back("X-If-None-Match", std::string(request.if_none_match));
  }
  if (request.target == "/304") {
    response->status = 304;
    response->headers.emplace_back("ETag", "\"v1\"");
    response->omit_body = true;
    return;
  }
  response->body = std::string(request.method) + " " + std::string(request.target);
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}, Handler handler = EchoHandler) {
    if (options.threads == 0) options.threads = 1;
    auto started = Server::Start(options, std::move(handler));
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value();
    ASSERT_NE(server_->port(), 0);
  }

  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, GetIsAnswered) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(Get("/api/v1/x?a=1&b=2")));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "GET /api/v1/x?a=1&b=2");
  EXPECT_EQ(reply->Header("server"), "tempo");
  EXPECT_EQ(reply->Header("content-type"), "text/plain");
  EXPECT_EQ(reply->Header("content-length"), std::to_string(reply->body.size()));
  EXPECT_EQ(reply->Header("date").size(), 29u);
  EXPECT_FALSE(reply->Has("connection"));
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  Client client(server_->port());
  for (int i = 0; i < 5; ++i) {
    const std::string target = "/req/" + std::to_string(i);
    ASSERT_TRUE(client.Send(Get(target)));
    auto reply = client.Read();
    ASSERT_TRUE(reply) << i;
    EXPECT_EQ(reply->body, "GET " + target);
  }
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  Client client(server_->port());
  std::string batch;
  for (int i = 0; i < 20; ++i) batch += Get("/p/" + std::to_string(i));
  // Split mid-request too, so a request spans two reads.
  ASSERT_TRUE(client.Send(batch.substr(0, 100)));
  std::this_thread::sleep_for(milliseconds(20));
  ASSERT_TRUE(client.Send(batch.substr(100)));
  for (int i = 0; i < 20; ++i) {
    auto reply = client.Read();
    ASSERT_TRUE(reply) << i;
    EXPECT_EQ(reply->body, "GET /p/" + std::to_string(i));
  }
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/a", "Connection: close\r\n") + Get("/never")));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "GET /a");
  EXPECT_EQ(reply->Header("connection"), "close");
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(ServerTest, Http10ClosesUnlessKeepAliveAsked) {
  StartServer();
  {
    Client client(server_->port());
    ASSERT_TRUE(client.Send("GET /old HTTP/1.0\r\n\r\n"));
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, "GET /old");
    EXPECT_EQ(reply->Header("connection"), "close");
    EXPECT_TRUE(client.ClosedByServer());
  }
  {
    Client client(server_->port());
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(client.Send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
      auto reply = client.Read();
      ASSERT_TRUE(reply);
      EXPECT_EQ(reply->Header("connection"), "keep-alive");
    }
  }
}

TEST_F(ServerTest, HeadReachesHandlerAndGetsHeadersOnly) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n" + Get("/next")));
  auto head = client.Read(/*no_body=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  // The length GET would have had ("HEAD /h" is what the handler wrote).
  EXPECT_EQ(head->Header("content-length"), "7");
  // No body bytes: the next response follows the head directly.
  auto next = client.Read();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "GET /next");
}

TEST_F(ServerTest, IfNoneMatchIsPassedAndRepeatedFieldsJoined) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/e", "If-None-Match: \"a\"\r\n")));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->Header("x-if-none-match"), "\"a\"");
  ASSERT_TRUE(client.Send(Get("/e", "If-None-Match: \"a\"\r\nIf-None-Match: W/\"b\"\r\n")));
  reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->Header("x-if-none-match"), "\"a\", W/\"b\"");
  ASSERT_TRUE(client.Send(Get("/e")));
  reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_FALSE(reply->Has("x-if-none-match"));
}

TEST_F(ServerTest, NotModifiedHasNoBodyAndConnectionStaysUsable) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/304", "If-None-Match: \"v1\"\r\n") + Get("/after")));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 304);
  EXPECT_EQ(reply->Header("etag"), "\"v1\"");
  EXPECT_FALSE(reply->Has("content-length"));
  auto after = client.Read();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "GET /after");
}

TEST_F(ServerTest, OmittedBodyOnGetIsAnnouncedAsEmpty) {
  StartServer({}, [](const Request&, Response* response) {
    response->body = "not sent";
    response->omit_body = true;
  });
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/a") + Get("/b")));
  for (int i = 0; i < 2; ++i) {
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->Header("content-length"), "0");
    EXPECT_EQ(reply->body, "");
  }
}

void ExpectJsonError(const Client::Reply& reply, int status, const std::string& code) {
  EXPECT_EQ(reply.status, status);
  EXPECT_EQ(reply.Header("content-type"), "application/json");
  EXPECT_EQ(reply.Header("cache-control"), "no-store");
  EXPECT_EQ(reply.Header("connection"), "close");
  EXPECT_EQ(reply.body.rfind("{\"error\":{\"code\":\"" + code + "\",\"message\":\"", 0), 0u)
      << reply.body;
}

TEST_F(ServerTest, OversizedHeaderGets431) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/big", "X-Big: " + std::string(70000, 'h') + "\r\n")));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  ExpectJsonError(*reply, 431, "header_too_large");
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(ServerTest, HeaderLimitIsTheOption) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  StartServer(options);
  Client small(server_->port());
  ASSERT_TRUE(small.Send(Get("/ok", "X-Pad: " + std::string(800, 'p') + "\r\n")));
  auto reply = small.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  Client big(server_->port());
  ASSERT_TRUE(big.Send(Get("/no", "X-Pad: " + std::string(1100, 'p') + "\r\n")));
  reply = big.Read();
  ASSERT_TRUE(reply);
  ExpectJsonError(*reply, 431, "header_too_large");
}

// The limit is the whole head's: Beast's own bounds the request line and the
// fields each on its own, so a head sent in one piece could be nearly twice
// the limit (found by tempo_request_fuzz).
TEST_F(ServerTest, HeaderLimitCountsTheRequestLineAndTheFieldsTogether) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  StartServer(options);
  Client client(server_->port());
  ASSERT_TRUE(
      client.Send(Get("/" + std::string(700, 't'), "X-Pad: " + std::string(700, 'p') + "\r\n")));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  ExpectJsonError(*reply, 431, "header_too_large");
}

TEST_F(ServerTest, LongTargetWithinHeaderLimitReachesHandler) {
  StartServer();
  Client client(server_->port());
  const std::string target = "/t?q=" + std::string(10000 - 5, 'a');
  ASSERT_EQ(target.size(), 10000u);
  ASSERT_TRUE(client.Send(Get(target)));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "GET " + target);
}

TEST_F(ServerTest, TargetTooLongToParseGetsUriTooLong) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/t?q=" + std::string(70000, 'a'))));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  ExpectJsonError(*reply, 400, "uri_too_long");
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(ServerTest, ShortTargetWithHugeHeaderIsNotUriTooLong) {
  ServerOptions options;
  options.max_header_bytes = 4096;
  StartServer(options);
  // The request line is over the header limit but the target is under 8192.
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/t?q=" + std::string(6000, 'a'))));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  ExpectJsonError(*reply, 431, "header_too_large");
}

TEST_F(ServerTest, MalformedRequestGets400AndClose) {
  StartServer();
  for (const char* garbage :
       {"GARBAGE\r\n\r\n", "GET /x HTTP/9.9\r\n\r\n", "GET /x HTTP/1.1\r\nBad Header\r\n\r\n"}) {
    Client client(server_->port());
    ASSERT_TRUE(client.Send(garbage));
    auto reply = client.Read();
    ASSERT_TRUE(reply) << garbage;
    ExpectJsonError(*reply, 400, "bad_request");
    EXPECT_TRUE(client.ClosedByServer()) << garbage;
  }
}

TEST_F(ServerTest, SmallBodiesAreDiscardedOthersCloseTheConnection) {
  StartServer();
  {
    // A small body announced by Content-Length is read and dropped; the
    // connection goes on.
    Client client(server_->port());
    ASSERT_TRUE(client.Send(
        "POST /with-body HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello" + Get("/next")));
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, "POST /with-body");
    reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, "GET /next");
  }
  {
    // The method is the handler's to judge before any body is read: a large
    // body gets the handler's answer (a 405 in the product), not 413, and
    // the connection closes without reading it.
    Client client(server_->port());
    ASSERT_TRUE(client.Send("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" +
                            std::string(1000, 'b')));
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, "POST /big");
    EXPECT_EQ(reply->Header("connection"), "close");
    EXPECT_TRUE(client.ClosedByServer());
  }
  {
    Client client(server_->port());
    std::string chunked = "POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 20; ++i) chunked += "1000\r\n" + std::string(4096, 'c') + "\r\n";
    chunked += "0\r\n\r\n";
    ASSERT_TRUE(client.Send(chunked));
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, "POST /chunked");
    EXPECT_EQ(reply->Header("connection"), "close");
  }
}

TEST_F(ServerTest, ExpectContinueGetsTheFinalAnswerAtOnce) {
  StartServer();
  Client client(server_->port());
  // The client waits for 100 Continue before sending its body; the answer
  // needs no body, so it comes at once and the connection closes.
  ASSERT_TRUE(
      client.Send("PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n"
                  "Expect: 100-continue\r\n\r\n"));
  const auto start = steady_clock::now();
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_LT(steady_clock::now() - start, milliseconds(2000));
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "PUT /x");
  EXPECT_EQ(reply->Header("connection"), "close");
}

// Answers with what reached the handler: "<method> <target> [<content-type>]
// shadow=<0|1> <body>".
void BodyEchoHandler(const Request& request, Response* response) {
  response->body = std::string(request.method) + " " + std::string(request.target) + " [" +
                   std::string(request.content_type) + "] shadow=" + (request.shadow ? "1" : "0") +
                   " " + std::string(request.body);
}

ServerOptions KeepingBodies(size_t limit) {
  ServerOptions options;
  options.max_request_body_bytes = limit;
  return options;
}

TEST_F(ServerTest, BodiesReachTheHandlerWhenTheListenerKeepsThem) {
  StartServer(KeepingBodies(1 << 20), BodyEchoHandler);
  Client client(server_->port());
  // By Content-Length, then chunked, then a GET: all on one connection.
  std::string chunked =
      "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n";
  ASSERT_TRUE(client.Send(
      "POST /internal/shadow HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-ndjson\r\n"
      "X-Tempo-Shadow: 1\r\nContent-Length: 11\r\n\r\n{\"a\":1}\n{}\n" +
      chunked + Get("/after")));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "POST /internal/shadow [application/x-ndjson] shadow=1 {\"a\":1}\n{}\n");
  EXPECT_NE(reply->Header("connection"), "close");
  reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "POST /c [] shadow=0 abcdefg");
  reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "GET /after [] shadow=0 ");
}

TEST_F(ServerTest, ABodyArrivingInPiecesIsReadWhole) {
  StartServer(KeepingBodies(1 << 20), BodyEchoHandler);
  Client client(server_->port());
  const std::string body(100'000, 'x');
  ASSERT_TRUE(client.Send("POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n"));
  for (size_t i = 0; i < body.size(); i += 7000) ASSERT_TRUE(client.Send(body.substr(i, 7000)));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "POST /p [] shadow=0 " + body);
}

TEST_F(ServerTest, ABodyOverTheLimitIs413AndNeverRead) {
  int calls = 0;
  StartServer(KeepingBodies(1000), [&calls](const Request& request, Response* response) {
    ++calls;
    BodyEchoHandler(request, response);
  });
  {
    // Announced too large: refused before a byte of it is read.
    Client client(server_->port());
    ASSERT_TRUE(client.Send("POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n"));
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 413);
    EXPECT_EQ(reply->Header("content-type"), "application/json");
    EXPECT_NE(reply->body.find("\"payload_too_large\""), std::string::npos) << reply->body;
    EXPECT_EQ(reply->Header("connection"), "close");
  }
  {
    // Chunked: refused when the chunks pass the limit.
    Client client(server_->port());
    std::string chunked = "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) chunked += "190\r\n" + std::string(400, 'c') + "\r\n";
    chunked += "0\r\n\r\n";
    ASSERT_TRUE(client.Send(chunked));
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 413);
  }
  {
    // Exactly the limit is fine.
    Client client(server_->port());
    ASSERT_TRUE(client.Send("POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" +
                            std::string(1000, 'y')));
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(server_->Stats().own_responses.at(413), 2u);
}

TEST_F(ServerTest, ExpectContinueGets100ThenTheAnswerWhenBodiesAreKept) {
  StartServer(KeepingBodies(1 << 20), BodyEchoHandler);
  Client client(server_->port());
  ASSERT_TRUE(client.Send(
      "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = client.Read(/*no_body=*/true);
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.Send("hello"));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "POST /x [] shadow=0 hello");
}

TEST_F(ServerTest, ExtraHeadersGoOnTheServersOwnAnswers) {
  ServerOptions options;
  options.extra_headers = {{"X-Tempo-Tenant-Group", "TG2"}};
  StartServer(options);
  Client client(server_->port());
  ASSERT_TRUE(client.Send("GARBAGE\r\n\r\n"));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(reply->Header("x-tempo-tenant-group"), "TG2");
  EXPECT_EQ(reply->Header("content-type"), "application/json");
}

TEST_F(ServerTest, TransferEncodingNotEndingInChunkedIs400) {
  std::atomic<int> calls{0};
  StartServer({}, [&calls](const Request& request, Response* response) {
    ++calls;
    response->body = std::string(request.target);
  });
  for (const char* coding : {"xchunked", "gzip", "chunked, identity", "identity"}) {
    Client client(server_->port());
    // The "body" hides a second request that must never be executed.
    const std::string hidden = Get("/smuggled");
    ASSERT_TRUE(
        client.Send("POST /front HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: " + std::string(coding) +
                    "\r\nContent-Length: " + std::to_string(hidden.size()) + "\r\n\r\n" + hidden));
    auto reply = client.Read();
    ASSERT_TRUE(reply) << coding;
    ExpectJsonError(*reply, 400, "bad_request");
    EXPECT_TRUE(client.ClosedByServer()) << coding;
  }
  {
    // Without a Content-Length too.
    Client client(server_->port());
    ASSERT_TRUE(client.Send("POST /front HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n" +
                            Get("/smuggled")));
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    ExpectJsonError(*reply, 400, "bad_request");
  }
  {
    // chunked and Content-Length together is refused as well.
    Client client(server_->port());
    ASSERT_TRUE(
        client.Send("POST /front HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                    "Content-Length: 5\r\n\r\n0\r\n\r\n"));
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    ExpectJsonError(*reply, 400, "bad_request");
  }
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(server_->Stats().own_responses[400], 6u);
}

TEST_F(ServerTest, HostMustBeThereOnceInHttp11) {
  StartServer();
  for (const char* request :
       {"GET /a HTTP/1.1\r\n\r\n", "GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"}) {
    Client client(server_->port());
    ASSERT_TRUE(client.Send(request));
    auto reply = client.Read();
    ASSERT_TRUE(reply) << request;
    ExpectJsonError(*reply, 400, "bad_request");
  }
  Client http10(server_->port());
  ASSERT_TRUE(http10.Send("GET /a HTTP/1.0\r\n\r\n"));
  auto reply = http10.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

TEST_F(ServerTest, AbsoluteFormAndALeadingEmptyLineAreAccepted) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(
      client.Send("GET http://example.com:8080/api/x?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"
                  "\r\nGET HTTP://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n"
                  "GET https://h?a=b HTTP/1.1\r\nHost: h\r\n\r\n"));
  for (const char* expected : {"GET /api/x?q=1", "GET /", "GET /?a=b"}) {
    auto reply = client.Read();
    ASSERT_TRUE(reply) << expected;
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, expected);
  }
}

// Answers "/later/<ms>" after <ms> from another thread; others at once.
class DeferringHandler {
 public:
  ~DeferringHandler() {
    for (std::thread& t : threads_) t.join();
  }
  void Handle(const Request& request, Response* response) {
    const std::string target(request.target);
    if (!target.starts_with("/later/")) {
      response->body = "now " + target;
      return;
    }
    const int ms = std::stoi(target.substr(7));
    Response fallback;
    fallback.status = 503;
    fallback.body = "fallback " + target;
    auto pending =
        request.responder->Defer(steady_clock::now() + milliseconds(300), std::move(fallback));
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back([this, pending, ms, target] {
      std::this_thread::sleep_for(milliseconds(ms));
      Response answer;
      answer.body = "later " + target;
      const bool sent = pending->Send(std::move(answer));
      std::lock_guard<std::mutex> lock(mu_);
      (sent ? sent_ : dropped_)++;
    });
  }
  int sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }
  int dropped() {
    std::lock_guard<std::mutex> lock(mu_);
    return dropped_;
  }

 private:
  std::mutex mu_;
  std::vector<std::thread> threads_;
  int sent_ = 0, dropped_ = 0;
};

TEST_F(ServerTest, DeferredAnswersKeepTheThreadFreeAndTheOrder) {
  DeferringHandler handler;
  StartServer({}, [&handler](const Request& q, Response* r) { handler.Handle(q, r); });
  Client waiting(server_->port());
  // Pipelined: an immediate answer, a deferred one, another immediate one.
  ASSERT_TRUE(waiting.Send(Get("/a") + Get("/later/150") + Get("/b")));
  auto reply = waiting.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "now /a");
  // Meanwhile the one serving thread answers another connection at once.
  Client other(server_->port());
  ASSERT_TRUE(other.Send(Get("/c")));
  const auto start = steady_clock::now();
  auto other_reply = other.Read();
  ASSERT_TRUE(other_reply);
  EXPECT_EQ(other_reply->body, "now /c");
  EXPECT_LT(steady_clock::now() - start, milliseconds(100));
  reply = waiting.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "later /later/150");
  reply = waiting.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "now /b");
  EXPECT_EQ(handler.sent(), 1);
}

TEST_F(ServerTest, ADeferralPastItsDeadlineGetsItsFallback) {
  DeferringHandler handler;
  StartServer({}, [&handler](const Request& q, Response* r) { handler.Handle(q, r); });
  Client client(server_->port());
  const auto start = steady_clock::now();
  ASSERT_TRUE(client.Send(Get("/later/2000") + Get("/after")));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  const auto waited = steady_clock::now() - start;
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->body, "fallback /later/2000");
  EXPECT_GE(waited, milliseconds(290));
  EXPECT_LT(waited, milliseconds(1500));
  reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "now /after");
  const ServerStats stats = server_->Stats();
  EXPECT_EQ(stats.fallbacks, 1u);
  EXPECT_EQ(stats.own_responses.at(503), 1u);
  // The late answer is refused: the fallback went out.
  for (int i = 0; i < 500 && handler.dropped() == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(handler.dropped(), 1);
  EXPECT_EQ(handler.sent(), 0);
}

TEST_F(ServerTest, AClaimedDeferralIsAnsweredByItsSenderEvenPastTheDeadline) {
  std::shared_ptr<PendingResponse> pending;
  std::mutex mu;
  StartServer({}, [&](const Request& request, Response*) {
    auto p = request.responder->Defer(steady_clock::now() + milliseconds(100),
                                      Response{503, {}, "fallback", false, {}});
    std::lock_guard<std::mutex> lock(mu);
    pending = p;
  });
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/claimed")));
  std::shared_ptr<PendingResponse> p;
  for (int i = 0; i < 500 && p == nullptr; ++i) {
    std::this_thread::sleep_for(milliseconds(2));
    std::lock_guard<std::mutex> lock(mu);
    p = pending;
  }
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(p->Claim());
  std::this_thread::sleep_for(milliseconds(200));  // past the deadline, within its grace
  EXPECT_TRUE(p->Send(Response{200, {}, "claimed answer", false, {}}));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "claimed answer");
  EXPECT_EQ(server_->Stats().fallbacks, 0u);

  // Unclaimed past the deadline: the fallback goes out and Claim says so.
  {
    std::lock_guard<std::mutex> lock(mu);
    pending = nullptr;
  }
  ASSERT_TRUE(client.Send(Get("/late")));
  reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "fallback");
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_NE(pending, nullptr);
  EXPECT_FALSE(pending->Claim());
  EXPECT_FALSE(pending->Send(Response{200, {}, "too late", false, {}}));
}

TEST_F(ServerTest, StopIsNotHeldUpByADeferralOrItsHandle) {
  std::shared_ptr<PendingResponse> kept;
  std::mutex mu;
  StartServer({}, [&](const Request& request, Response*) {
    auto pending = request.responder->Defer(steady_clock::now() + std::chrono::seconds(30),
                                            Response{503, {}, "fallback", false, {}});
    std::lock_guard<std::mutex> lock(mu);
    kept = pending;  // never answered while the server runs
  });
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/forever")));
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (kept != nullptr) break;
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
  const auto start = steady_clock::now();
  server_->Stop();  // the 2 s drain, then the waiting connection is closed
  EXPECT_LT(steady_clock::now() - start, milliseconds(5000));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_NE(kept, nullptr);
  EXPECT_FALSE(kept->Send(Response{}));  // too late: nowhere to go
}

TEST_F(ServerTest, EmptyLineBeforeAKeepAliveRequestInALaterPacket) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/a")));
  ASSERT_TRUE(client.Read());
  ASSERT_TRUE(client.Send("\r"));
  std::this_thread::sleep_for(milliseconds(20));
  ASSERT_TRUE(client.Send("\n"));
  std::this_thread::sleep_for(milliseconds(20));
  ASSERT_TRUE(client.Send(Get("/b")));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "GET /b");
}

TEST_F(ServerTest, ALateSmallBodyLeavesTheIdleTimeoutInForce) {
  ServerOptions options;
  options.header_timeout_ms = 200;
  options.idle_timeout_ms = 60'000;
  StartServer(options);
  Client client(server_->port());
  ASSERT_TRUE(client.Send("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n"));
  ASSERT_TRUE(client.Read());  // answered before the body came
  ASSERT_TRUE(client.Send("hello"));
  std::this_thread::sleep_for(milliseconds(700));  // idle, past the header timeout
  ASSERT_TRUE(client.Send(Get("/b")));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "GET /b");
}

TEST_F(ServerTest, EmptyTransferCodingsAreIgnored) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(
      client.Send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, \r\n\r\n"
                  "0\r\n\r\n"));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "POST /c");
}

TEST_F(ServerTest, ConnectionsOverTheLimitAreClosedAtOnce) {
  ServerOptions options;
  options.max_connections = 3;
  StartServer(options);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Client>(server_->port()));
    ASSERT_TRUE(clients.back()->Send(Get("/keep")));
    ASSERT_TRUE(clients.back()->Read());
  }
  Client extra(server_->port());
  EXPECT_TRUE(extra.ClosedByServer());
  // The open ones still answer.
  for (auto& client : clients) {
    ASSERT_TRUE(client->Send(Get("/again")));
    auto reply = client->Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, "GET /again");
  }
  ServerStats stats = server_->Stats();
  EXPECT_EQ(stats.connections_rejected, 1u);
  EXPECT_EQ(stats.connections_open, 3);
  // A closed one frees its place.
  clients.pop_back();
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    Client next(server_->port());
    served = next.Send(Get("/new")) && next.Read().has_value();
    if (!served) std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(served);
}

TEST_F(ServerTest, LargeBodiesAreWrittenWhole) {
  const std::string large(300 * 1024, 'L');
  StartServer({}, [&large](const Request&, Response* response) { response->body = large; });
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/1") + Get("/2")));
  for (int i = 0; i < 2; ++i) {
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, large);
  }
}

TEST_F(ServerTest, ServerOwnedHeadersFromHandlerAreDropped) {
  StartServer({}, [](const Request&, Response* response) {
    response->headers.emplace_back("Content-Length", "999");
    response->headers.emplace_back("X-Injected", "a\r\nSet-Cookie: x=1");
    response->headers.emplace_back("X-Fine", "yes");
    response->body = "abc";
  });
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/")));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->Header("content-length"), "3");
  EXPECT_FALSE(reply->Has("x-injected"));
  EXPECT_FALSE(reply->Has("set-cookie"));
  EXPECT_EQ(reply->Header("x-fine"), "yes");
  EXPECT_EQ(reply->body, "abc");
}

uint64_t HandlerBugs() {
  uint64_t n = 0;
  for (const auto& [site, count] : BugCounts()) {
    if (site.find("http/connection.cc") != std::string::npos) n += count;
  }
  return n;
}

TEST_F(ServerTest, ThrowingHandlerIsABugAnswered500) {
  // A debug build aborts at the bug (see common/bug.h); this checks what a
  // release build does after it.
  ScopedBugsDoNotAbort keep_going;
  const uint64_t before = HandlerBugs();
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/throw")));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  ExpectJsonError(*reply, 500, "internal");
  EXPECT_EQ(HandlerBugs(), before + 1);
}

TEST_F(ServerTest, IdleConnectionsAreClosed) {
  ServerOptions options;
  options.idle_timeout_ms = 100;
  StartServer(options);
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/a")));
  ASSERT_TRUE(client.Read());
  const auto start = steady_clock::now();
  EXPECT_TRUE(client.ClosedByServer());
  EXPECT_LT(steady_clock::now() - start, milliseconds(2000));
  EXPECT_EQ(server_->Stats().idle_timeouts, 1u);
  EXPECT_EQ(server_->Stats().header_timeouts, 0u);
}

TEST_F(ServerTest, IncompleteRequestsAreCutOffAtTheHeaderTimeout) {
  ServerOptions options;
  options.idle_timeout_ms = 60'000;
  options.header_timeout_ms = 200;
  StartServer(options);
  Client slow(server_->port());
  const auto start = steady_clock::now();
  ASSERT_TRUE(slow.Send("GET /slow HTTP/1.1\r\n"));
  std::this_thread::sleep_for(milliseconds(50));
  ASSERT_TRUE(slow.Send("Host: t\r\n"));  // trickling bytes does not extend it
  EXPECT_TRUE(slow.ClosedByServer());
  EXPECT_LT(steady_clock::now() - start, milliseconds(5000));
  EXPECT_EQ(server_->Stats().header_timeouts, 1u);
  // An idle keep-alive connection is held to the (long) idle timeout instead.
  Client idle(server_->port());
  ASSERT_TRUE(idle.Send(Get("/a")));
  ASSERT_TRUE(idle.Read());
  std::this_thread::sleep_for(milliseconds(500));
  ASSERT_TRUE(idle.Send(Get("/b")));
  auto reply = idle.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "GET /b");
}

// Request ids: kept from X-Request-Id when usable, else made; echoed on
// every answer with a valid traceparent.
TEST_F(ServerTest, RequestIdsAreKeptOrMadeAndEchoed) {
  std::vector<std::string> seen;
  std::mutex mu;
  StartServer({}, [&](const Request& q, Response* r) {
    std::lock_guard<std::mutex> lock(mu);
    seen.emplace_back(q.request_id);
    r->body = std::string(q.traceparent);
  });
  Client client(server_->port());
  const std::string trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  ASSERT_TRUE(
      client.Send(Get("/a") + Get("/b", "X-Request-Id: abc-123\r\ntraceparent: " + trace + "\r\n") +
                  Get("/c", "X-Request-Id: has space\r\ntraceparent: 00-zz\r\n") +
                  Get("/d", "X-Request-Id: " + std::string(129, 'x') + "\r\n") + Get("/e")));
  std::vector<Client::Reply> replies;
  for (int i = 0; i < 5; ++i) {
    auto reply = client.Read();
    ASSERT_TRUE(reply) << i;
    replies.push_back(*reply);
  }
  ASSERT_EQ(seen.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(replies[i].Header("x-request-id"), seen[i]) << i;
  EXPECT_EQ(seen[1], "abc-123");
  EXPECT_EQ(replies[1].Header("traceparent"), trace);
  EXPECT_EQ(replies[1].body, trace);
  EXPECT_FALSE(replies[2].Has("traceparent"));
  for (size_t i : {0u, 2u, 3u, 4u}) {
    EXPECT_EQ(seen[i].size(), 16u) << seen[i];
    EXPECT_EQ(seen[i].find_first_not_of("0123456789abcdef"), std::string::npos) << seen[i];
  }
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 5u);
  // The server's own answers carry one too.
  Client bad(server_->port());
  ASSERT_TRUE(bad.Send("NOT HTTP\r\n\r\n"));
  auto reply = bad.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(reply->Header("x-request-id").size(), 16u);
}

TEST(Traceparent, W3cSyntax) {
  EXPECT_TRUE(IsTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_TRUE(IsTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-later"));
  EXPECT_FALSE(IsTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"));
  EXPECT_FALSE(IsTraceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(IsTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(IsTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
  EXPECT_FALSE(IsTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(IsTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"));
  EXPECT_TRUE(IsRequestId("a"));
  EXPECT_FALSE(IsRequestId(""));
  EXPECT_FALSE(IsRequestId("a b"));
  EXPECT_FALSE(IsRequestId(std::string(129, 'a')));
}

// on_complete sees each answer once: the handler's with its response, the
// server's own (a malformed request, a fallback) without.
TEST_F(ServerTest, OnCompleteSeesEveryAnswer) {
  struct Seen {
    std::string request_id, client, method, target;
    int status;
    uint64_t bytes;
    bool handler;
    std::chrono::nanoseconds duration;
    int64_t started_at;
  };
  std::mutex mu;
  std::vector<Seen> seen;
  DeferringHandler deferring;
  ServerOptions options;
  options.on_complete = [&](const CompletedRequest& done) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back({std::string(done.request_id), std::string(done.client),
                    std::string(done.method), std::string(done.target), done.status,
                    done.body_bytes, done.response != nullptr, done.duration, done.started_at});
  };
  StartServer(options, [&](const Request& q, Response* r) { deferring.Handle(q, r); });
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/now") + Get("/later/10") + Get("/later/2000")));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.Read()) << i;
  Client bad(server_->port());
  ASSERT_TRUE(bad.Send("NOT HTTP\r\n\r\n"));
  ASSERT_TRUE(bad.Read());
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].target, "/now");
  EXPECT_EQ(seen[0].status, 200);
  EXPECT_EQ(seen[0].bytes, std::string("now /now").size());
  EXPECT_TRUE(seen[0].handler);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].client.rfind("127.0.0.1:", 0), 0u) << seen[0].client;
  EXPECT_EQ(seen[1].target, "/later/10");
  EXPECT_TRUE(seen[1].handler);
  EXPECT_GE(seen[1].duration, milliseconds(10)) << "a deferred answer's wait is counted";
  EXPECT_EQ(seen[2].status, 503);
  EXPECT_FALSE(seen[2].handler) << "a fallback is the server's own answer";
  EXPECT_EQ(seen[3].status, 400);
  EXPECT_FALSE(seen[3].handler);
  EXPECT_EQ(seen[3].request_id.size(), 16u);
  // The wall-clock start is now's, to the clocks' offset.
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (const Seen& s : seen) {
    EXPECT_LE(s.started_at, now);
    EXPECT_GT(s.started_at, now - int64_t{60'000'000'000});
  }
}

TEST_F(ServerTest, AConnectionResetMidRequestIsAConnectionError) {
  StartServer();
  {
    Client client(server_->port());
    ASSERT_TRUE(client.Send(Get("/a")));
    ASSERT_TRUE(client.Read());
  }  // closed between requests: not an error
  {
    Client client(server_->port());
    ASSERT_TRUE(client.Send("GET /partial HTTP/1.1\r\nHo"));
    client.Reset();
  }
  for (int i = 0; i < 500 && server_->Stats().connection_errors == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(server_->Stats().connection_errors, 1u);
}

TEST_F(ServerTest, StopWithIdleClientIsPrompt) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/a")));
  ASSERT_TRUE(client.Read());
  const auto start = steady_clock::now();
  server_->Stop();
  EXPECT_LT(steady_clock::now() - start, milliseconds(500));
  EXPECT_TRUE(client.ClosedByServer());
  server_->Stop();  // idempotent
  server_->Wait();  // returns at once after Stop
}

TEST_F(ServerTest, StopLetsInFlightRequestFinish) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send("GET /inflight HTTP/1.1\r\nHost: t\r\n"));
  std::this_thread::sleep_for(milliseconds(50));
  const auto start = steady_clock::now();
  std::thread stopper([this] { server_->Stop(); });
  std::this_thread::sleep_for(milliseconds(100));
  ASSERT_TRUE(client.Send("\r\n"));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "GET /inflight");
  EXPECT_EQ(reply->Header("connection"), "close");
  stopper.join();
  EXPECT_LT(steady_clock::now() - start, milliseconds(1500));
  // No new connections are accepted.
  Client late(server_->port());
  EXPECT_TRUE(!late.connected() || late.ClosedByServer());
}

TEST_F(ServerTest, StopClosesStalledRequestWithinDrainBound) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send("GET /stalled HTTP/1.1\r\n"));
  std::this_thread::sleep_for(milliseconds(50));
  const auto start = steady_clock::now();
  server_->Stop();
  EXPECT_LT(steady_clock::now() - start, milliseconds(3000));
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(ServerTest, WaitReturnsWhenAnotherThreadStops) {
  StartServer();
  std::thread stopper([this] {
    std::this_thread::sleep_for(milliseconds(50));
    server_->Stop();
  });
  server_->Wait();
  stopper.join();
}

TEST_F(ServerTest, HandlerMayStopItsOwnServer) {
  Server* self = nullptr;
  std::atomic<bool> stopped{false};
  StartServer({}, [&](const Request&, Response* response) {
    self->Stop();
    stopped = true;
    response->body = "bye";
  });
  self = server_.get();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/stop")));
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "bye");
  EXPECT_TRUE(client.ClosedByServer());
  server_->Wait();
  EXPECT_TRUE(stopped);
}

TEST_F(ServerTest, SeveralThreadsServe) {
  std::mutex mu;
  std::set<std::thread::id> seen;
  ServerOptions options;
  options.threads = 2;
  StartServer(options, [&](const Request& request, Response* response) {
    std::lock_guard<std::mutex> lock(mu);
    seen.insert(std::this_thread::get_id());
    response->body = std::string(request.target);
  });
  // The kernel hashes each connection to one of the two acceptors: with 64
  // connections all landing on one is a 2^-63 chance.
  for (int i = 0; i < 64; ++i) {
    Client client(server_->port());
    ASSERT_TRUE(client.Send(Get("/c" + std::to_string(i))));
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, "/c" + std::to_string(i));
  }
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.size(), 2u);
}

TEST_F(ServerTest, PortInUseIsAnError) {
  StartServer();
  ServerOptions options;
  options.port = server_->port();
  options.threads = 1;
  auto second = Server::Start(options, EchoHandler);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kIOError);
}

TEST_F(ServerTest, BadHostIsAnError) {
  ServerOptions options;
  options.host = "no-such-host.invalid";
  options.threads = 1;
  EXPECT_FALSE(Server::Start(options, EchoHandler).ok());
}

TEST_F(ServerTest, DestructorStopsRunningServer) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Send(Get("/a")));
  ASSERT_TRUE(client.Read());
  server_.reset();
  EXPECT_TRUE(client.ClosedByServer());
}

}  // namespace
}  // namespace tempo::http
