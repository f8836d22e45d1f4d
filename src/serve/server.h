// Server: the serving process of `tempo serve`: the store reader, L1 and L2
// (api::PageSource), the origin reader, the invalidation listener, the public
// HTTP listener and the admin listener, started and stopped in one order.
//
// Start, in this order (each part needs the ones before it):
//   1. the options: listener addresses parsed, --max-connections fitted to
//      the descriptor limit, the L2 timeout held to half the deadline, the
//      tenant groups read (--groups) and the own group's filter and the
//      tenant limiter made;
//   2. the L2 client (when ServeOptions::l2 names servers);
//   3. the store reader: a RocksDB secondary or PostgreSQL pool over a
//      scratch directory of its own, or with embedded the primary store in
//      the data directory; a store that is unreachable now (PostgreSQL
//      down) is opened later, by a retrying thread, and until then the
//      instance is not ready (serve/late_origin.h);
//   4. with embedded, the background sync (sync::BackgroundSync), which has
//      applied the whole backlog before Start goes on;
//   5. api::PageSource (L1, the origin reader's threads and probe, L2) and
//      api::LayoutService;
//   6. the invalidation listener (its consumer starts at the stream's end);
//   7. the public HTTP listener;
//   8. with --warm-from, the warm-up (serve/warm_start.h) begins on its own
//      thread; then the admin listener (/readyz is ready once the origin
//      reader is and the warm-up has ended), with the explain and cache
//      routes (api/explain.h, api/cache_control.h).
// Stop() ends the public listener; the destructor then stops the admin
// listener and takes the rest down in the reverse order (the invalidation
// listener before L1, the background sync before the store, the store
// before its scratch directory, L2 last).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "admin/admin_service.h"
#include "admin/request_metrics.h"
#include "api/invalidation_listener.h"
#include "api/page_source.h"
#include "api/service.h"
#include "common/mutex.h"
#include "common/status.h"
#include "http/access_log.h"
#include "http/server.h"
#include "l2/l2.h"
#include "origin/origin.h"
#include "serve/late_origin.h"
#include "serve/process_metrics.h"
#include "serve/serve_options.h"
#include "serve/warm_start.h"
#include "sync/background_sync.h"

namespace tempo::serve {

// Why Server::Start failed.
struct StartError {
  // What failed; its message is what `tempo serve` prints.
  Status status;
  // True when the options are at fault (a usage error: `tempo serve` exits
  // 2), false when a part could not start (exit 1).
  bool bad_options = false;
};

class Server final {
 public:
  // Checks the options as Start would before it starts anything (step 1,
  // the TLS files, the admin listener's exposure), without binding,
  // connecting or opening the store: for `tempo serve --check-config`.
  // InvalidArgument naming the option on a bad setting.
  static Status CheckOptions(const ServeOptions& options);

  // Starts every part in the order above, or returns null and fills *error
  // (the parts already started are stopped again). Writes a line to stderr
  // for each option it had to lower (connections, L2 timeout).
  // REQUIRES: error != nullptr.
  static std::unique_ptr<Server> Start(const ServeOptions& options, StartError* error);

  // Stops what is still running, in the reverse of the start order.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Writes where it listens ("tempo serve: listening on http://HOST:PORT
  // (store ..., invalidations from ..., L2 ...)", the admin port, and with
  // embedded a curl line to try), one line each, flushed.
  void Announce(std::ostream& out) const;

  // Begins a graceful stop: /readyz answers 503 "draining" from now on, the
  // public listener keeps serving for ServeOptions::drain_ms, then Stop().
  // Returns at once; idempotent; safe from any thread.
  void Drain();

  // Asks the public listener to stop (at once, also during a drain): it
  // stops accepting, answers what is in flight (bounded) and closes.
  // Idempotent; safe from any thread (a signal watcher's included).
  void Stop();

  // Blocks until the public listener has stopped.
  void Wait();

  // What a configuration reload did (Reload).
  struct ReloadOutcome {
    std::vector<std::string> applied;  // what changed live, in words
    std::vector<std::string> restart;  // settings that changed but need a restart
    std::vector<Status> failures;      // what could not be applied (the old stays)
  };

  // Applies what can change live from `next`, the options as the
  // configuration now gives them (on SIGHUP): the tenant limits (a new
  // limiter, its buckets full), the shadow sample and tenants, and the TLS
  // files (re-read, as ReloadTls). `changed` names the settings (flag names,
  // or a --config section) that differ from the running ones; those not
  // applied here are listed in `restart`. Thread-safe with serving.
  ReloadOutcome Reload(const ServeOptions& next, const std::vector<std::string>& changed);

  // Re-reads the TLS certificates, keys and client CAs of both listeners
  // (on SIGHUP): new connections get them, open ones keep theirs. On a bad
  // file that listener keeps its previous ones and the error is returned
  // (and logged). OK when neither listener has TLS. Thread-safe.
  Status ReloadTls();

 private:
  // A directory of this process's own (the RocksDB secondary's state),
  // removed on destruction.
  class ScratchDir {
   public:
    ScratchDir();
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::string& path() const { return path_; }

   private:
    std::string path_;
  };

  explicit Server(const ServeOptions& options) : options_(options) {}

  // Steps 1 to 8 of the order above.
  Status StartParts(bool* bad_options);
  // Step 1: the options (usage errors only), and its tenant groups and limits.
  Status PrepareOptions();
  Status PrepareTenancy();
  // The per-tenant limiter `options` ask for, or null when no tenant has a limit.
  static std::shared_ptr<api::TenantLimiter> MakeLimiter(const ServeOptions& options);
  Status OpenStore();
  Status StartShadowReceiver(admin::AdminHooks* hooks);
  // Begins the --warm-from warm-up (when given) before readiness is asked.
  void BeginWarmStart();
  void AddCacheRoutes(admin::AdminHooks* hooks);

  // Members in start order, so that they are destroyed in the reverse one.
  const ServeOptions options_;
  http::ServerOptions http_options_;
  L2ClientOptions l2_options_;   // options_.l2 with the timeout fitted
  StreamOptions invalidations_;  // options_.stream, or the embedded log
  std::string store_label_;      // the store or data directory, for Announce
  // The own tenant group's filter (null: every tenant) and the per-tenant
  // limiter (null: off), shared by the service and the listener.
  std::shared_ptr<const config::TenantGroupFilter> tenant_groups_;
  std::shared_ptr<api::TenantLimiter> limiter_;
  std::unique_ptr<l2::L2Client> l2_;
  std::unique_ptr<ScratchDir> scratch_;
  std::unique_ptr<origin::Origin> origin_;
  // Set when the store was unreachable at start (origin_ opens it later).
  const LateOpening* late_store_ = nullptr;
  std::unique_ptr<sync::BackgroundSync> embedded_sync_;
  std::unique_ptr<api::PageSource> pages_;
  std::unique_ptr<shadow::Sender> shadow_sender_;  // the service's observer calls it
  std::unique_ptr<api::LayoutService> service_;
  std::unique_ptr<api::InvalidationListener> listener_;
  // Fed by the public listener for each answer (http::ServerOptions::on_complete).
  std::unique_ptr<admin::RequestMetrics> request_metrics_;
  std::unique_ptr<http::AccessLog> access_log_;  // null when off
  std::unique_ptr<http::Server> http_;
  ProcessParts parts_;                                 // what the admin listener reports
  std::unique_ptr<shadow::Receiver> shadow_receiver_;  // its workers call service_
  std::unique_ptr<admin::AdminService> admin_service_;
  std::unique_ptr<http::Server> admin_;
  // --warm-from: holds /readyz back until it is done. Last, so destroyed
  // first: its thread loads through pages_.
  std::unique_ptr<WarmStart> warm_;

  // The drain (Drain): set once; the thread that stops the listener after
  // drain_ms, woken early by Stop.
  std::atomic<bool> draining_{false};
  Mutex drain_mu_;
  CondVar drain_cv_;
  bool stop_requested_ GUARDED_BY(drain_mu_) = false;
  std::thread drain_thread_;
};

}  // namespace tempo::serve
