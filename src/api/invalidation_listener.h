// InvalidationListener: keeps one serving process's L1 in step with the sync
// service (SPEC §6). It reads tempo.invalidations.v1 on its own thread and,
// for every batch of messages, first lets the origin catch up with the
// writer (a RocksDB secondary instance) and then drops each named slice from
// L1, so the next request for it reads the new rows.
//
// Once the consumer has its partitions (a Kafka group takes a moment to
// join) the listener drops all of L1 once: slices cached before then may have
// missed their invalidation.
//
// While no message arrives the origin still catches up every catch_up_every,
// so that a slice reloaded after its L1 TTL is never older than that even
// when the invalidation stream is unreachable: L1's TTL plus catch_up_every
// bounds staleness then.
//
// An operator's drop (events::CacheDrop, `tempo invalidate`) drops every
// slice of a tenant that it matches (PageSource::InvalidateMatching).
//
// An instance of a tenant group (options.tenant_groups) ignores the
// invalidations of tenants its group does not serve: it never caches them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include "api/page_source.h"
#include "common/mutex.h"
#include "config/tenant_groups.h"
#include "origin/origin.h"
#include "stream/stream.h"

namespace tempo::api {

struct InvalidationListenerOptions {
  std::chrono::milliseconds poll_timeout{100};
  std::chrono::milliseconds catch_up_every{std::chrono::seconds(1)};
  // Wait after a failed Poll before the next one.
  std::chrono::milliseconds retry_backoff{500};
  // The instance's tenant group; null: every tenant's invalidations apply.
  std::shared_ptr<const config::TenantGroupFilter> tenant_groups;
};

struct InvalidationStats {
  uint64_t received = 0;           // messages read
  uint64_t evicted = 0;            // slices dropped from L1
  uint64_t malformed = 0;          // messages that did not decode (skipped)
  uint64_t drops = 0;              // operators' drops applied (`tempo invalidate`)
  uint64_t ignored = 0;            // of other tenant groups' tenants (skipped)
  uint64_t poll_failures = 0;      // the stream could not be read
  uint64_t catch_up_failures = 0;  // the origin could not catch up
};

class InvalidationListener {
 public:
  // Starts the listening thread. `consumer` reads the invalidation topic
  // (its own group, from the latest offset); null when there is no stream,
  // and then the listener only catches up periodically. REQUIRES: origin and
  // pages outlive the listener.
  InvalidationListener(std::unique_ptr<stream::Consumer> consumer, origin::Origin* origin,
                       PageSource* pages, InvalidationListenerOptions options = {});
  // Stops and joins the thread.
  ~InvalidationListener();
  InvalidationListener(const InvalidationListener&) = delete;
  InvalidationListener& operator=(const InvalidationListener&) = delete;

  InvalidationStats Stats() const;

 private:
  void Run();
  void CatchUp();
  // Whether this instance's tenant group serves `tenant`.
  bool Serves(std::string_view tenant) const;
  // Sleeps for `pause` or until the destructor asks to stop; true when it did.
  bool SleepUnlessStopped(std::chrono::milliseconds pause);

  const std::unique_ptr<stream::Consumer> consumer_;
  origin::Origin* const origin_;
  PageSource* const pages_;
  const InvalidationListenerOptions options_;

  bool listening_ = false;  // the consumer has its partitions; thread-only
  std::atomic<bool> stop_{false};
  Mutex mu_;  // with cv_: wakes a backoff on stop
  CondVar cv_;
  std::atomic<uint64_t> received_{0}, evicted_{0}, malformed_{0}, ignored_{0}, poll_failures_{0},
      catch_up_failures_{0}, drops_{0};
  std::thread thread_;  // last: starts after everything above is ready
};

}  // namespace tempo::api
