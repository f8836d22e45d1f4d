// Shadow compare, receiving side (issue 14 §1): the admin listener's
// POST /internal/shadow, GET /admin/shadow and POST /admin/shadow/reset.
//
// A legacy service (or another Tempo instance, see sender.h) posts the
// requests it answered with its answers: one JSON item, or NDJSON of many,
//   {"target":"/api/v2/tempo/layouts?tenant=...","status":200,
//    "body":"<the answer's body, as a JSON string>","at":"2026-11-22T12:00:00Z"}
// The post is answered 202 at once with how many items were accepted and
// which lines were rejected (malformed); accepted items wait in a bounded
// queue (when it is full they are dropped and counted: the sender is never
// slowed) and a few worker threads answer each one with the candidate --
// the same LayoutService code as the public listener, in process, at the
// item's instant -- and compare: statuses equal, bodies equal as JSON values
// (member order ignored, numbers by value, arrays in order, strings exact),
// minus the --shadow-ignore JSON Pointers. Serving threads never do this
// work: only the admin listener's thread that parses a post, and the workers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "admin/metrics.h"
#include "common/status.h"
#include "common/time.h"
#include "http/server.h"

namespace tempo::shadow {

// What the candidate answers for `target` (origin form) evaluated at `at`
// (the item's instant, whatever --allow-preview says; an `at` in the target
// itself wins, as on the public listener). Called on a worker thread; may
// block on the store up to its own deadline. Must fill status and body.
using Candidate =
    std::function<void(std::string_view target, UnixNanos at, http::Response* response)>;

struct ReceiverOptions {
  size_t queue_capacity = 10'000;  // --shadow-queue: items waiting; more are dropped
  size_t keep = 100;               // --shadow-keep: newest mismatches kept for GET /admin/shadow
  // --shadow-ignore: JSON Pointers (RFC 6901) left out of the comparison;
  // "*" as a reference token matches any array index or member name.
  std::vector<std::string> ignore;
  int threads = 2;  // --shadow-threads: workers comparing items
  // A post whose body is larger is refused 413 by the HTTP layer (the admin
  // listener's max_request_body_bytes is set from this).
  size_t max_post_bytes = 16 << 20;
};

// Safe for concurrent use: the admin listener may call any method from any
// of its threads.
class Receiver {
 public:
  // InvalidArgument naming the pointer when an --shadow-ignore entry is not a
  // JSON Pointer ("" or starting with "/"), a count is 0 (threads: 1-64), or
  // the candidate is empty. Starts the worker threads.
  static Result<std::unique_ptr<Receiver>> Create(ReceiverOptions options, Candidate candidate);
  // Stops the workers; items still queued are dropped (not counted). Waits
  // only for the candidate calls in flight (at most one per worker).
  virtual ~Receiver() = default;

  // POST /internal/shadow: `request.body` holds the post (item.h: one JSON
  // object or NDJSON, told apart by content). Parses it on the calling
  // thread, queues the items under one lock and answers 202 at once with
  // {"accepted":N,"rejected":M,"dropped":D,"errors":[{"line":L,"message":"..."}]}
  // accepted: well-formed items (dropped ones included); rejected: malformed
  // lines; dropped: accepted items the full queue had no room for; errors:
  // the first 100 rejected lines. An empty or wholly malformed post is 202
  // too, so a replaying sender sees every line's fate. A body larger than
  // max_post_bytes (which the HTTP layer refuses first) is 413.
  virtual void HandlePost(const http::Request& request, http::Response* response) = 0;
  // GET /admin/shadow: 200 with
  //   {"counts":{"match":N,"mismatch":N,"error":N,"dropped":N},
  //    "tenants":{"ACME":{"match":N,"mismatch":N,"error":N}},
  //    "mismatches":[{"target":"...","tenant":"ACME","path":"/zones/0/id",
  //                   "expected":<legacy value>,"actual":<candidate value>,
  //                   "at":"2026-11-22T12:00:00Z"}],
  //    "queue":{"depth":N,"capacity":N}}
  // Results: match; mismatch; error (the target is not /api/v1|v2/tempo/layouts,
  // or the item's body is not JSON); dropped (the queue was full).
  // Tenants by name (sorted): the target's first `tenant` parameter, decoded;
  // "_none" when there is none, "_other" when it is not a tenant id
  // ([A-Za-z0-9_-]{1,64}) or past the first 1000 distinct ones.
  // Mismatches: the newest `keep`, newest first. `path` is the JSON Pointer
  // of the first difference in the legacy document's order (json_diff.h);
  // "" with the two statuses as expected/actual when they differ, or with
  // the candidate's body as a JSON string when it is not JSON. Values are
  // cut at 1 KiB (still valid JSON). Both keys are always written: a side
  // that has no value at `path` (a member or element only the other side
  // has) is null, and "missing":"expected"|"actual" names it.
  virtual void HandleStatus(http::Response* response) const = 0;
  // POST /admin/shadow/reset: zeroes what GET /admin/shadow shows (counts,
  // tenants, mismatches) and answers 200 {"reset":true}. The /metrics
  // counters are not reset: Prometheus counters only grow.
  virtual void HandleReset(http::Response* response) = 0;

  // Counters tempo_shadow_items_total{result="match|mismatch|error|dropped"}
  // (all four always written) and tempo_shadow_mismatches_total{tenant}
  // (tenants as in HandleStatus), counted since Create; gauges
  // tempo_shadow_queue_depth and tempo_shadow_queue_capacity.
  virtual void WriteMetrics(admin::MetricsWriter* out) const = 0;

  // Blocks until the queue is empty and no worker is comparing: every item
  // queued before the call has been compared (tests, benchmarks).
  virtual void WaitIdle() = 0;
};

}  // namespace tempo::shadow
