// Tests of the shadow sender against real servers on 127.0.0.1: this repo's
// own http::Server as the receiver, testing::HungServer as a hung one, and
// nginx as a TLS-terminating proxy (certificates made with openssl per test).
#include "shadow/sender.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"
#include "shadow/post_client.h"
#include "testing/hung_server.h"
#include "testing/ports.h"
#include "testing/temp_dir.h"

namespace tempo::shadow {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// Polls `done` until it holds or `limit` passed; returns its last value.
bool WaitFor(const std::function<bool()>& done, Clock::duration limit = seconds(20)) {
  const Clock::time_point until = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

// One NDJSON line as the receiver got it.
struct ReceivedItem {
  std::string target;
  int64_t status = 0;
  std::string body;
  std::string at;
  bool as_json = false;    // sent as `json` (the value), not `body` (a string)
  bool same_body = false;  // sent as `same_body_as` an earlier line of its post
};

// A receiver on http::Server: records every request and answers `status`
// (202 with the count of lines as accepted, unless told otherwise).
class Recorder {
 public:
  struct Post {
    std::string method, target, content_type, body;
  };

  explicit Recorder(int status = 202, int idle_timeout_ms = 60'000) : status_(status) {
    http::ServerOptions options;
    options.threads = 1;
    options.max_request_body_bytes = 64 << 20;
    options.idle_timeout_ms = idle_timeout_ms;
    auto server = http::Server::Start(options, [this](const http::Request& request,
                                                      http::Response* response) {
      size_t lines = 0;
      for (char c : request.body) lines += c == '\n';
      {
        std::lock_guard<std::mutex> lock(mu_);
        posts_.push_back({std::string(request.method), std::string(request.target),
                          std::string(request.content_type), std::string(request.body)});
      }
      response->status = status_;
      response->headers.emplace_back("Content-Type", "application/json");
      response->body = "{\"accepted\":" + std::to_string(lines) + ",\"rejected\":0,\"dropped\":0}";
    });
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (server.ok()) server_ = std::move(*server);
  }
  ~Recorder() {
    if (server_) {
      server_->Stop();
      server_->Wait();
    }
  }

  uint16_t port() const { return server_->port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  http::ServerStats stats() const { return server_->Stats(); }

  std::vector<Post> posts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return posts_;
  }

  // Every line of every post, parsed; a line that is not an item fails the test.
  std::vector<ReceivedItem> items() const {
    std::vector<ReceivedItem> out;
    simdjson::dom::parser parser;
    for (const Post& post : posts()) {
      std::string_view rest = post.body;
      std::vector<std::string> bodies;  // by line of this post, from 1
      while (!rest.empty()) {
        const size_t nl = rest.find('\n');
        EXPECT_NE(nl, std::string_view::npos) << "an NDJSON line must end in \\n";
        const std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        simdjson::dom::object object;
        const simdjson::padded_string padded(line);
        if (parser.parse(padded).get(object) != simdjson::SUCCESS) {
          ADD_FAILURE() << "not a JSON object: " << line;
          continue;
        }
        ReceivedItem item;
        std::string_view target, body, at;
        EXPECT_EQ(object.size(), 4u) << line;
        EXPECT_EQ(object["target"].get(target), simdjson::SUCCESS) << line;
        EXPECT_EQ(object["status"].get(item.status), simdjson::SUCCESS) << line;
        simdjson::dom::element json;
        uint64_t same = 0;
        if (object["same_body_as"].get(same) == simdjson::SUCCESS) {
          EXPECT_TRUE(same >= 1 && same <= bodies.size()) << line;
          if (same >= 1 && same <= bodies.size()) item.body = bodies[same - 1];
          item.same_body = true;
        } else if (object["json"].get(json) == simdjson::SUCCESS) {
          // A JSON body goes as the value itself (compact bodies stay byte
          // for byte what they were).
          item.body = simdjson::minify(json);
          item.as_json = true;
        } else {
          EXPECT_EQ(object["body"].get(body), simdjson::SUCCESS) << line;
          item.body = body;
        }
        EXPECT_EQ(object["at"].get(at), simdjson::SUCCESS) << line;
        item.target = target;
        item.at = at;
        bodies.push_back(item.body);
        out.push_back(std::move(item));
      }
    }
    return out;
  }

  std::multiset<std::string> targets() const {
    std::multiset<std::string> out;
    for (const ReceivedItem& item : items()) out.insert(item.target);
    return out;
  }

 private:
  const int status_;
  mutable std::mutex mu_;
  std::vector<Post> posts_;
  std::unique_ptr<http::Server> server_;
};

SenderOptions Options(const std::string& url) {
  SenderOptions options;
  options.url = url;
  options.sample = 1;
  options.timeout_ms = 2000;
  return options;
}

std::unique_ptr<Sender> StartOrDie(SenderOptions options) {
  auto sender = Sender::Start(std::move(options));
  EXPECT_TRUE(sender.ok()) << sender.status().ToString();
  return sender.ok() ? std::move(*sender) : nullptr;
}

uint64_t Failed(const SenderStats& s, const std::string& kind) {
  auto it = s.posts_failed.find(kind);
  return it == s.posts_failed.end() ? 0 : it->second;
}

std::string Describe(const SenderStats& s) {
  std::string out = "sent " + std::to_string(s.sent) + " dropped " + std::to_string(s.dropped) +
                    " failed " + std::to_string(s.failed) + " queued " + std::to_string(s.queued);
  for (const auto& [kind, n] : s.posts_failed) out += " " + kind + ":" + std::to_string(n);
  return out;
}

// 2026-11-22T12:00:00.123456789Z
constexpr UnixNanos kAt = 1'795'348'800'123'456'789;
constexpr std::string_view kAtText = "2026-11-22T12:00:00.123456789Z";

TEST(SenderTest, SampleOneSendsEveryItemAsNdjson) {
  Recorder receiver;
  SenderOptions options = Options(receiver.url());
  options.max_batch_items = 16;
  auto sender = StartOrDie(options);
  ASSERT_NE(sender, nullptr);

  // Bodies that need every kind of escape, and multi-byte UTF-8.
  const std::string tricky = "{\"a\":\"q\\\"uo\\\\te\"}\n\t\r\b\f" + std::string(1, '\x01') +
                             std::string(1, '\x1f') + "Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80";
  constexpr int kItems = 1000;
  for (int i = 0; i < kItems; ++i) {
    sender->Offer("/api/v2/tempo/layouts?tenant=ACME&i=" + std::to_string(i), 200 + i % 3,
                  tricky + std::to_string(i), kAt, /*forced=*/false);
  }
  ASSERT_TRUE(WaitFor([&] { return sender->Stats().sent == kItems; })) << Describe(sender->Stats());

  const std::vector<ReceivedItem> items = receiver.items();
  ASSERT_EQ(items.size(), static_cast<size_t>(kItems));
  std::set<int> seen;
  for (const ReceivedItem& item : items) {
    const std::string prefix = "/api/v2/tempo/layouts?tenant=ACME&i=";
    ASSERT_TRUE(item.target.starts_with(prefix)) << item.target;
    const int i = std::stoi(item.target.substr(prefix.size()));
    seen.insert(i);
    EXPECT_EQ(item.status, 200 + i % 3);
    EXPECT_EQ(item.body, tricky + std::to_string(i));
    EXPECT_EQ(item.at, kAtText);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kItems));
  for (const Recorder::Post& post : receiver.posts()) {
    EXPECT_EQ(post.method, "POST");
    EXPECT_EQ(post.target, "/internal/shadow");
    EXPECT_EQ(post.content_type, "application/x-ndjson");
    EXPECT_LE(std::count(post.body.begin(), post.body.end(), '\n'), 16);
  }
  // Keep-alive: each sender thread used one connection for all its posts.
  EXPECT_LE(receiver.stats().connections_accepted, 2u);

  const SenderStats stats = sender->Stats();
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.failed, 0u);
  EXPECT_EQ(stats.receiver_accepted, static_cast<uint64_t>(kItems));
  admin::MetricsWriter metrics;
  sender->WriteMetrics(&metrics);
  const std::string text = metrics.Take();
  EXPECT_NE(text.find("tempo_shadow_sent_total{result=\"sent\"} 1000\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("tempo_shadow_sent_total{result=\"dropped\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("tempo_shadow_send_queue_depth 0\n"), std::string::npos);
  EXPECT_NE(text.find("tempo_shadow_receiver_items_total{result=\"accepted\"} 1000\n"),
            std::string::npos);
}

TEST(SenderTest, JsonBodiesGoAsValuesOthersAsStrings) {
  Recorder receiver;
  auto sender = StartOrDie(Options(receiver.url()));
  ASSERT_NE(sender, nullptr);
  const std::map<std::string, std::pair<std::string, bool>> cases = {
      {"/object", {R"({"zones":[{"zone":"z","modules":[]}],"s":"a\"b"})", true}},
      {"/array", {"[1,2,3]", true}},
      {"/two-lines", {"{\"a\":\n1}", false}},  // would break the NDJSON line
      {"/text", {"not json", false}},
      {"/empty", {"", false}},
  };
  for (const auto& [target, body] : cases) sender->Offer(target, 200, body.first, kAt, false);
  ASSERT_TRUE(WaitFor([&] { return sender->Stats().sent == cases.size(); }));
  const std::vector<ReceivedItem> items = receiver.items();
  ASSERT_EQ(items.size(), cases.size());
  for (const ReceivedItem& item : items) {
    const auto& [body, as_json] = cases.at(item.target);
    EXPECT_EQ(item.as_json, as_json) << item.target;
    EXPECT_EQ(item.body, body) << item.target;
  }
}

TEST(SenderTest, ABodyRepeatedInAPostIsSentOnce) {
  Recorder receiver;
  SenderOptions options = Options(receiver.url());
  options.connections = 1;
  auto sender = StartOrDie(options);
  ASSERT_NE(sender, nullptr);
  const std::string hot = R"({"zones":[{"zone":"hero","modules":[{"id":"m1"}]}]})";
  constexpr int kItems = 600;
  for (int i = 0; i < kItems; ++i) {
    sender->Offer("/hot?i=" + std::to_string(i), 200, i % 3 == 2 ? "{\"other\":1}" : hot, kAt,
                  false);
  }
  ASSERT_TRUE(WaitFor([&] { return sender->Stats().sent == kItems; }));
  const std::vector<ReceivedItem> items = receiver.items();
  ASSERT_EQ(items.size(), static_cast<size_t>(kItems));
  size_t repeated = 0;
  for (const ReceivedItem& item : items) {
    const int i = std::stoi(item.target.substr(std::string("/hot?i=").size()));
    EXPECT_EQ(item.body, i % 3 == 2 ? "{\"other\":1}" : hot) << item.target;
    repeated += item.same_body;
  }
  // Each post sends each of its distinct bodies (one or both) once.
  const size_t posts = receiver.posts().size();
  EXPECT_GE(repeated, kItems - 2 * posts);
  EXPECT_LE(repeated, kItems - posts);
}

TEST(SenderTest, InstantsAreUtcRfc3339) {
  Recorder receiver;
  auto sender = StartOrDie(Options(receiver.url()));
  ASSERT_NE(sender, nullptr);
  const std::vector<std::pair<UnixNanos, std::string>> cases = {
      {0, "1970-01-01T00:00:00Z"},
      {999'999, "1970-01-01T00:00:00.000999999Z"},
      {-1, "1969-12-31T23:59:59.999999999Z"},
      {951'782'400'000'000'000, "2000-02-29T00:00:00Z"},
      {kAt, std::string(kAtText)},
      {INT64_MAX, "2262-04-11T23:47:16.854775807Z"},
      {INT64_MIN, "1677-09-21T00:12:43.145224192Z"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    sender->Offer("/t?i=" + std::to_string(i), 200, "{}", cases[i].first, false);
  }
  ASSERT_TRUE(WaitFor([&] { return sender->Stats().sent == cases.size(); }));
  std::map<std::string, std::string> at_by_target;
  for (const ReceivedItem& item : receiver.items()) at_by_target[item.target] = item.at;
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(at_by_target["/t?i=" + std::to_string(i)], cases[i].second) << cases[i].first;
  }
}

TEST(SenderTest, SampleZeroSendsOnlyForcedItems) {
  Recorder receiver;
  SenderOptions options = Options(receiver.url());
  options.sample = 0;
  auto sender = StartOrDie(options);
  ASSERT_NE(sender, nullptr);
  for (int i = 0; i < 500; ++i)
    sender->Offer("/skip?i=" + std::to_string(i), 200, "{}", kAt, false);
  sender->Offer("/forced?tenant=A", 200, "{}", kAt, /*forced=*/true);
  sender->Offer("/forced?tenant=B", 404, "{}", kAt, /*forced=*/true);
  ASSERT_TRUE(WaitFor([&] { return sender->Stats().sent == 2; }));
  sender.reset();  // flushes anything still queued
  EXPECT_EQ(receiver.targets(),
            (std::multiset<std::string>{"/forced?tenant=A", "/forced?tenant=B"}));
}

// A configuration reload changes what is sampled for the next offers.
TEST(SenderTest, SetSamplingAppliesToTheNextOffers) {
  Recorder receiver;
  SenderOptions options = Options(receiver.url());
  options.sample = 0;
  auto sender = StartOrDie(options);
  ASSERT_NE(sender, nullptr);
  sender->Offer("/l?tenant=A&i=0", 200, "{}", kAt, false);
  ASSERT_TRUE(sender->SetSampling(1, {"B"}).ok());
  sender->Offer("/l?tenant=A&i=1", 200, "{}", kAt, false);
  sender->Offer("/l?tenant=B&i=2", 200, "{}", kAt, false);
  ASSERT_TRUE(sender->SetSampling(1, {}).ok());
  sender->Offer("/l?tenant=A&i=3", 200, "{}", kAt, false);
  EXPECT_EQ(sender->SetSampling(1.5, {}).code(), Status::Code::kInvalidArgument);
  sender->Offer("/l?tenant=C&i=4", 200, "{}", kAt, false);  // the last good sampling
  sender.reset();
  EXPECT_EQ(receiver.targets(),
            (std::multiset<std::string>{"/l?tenant=B&i=2", "/l?tenant=A&i=3", "/l?tenant=C&i=4"}));
}

TEST(SenderTest, SampleSendsAboutItsShare) {
  Recorder receiver;
  SenderOptions options = Options(receiver.url());
  options.sample = 0.25;
  auto sender = StartOrDie(options);
  ASSERT_NE(sender, nullptr);
  constexpr int kOffered = 8000;  // expect 2000, standard deviation about 39
  for (int i = 0; i < kOffered; ++i) sender->Offer("/s", 200, "{}", kAt, false);
  sender.reset();
  const size_t sent = receiver.items().size();
  EXPECT_GT(sent, 1700u);
  EXPECT_LT(sent, 2300u);
}

TEST(SenderTest, TenantFilterReadsTheFirstDecodedTenantParameter) {
  Recorder receiver;
  SenderOptions options = Options(receiver.url());
  options.tenants = {"ACME", "Zo\xc3\xab", "a b"};
  auto sender = StartOrDie(options);
  ASSERT_NE(sender, nullptr);
  const std::vector<std::string> wanted = {
      "/l?tenant=ACME",     "/l?channel=web&tenant=ACME&pageType=home",
      "/l?tenant=Zo%C3%AB", "/l?tenant=a+b",
      "/l?ten%61nt=ACME",   "/l?tenant=ACME&tenant=OTHER",
  };
  const std::vector<std::string> unwanted = {
      "/l?tenant=OTHER",
      "/l?tenant=OTHER&tenant=ACME",  // the first one counts
      "/l?tenant=acme",
      "/l?tenants=ACME",
      "/l",
      "/l?",
      "/l?tenant",
      "/l?tenant=%zz",
      "/l?tenant=AC%4",
      "/l?tenant=%ff",  // not UTF-8
  };
  for (const std::string& t : wanted) sender->Offer(t, 200, "{}", kAt, false);
  for (const std::string& t : unwanted) sender->Offer(t, 200, "{}", kAt, false);
  sender->Offer("/l?tenant=FORCED", 200, "{}", kAt, /*forced=*/true);
  sender.reset();
  std::multiset<std::string> expected(wanted.begin(), wanted.end());
  expected.insert("/l?tenant=FORCED");
  EXPECT_EQ(receiver.targets(), expected);
}

TEST(SenderTest, PostsToTheUrlsPath) {
  Recorder receiver;
  auto sender = StartOrDie(Options(receiver.url() + "/custom/shadow"));
  ASSERT_NE(sender, nullptr);
  sender->Offer("/x", 200, "{}", kAt, false);
  ASSERT_TRUE(WaitFor([&] { return sender->Stats().sent == 1; }));
  ASSERT_EQ(receiver.posts().size(), 1u);
  EXPECT_EQ(receiver.posts()[0].target, "/custom/shadow");
}

TEST(SenderTest, LargeItemsGoAloneAndBatchesStayUnderTheByteLimit) {
  Recorder receiver;
  SenderOptions options = Options(receiver.url());
  options.connections = 1;
  options.max_batch_bytes = 4096;
  auto sender = StartOrDie(options);
  ASSERT_NE(sender, nullptr);
  const std::string big(3 << 20, 'x');
  sender->Offer("/big", 200, big, kAt, false);
  for (int i = 0; i < 50; ++i) sender->Offer("/small", 200, std::string(1000, 'y'), kAt, false);
  ASSERT_TRUE(WaitFor([&] { return sender->Stats().sent == 51; }));
  for (const Recorder::Post& post : receiver.posts()) {
    if (post.body.find("\"/big\"") != std::string::npos) {
      EXPECT_EQ(std::count(post.body.begin(), post.body.end(), '\n'), 1);
    } else {
      EXPECT_LE(post.body.size(), 4096u + 4 * 80);
    }
  }
  EXPECT_EQ(receiver.items().size(), 51u);
}

TEST(SenderTest, ReconnectsWhenTheReceiverClosedAnIdleConnection) {
  Recorder receiver(202, /*idle_timeout_ms=*/100);
  SenderOptions options = Options(receiver.url());
  options.connections = 1;
  auto sender = StartOrDie(options);
  ASSERT_NE(sender, nullptr);
  sender->Offer("/first", 200, "{}", kAt, false);
  ASSERT_TRUE(WaitFor([&] { return sender->Stats().sent == 1; }));
  // The server closes the kept-alive connection; the next post finds it
  // closed and is sent again on a new one, not failed.
  ASSERT_TRUE(WaitFor([&] { return receiver.stats().connections_open == 0; }));
  sender->Offer("/second", 200, "{}", kAt, false);
  ASSERT_TRUE(WaitFor([&] { return sender->Stats().sent == 2; })) << Describe(sender->Stats());
  EXPECT_EQ(sender->Stats().failed, 0u);
  EXPECT_EQ(receiver.targets(), (std::multiset<std::string>{"/first", "/second"}));
}

TEST(SenderTest, AnotherStatusFailsThePost) {
  Recorder receiver(503);
  auto sender = StartOrDie(Options(receiver.url()));
  ASSERT_NE(sender, nullptr);
  sender->Offer("/x", 200, "{}", kAt, false);
  ASSERT_TRUE(WaitFor([&] { return sender->Stats().failed == 1; }));
  const SenderStats stats = sender->Stats();
  EXPECT_EQ(Failed(stats, "status:503"), 1u) << Describe(stats);
  EXPECT_EQ(stats.sent, 0u);
  admin::MetricsWriter metrics;
  sender->WriteMetrics(&metrics);
  const std::string text = metrics.Take();
  EXPECT_NE(text.find("tempo_shadow_posts_failed_total{kind=\"status:503\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tempo_shadow_sent_total{result=\"failed\"} 1\n"), std::string::npos);
}

TEST(SenderTest, ReceiverDownCountsFailuresAndOfferNeverBlocks) {
  Result<int> port = testing::PickFreePort();  // nothing listens there
  ASSERT_TRUE(port.ok());
  SenderOptions options = Options("http://127.0.0.1:" + std::to_string(*port));
  options.queue_capacity = 1000;
  auto sender = StartOrDie(options);
  ASSERT_NE(sender, nullptr);
  sender->Offer("/first", 200, "{}", kAt, false);
  ASSERT_TRUE(WaitFor([&] { return sender->Stats().failed >= 1; }));
  // Far more than the queue holds: Offer drops instead of waiting.
  constexpr uint64_t kOffered = 100'000;
  for (uint64_t i = 1; i < kOffered; ++i) sender->Offer("/x", 200, "{}", kAt, false);
  const SenderStats stats = sender->Stats();
  EXPECT_GE(Failed(stats, "connect"), 1u) << Describe(stats);
  EXPECT_EQ(stats.sent, 0u);
  EXPECT_GT(stats.dropped, 0u);
  EXPECT_LE(stats.queued, 1000u);
  // Every item is accounted for, queued or in a failing post at the moment.
  EXPECT_LE(stats.dropped + stats.failed + stats.queued, kOffered);
  EXPECT_GE(stats.dropped + stats.failed + stats.queued + 2 * options.max_batch_items, kOffered);
}

TEST(SenderTest, HungReceiverTimesOutAndTheQueueDrops) {
  auto hung = testing::HungServer::Start();
  ASSERT_TRUE(hung.ok());
  SenderOptions options = Options("http://" + (*hung)->address());
  options.timeout_ms = 100;
  options.queue_capacity = 100;
  options.connections = 1;
  auto sender = StartOrDie(options);
  ASSERT_NE(sender, nullptr);
  sender->Offer("/first", 200, "{}", kAt, false);
  ASSERT_TRUE(WaitFor([&] { return Failed(sender->Stats(), "timeout") >= 1; }))
      << Describe(sender->Stats());
  EXPECT_GE((*hung)->accepted(), 1);
  for (int i = 0; i < 1000; ++i) sender->Offer("/x", 200, "{}", kAt, false);
  const SenderStats stats = sender->Stats();
  EXPECT_GE(stats.dropped, 1000u - 100 - options.max_batch_items) << Describe(stats);
  EXPECT_LE(stats.queued, 100u);
  EXPECT_EQ(stats.sent, 0u);
}

TEST(SenderTest, QueueBoundsItemsAndBytes) {
  auto hung = testing::HungServer::Start();
  ASSERT_TRUE(hung.ok());
  {
    SenderOptions options = Options("http://" + (*hung)->address());
    options.connections = 1;
    options.max_batch_items = 1;
    options.timeout_ms = 1000;
    options.queue_capacity = 10;
    auto sender = StartOrDie(options);
    ASSERT_NE(sender, nullptr);
    for (int i = 0; i < 100; ++i) sender->Offer("/x", 200, "{}", kAt, false);
    // At most one item is in the thread's hung post, ten are queued.
    const SenderStats stats = sender->Stats();
    EXPECT_GE(stats.dropped, 89u) << Describe(stats);
    EXPECT_LE(stats.queued, 10u);
  }
  {
    SenderOptions options = Options("http://" + (*hung)->address());
    options.connections = 1;
    options.max_batch_items = 1;
    options.timeout_ms = 1000;
    options.queue_capacity_bytes = 1000;
    auto sender = StartOrDie(options);
    ASSERT_NE(sender, nullptr);
    for (int i = 0; i < 100; ++i) sender->Offer("/x", 200, std::string(298, 'b'), kAt, false);
    // 300 bytes an item: three fit, one more may be in the hung post.
    const SenderStats stats = sender->Stats();
    EXPECT_GE(stats.dropped, 96u) << Describe(stats);
    EXPECT_LE(stats.queued, 3u);
  }
}

// Destruction returns although the receiver never answers (or never
// accepts): the bound checked is a hang check, ten times what it needs.
TEST(SenderTest, DestructionWithAHungReceiverIsBounded) {
  for (auto mode :
       {testing::HungServer::Mode::kAcceptAndIgnore, testing::HungServer::Mode::kNeverAccept}) {
    auto hung = testing::HungServer::Start(mode);
    ASSERT_TRUE(hung.ok());
    SenderOptions options = Options("http://" + (*hung)->address());
    options.timeout_ms = 200;
    auto sender = StartOrDie(options);
    ASSERT_NE(sender, nullptr);
    for (int i = 0; i < 5000; ++i) sender->Offer("/x", 200, "{}", kAt, false);
    std::this_thread::sleep_for(milliseconds(50));  // posts are in flight
    const Clock::time_point start = Clock::now();
    sender.reset();
    EXPECT_LT(Clock::now() - start, seconds(4));
  }
}

TEST(SenderTest, StartRejectsBadOptions) {
  const std::vector<std::string> bad_urls = {
      "",
      "127.0.0.1:8080",
      "ftp://127.0.0.1:21",
      "HTTP://127.0.0.1:80",
      "http://127.0.0.1",
      "http://127.0.0.1:",
      "http://127.0.0.1:0",
      "http://127.0.0.1:65536",
      "http://127.0.0.1:80x",
      "http://:80",
      "http://user@127.0.0.1:80",
      "http://127.0.0.1:80/p?q=1",
      "http://127.0.0.1:80/p#f",
      "http://127.0.0.1:80/a b",
      "http://::1:80",
      "http://[::1:80",
      "https://",
  };
  for (const std::string& url : bad_urls) {
    auto sender = Sender::Start(Options(url));
    ASSERT_FALSE(sender.ok()) << url;
    EXPECT_EQ(sender.status().code(), Status::Code::kInvalidArgument) << url;
    EXPECT_NE(sender.status().message().find("shadow URL"), std::string::npos)
        << sender.status().message();
  }
  const auto rejects = [](const std::function<void(SenderOptions*)>& change) {
    SenderOptions options = Options("http://127.0.0.1:9");
    change(&options);
    auto sender = Sender::Start(options);
    return !sender.ok() && sender.status().code() == Status::Code::kInvalidArgument;
  };
  EXPECT_TRUE(rejects([](SenderOptions* o) { o->sample = -0.01; }));
  EXPECT_TRUE(rejects([](SenderOptions* o) { o->sample = 1.01; }));
  EXPECT_TRUE(rejects([](SenderOptions* o) { o->sample = std::nan(""); }));
  EXPECT_TRUE(rejects([](SenderOptions* o) { o->timeout_ms = 0; }));
  EXPECT_TRUE(rejects([](SenderOptions* o) { o->connections = 0; }));
  EXPECT_TRUE(rejects([](SenderOptions* o) { o->queue_capacity = 0; }));
  EXPECT_TRUE(rejects([](SenderOptions* o) { o->queue_capacity_bytes = 0; }));
  EXPECT_TRUE(rejects([](SenderOptions* o) { o->max_batch_items = 0; }));
  EXPECT_TRUE(rejects([](SenderOptions* o) { o->max_batch_bytes = 0; }));
  EXPECT_TRUE(rejects([](SenderOptions* o) { o->ca_file = "/etc/ssl/certs/ca-certificates.crt"; }));
  EXPECT_TRUE(rejects([](SenderOptions* o) {
    o->url = "https://127.0.0.1:9";
    o->ca_file = "/nonexistent/ca.pem";
  }));
  EXPECT_TRUE(rejects([](SenderOptions* o) {
    o->url = "https://127.0.0.1:9";
    o->cert_file = "/nonexistent/cert.pem";  // without a key
  }));

  for (const char* url : {"http://127.0.0.1:9", "http://127.0.0.1:9/", "https://[::1]:443/x",
                          "https://localhost:8443"}) {
    auto sender = Sender::Start(Options(url));
    EXPECT_TRUE(sender.ok()) << url << ": " << sender.status().ToString();
  }
  Result<PostUrl> url = ParsePostUrl("https://[::1]:8443");
  ASSERT_TRUE(url.ok());
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->path, kDefaultShadowPath);
}

// Runs `argv` to completion (bounded); true when it exited 0.
bool RunCommand(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, STDERR_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  if (pid < 0) return false;
  int status = 0;
  const Clock::time_point until = Clock::now() + seconds(30);
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() >= until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return false;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// A self-signed certificate and its key, made with openssl in `dir`.
bool MakeCertificate(const std::string& dir, const std::string& name, const std::string& san) {
  return RunCommand({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=" + name,
                     "-addext", "subjectAltName=" + san, "-keyout", dir + "/" + name + ".key",
                     "-out", dir + "/" + name + ".pem"});
}

// nginx (Debian's) terminating TLS in front of `backend_port`: on
// tls_port() with the certificate "server" (SAN DNS:localhost only), and on
// mtls_port() the same but requiring a client certificate signed by
// "client". Started with `-p DIR -c conf`, `daemon off`, stopped with
// SIGQUIT then SIGKILL, all waits bounded.
class TlsProxy {
 public:
  static constexpr const char* kNginx = "/usr/sbin/nginx";

  explicit TlsProxy(uint16_t backend_port) {
    if (access(kNginx, X_OK) != 0) {
      error_ = std::string(kNginx) + " is not installed (apt-get install nginx)";
      return;
    }
    if (!MakeCertificate(dir_.path(), "server", "DNS:localhost") ||
        !MakeCertificate(dir_.path(), "client", "DNS:client")) {
      error_ = "openssl could not make the certificates";
      return;
    }
    for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) {
      Result<int> tls = testing::PickFreePort(), mtls = testing::PickFreePort();
      if (!tls.ok() || !mtls.ok() || *tls == *mtls) continue;
      tls_port_ = *tls;
      mtls_port_ = *mtls;
      WriteConfig(backend_port);
      Launch();
    }
    if (pid_ <= 0) error_ = "nginx did not start: " + ReadFile(dir_.path() + "/error.log");
  }

  ~TlsProxy() {
    if (pid_ <= 0) return;
    kill(pid_, SIGQUIT);
    if (!Reaped(seconds(5))) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  const std::string& error() const { return error_; }
  std::string dir() const { return dir_.path(); }
  int tls_port() const { return tls_port_; }
  int mtls_port() const { return mtls_port_; }

 private:
  void WriteConfig(uint16_t backend_port) {
    const std::string d = dir_.path();
    std::ofstream conf(d + "/nginx.conf");
    conf << "daemon off;\nmaster_process off;\nworker_processes 1;\n"
         << "error_log " << d << "/error.log;\npid " << d << "/nginx.pid;\n"
         << "events { worker_connections 64; }\n"
         << "http {\n  access_log off;\n"
         << "  client_body_temp_path " << d << "/body;\n  proxy_temp_path " << d << "/proxy;\n"
         << "  fastcgi_temp_path " << d << "/fastcgi;\n  uwsgi_temp_path " << d << "/uwsgi;\n"
         << "  scgi_temp_path " << d << "/scgi;\n  client_max_body_size 64m;\n"
         << "  ssl_certificate " << d << "/server.pem;\n"
         << "  ssl_certificate_key " << d << "/server.key;\n"
         << "  server {\n    listen 127.0.0.1:" << tls_port_ << " ssl;\n"
         << "    location / { proxy_pass http://127.0.0.1:" << backend_port << "; }\n  }\n"
         << "  server {\n    listen 127.0.0.1:" << mtls_port_ << " ssl;\n"
         << "    ssl_client_certificate " << d << "/client.pem;\n    ssl_verify_client on;\n"
         << "    location / { proxy_pass http://127.0.0.1:" << backend_port << "; }\n  }\n"
         << "}\n";
  }

  void Launch() {
    const std::string d = dir_.path();
    const pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int null_fd = open("/dev/null", O_WRONLY);
      if (null_fd >= 0) dup2(null_fd, STDERR_FILENO);
      execl(kNginx, kNginx, "-p", d.c_str(), "-e", (d + "/error.log").c_str(), "-c",
            (d + "/nginx.conf").c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid < 0) return;
    pid_ = pid;
    const Clock::time_point until = Clock::now() + seconds(10);
    while (Clock::now() < until) {
      if (Reaped(milliseconds(0))) break;                 // exited: the port was taken
      if (ReadFile(d + "/nginx.pid").size() > 0) return;  // written once it listens
      std::this_thread::sleep_for(milliseconds(10));
    }
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

  // Waits up to `limit` for nginx to exit; true (and pid_ cleared) if it did.
  bool Reaped(Clock::duration limit) {
    const Clock::time_point until = Clock::now() + limit;
    for (;;) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return true;
      }
      if (Clock::now() >= until) return false;
      std::this_thread::sleep_for(milliseconds(10));
    }
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  testing::TempDir dir_{"tempo_shadow_tls"};
  pid_t pid_ = -1;
  int tls_port_ = 0, mtls_port_ = 0;
  std::string error_;
};

class SenderTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_ = std::make_unique<TlsProxy>(receiver_.port());
    ASSERT_TRUE(proxy_->error().empty()) << proxy_->error();
  }

  // Offers one item through a sender with `options` and waits for its post's end.
  SenderStats SendOne(SenderOptions options) {
    options.connections = 1;
    auto sender = StartOrDie(std::move(options));
    if (sender == nullptr) return {};
    sender->Offer("/tls?tenant=ACME", 200, "{\"k\":\"v\"}", kAt, false);
    EXPECT_TRUE(WaitFor([&] {
      const SenderStats s = sender->Stats();
      return s.sent + s.failed == 1;
    }));
    return sender->Stats();
  }

  std::string Url(const std::string& host, int port) const {
    return "https://" + host + ":" + std::to_string(port);
  }

  Recorder receiver_;
  std::unique_ptr<TlsProxy> proxy_;
};

TEST_F(SenderTlsTest, TrustsTheCaFile) {
  SenderOptions options = Options(Url("localhost", proxy_->tls_port()));
  options.ca_file = proxy_->dir() + "/server.pem";
  const SenderStats stats = SendOne(options);
  EXPECT_EQ(stats.sent, 1u) << Describe(stats);
  const std::vector<ReceivedItem> items = receiver_.items();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].target, "/tls?tenant=ACME");
  EXPECT_EQ(items[0].body, "{\"k\":\"v\"}");
}

TEST_F(SenderTlsTest, AnUntrustedCertificateFailsWithKindTls) {
  const SenderStats stats = SendOne(Options(Url("localhost", proxy_->tls_port())));
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(Failed(stats, "tls"), 1u) << Describe(stats);
  EXPECT_TRUE(receiver_.posts().empty());
}

TEST_F(SenderTlsTest, ACertificateForAnotherHostFailsWithKindTls) {
  // Trusted, but it names DNS:localhost, not the address 127.0.0.1.
  SenderOptions options = Options(Url("127.0.0.1", proxy_->tls_port()));
  options.ca_file = proxy_->dir() + "/server.pem";
  const SenderStats stats = SendOne(options);
  EXPECT_EQ(Failed(stats, "tls"), 1u) << Describe(stats);
  EXPECT_TRUE(receiver_.posts().empty());
}

TEST_F(SenderTlsTest, PlainHttpToATlsPortFails) {
  const SenderStats stats =
      SendOne(Options("http://127.0.0.1:" + std::to_string(proxy_->tls_port())));
  EXPECT_EQ(stats.failed, 1u) << Describe(stats);
  EXPECT_EQ(Failed(stats, "status:400"), 1u) << Describe(stats);  // nginx: plain HTTP to HTTPS
}

TEST_F(SenderTlsTest, ClientCertificateForMutualTls) {
  SenderOptions options = Options(Url("localhost", proxy_->mtls_port()));
  options.ca_file = proxy_->dir() + "/server.pem";
  SenderStats stats = SendOne(options);  // no client certificate: nginx answers 400
  EXPECT_EQ(Failed(stats, "status:400"), 1u) << Describe(stats);

  options.cert_file = proxy_->dir() + "/client.pem";
  options.key_file = proxy_->dir() + "/client.key";
  stats = SendOne(options);
  EXPECT_EQ(stats.sent, 1u) << Describe(stats);
  EXPECT_EQ(receiver_.items().size(), 1u);
}

}  // namespace
}  // namespace tempo::shadow
