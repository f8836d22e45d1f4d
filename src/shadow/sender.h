// Shadow compare, sending side (issue 14 §2): `tempo serve --shadow-to URL`
// sends a sample of this instance's layout requests, with its answers, to
// another instance's POST /internal/shadow (receiver.h), to compare two
// builds or two stores on live traffic.
//
// Offer() is called on the thread that answered a request (a serving thread
// or a waiting one): it only samples, copies and queues -- never blocks on
// I/O, never encodes. `connections` sender threads drain the queue, each
// into NDJSON posts (Content-Type application/x-ndjson, one item a line:
//   {"target":"/api/v2/tempo/layouts?tenant=ACME","status":200,
//    "body":"<the body as a JSON string>","at":"2026-11-22T12:00:00.123Z"}
// ) over a keep-alive connection of its own (post_client.h). When the queue
// is full (the receiver is slow or down) new items are dropped and counted.
// A failed post's items are counted failed and not retried; the thread then
// backs off (50 ms doubling to 2 s) before its next post, so a dead receiver
// costs no CPU beyond the drops. Safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "admin/metrics.h"
#include "common/status.h"
#include "common/time.h"

namespace tempo::shadow {

struct SenderOptions {
  // --shadow-to: http://HOST:PORT or https://HOST:PORT, optionally with a
  // path (default /internal/shadow).
  std::string url;
  double sample = 0.01;              // --shadow-sample: share of requests sent, 0-1
  std::vector<std::string> tenants;  // --shadow-tenants: only these (empty: all)
  // --shadow-timeout-ms: bounds connecting (with the TLS handshake), and
  // then sending a post and reading its answer.
  int timeout_ms = 200;
  size_t queue_capacity = 10'000;  // items waiting; more are dropped
  // Bytes (targets and bodies) waiting; more are dropped. Bounds memory
  // whatever the bodies' sizes.
  size_t queue_capacity_bytes = 128 << 20;
  int connections = 2;           // keep-alive connections (one sender thread each)
  size_t max_batch_items = 256;  // items per post
  // Target and body bytes per post (the post is somewhat larger: JSON
  // escaping). An item larger than this goes alone.
  size_t max_batch_bytes = 1 << 20;
  // https only: a PEM file of CAs trusted besides the system's; a client
  // certificate chain and its key (PEM, both or neither) for a receiver
  // behind a proxy that requires mutual TLS.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

// Counts since Start (items unless said otherwise).
struct SenderStats {
  uint64_t sent = 0;     // in posts the receiver answered 202
  uint64_t dropped = 0;  // the queue was full, or still held them at destruction
  uint64_t failed = 0;   // in posts that failed
  // Failed posts by kind: "connect", "timeout", "tls", "io", "response",
  // "status:NNN" (see PostOutcome in post_client.h).
  std::map<std::string, uint64_t> posts_failed;
  // What the receiver's 202 answers said of the items sent.
  uint64_t receiver_accepted = 0, receiver_rejected = 0, receiver_dropped = 0;
  size_t queued = 0;  // waiting now
};

class Sender {
 public:
  // InvalidArgument when the URL is not http(s)://HOST:PORT[/path], the
  // sample is outside 0-1, a count or the time-out is not positive, or a
  // TLS file cannot be loaded. Starts the sender threads; they connect
  // lazily, so a receiver that is down is no error here.
  static Result<std::unique_ptr<Sender>> Start(SenderOptions options);
  // Stops the threads: what is queued is still posted for up to the
  // time-out, what is left then is dropped. Returns within about twice the
  // time-out whatever the receiver does.
  virtual ~Sender() = default;

  // One answered layout request: `target` in origin form, the status and
  // body as sent to the client (a 304's caller passes 200 and the body).
  // `forced`: the request carried X-Tempo-Shadow: 1 -- always sent,
  // whatever the sample and tenant filter say. `at`: when it was answered.
  // Otherwise sent when a thread-local random draw falls in the sample and,
  // with a tenant list, when the target's first `tenant` query parameter
  // (percent-decoded) is in it. Copies what it keeps; never blocks on I/O.
  virtual void Offer(std::string_view target, int status, std::string_view body, UnixNanos at,
                     bool forced) = 0;

  // Replaces the sample and the tenant filter (--shadow-sample,
  // --shadow-tenants) for the offers after the call (a configuration
  // reload). InvalidArgument, and nothing changed, when `sample` is outside
  // 0-1. Thread-safe.
  virtual Status SetSampling(double sample, std::vector<std::string> tenants) = 0;

  // tempo_shadow_sent_total{result="sent|dropped|failed"} (items),
  // tempo_shadow_posts_failed_total{kind}, tempo_shadow_receiver_items_total
  // {result="accepted|rejected|dropped"} (the receiver's counts) and the
  // gauge tempo_shadow_send_queue_depth.
  virtual void WriteMetrics(admin::MetricsWriter* out) const = 0;

  // The counters behind WriteMetrics.
  virtual SenderStats Stats() const = 0;
};

}  // namespace tempo::shadow
