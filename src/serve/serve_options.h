// How `tempo serve` runs: one plain struct whose defaults are the recommended
// settings. The command line (cli/serve_command.cc) and the YAML file
// (--config) fill it, and its initial values are the flags' defaults.
// Where a component owns the setting, the default is read from that
// component's own options, so that each number is written once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "admin/request_metrics.h"
#include "api/origin_reader.h"
#include "api/page_source.h"
#include "api/service.h"
#include "config/tenant_groups.h"
#include "config/tenant_limits.h"
#include "http/server.h"
#include "http/tls_options.h"
#include "serve/l2_client.h"
#include "serve/stream_options.h"
#include "serve/warm_start.h"
#include "shadow/receiver.h"
#include "shadow/sender.h"
#include "stream/stream.h"

namespace tempo::serve {

struct ServeOptions {
  // The origin store to read: DIR, rocksdb:///DIR (opened read-only, as a
  // secondary of the process that writes it) or postgres://USER@HOST:PORT/DB.
  // Exactly one of store and embedded. Default: none.
  std::string store;

  // Everything in this process: store, log and sync loop in data_dir, with
  // demo data on first start (serve/embedded.h). Default: false.
  bool embedded = false;

  // The data directory of embedded. Default: none, which means
  // DefaultDataDir() (serve/embedded.h).
  std::string data_dir;

  // The public listener, HOST:PORT ([v6addr]:PORT; port 0 = any free port).
  // Default: 127.0.0.1:8080.
  std::string listen = "127.0.0.1:8080";

  // Serving threads; 0 = one per core. Default: http::ServerOptions::threads.
  int threads = http::ServerOptions().threads;

  // Open connections on the public listener; lowered at start to keep
  // descriptors in reserve when the descriptor limit is too low.
  // Default: http::ServerOptions::max_connections.
  int max_connections = http::ServerOptions().max_connections;

  // Keep-alive connections idle this long are closed.
  // Default: http::ServerOptions::idle_timeout_ms.
  int idle_timeout_ms = http::ServerOptions().idle_timeout_ms;

  // A request must arrive whole this long after its first byte.
  // Default: http::ServerOptions::header_timeout_ms.
  int header_timeout_ms = http::ServerOptions().header_timeout_ms;

  // Honour the `at` parameter (preview). Default: api::ServiceOptions::allow_preview.
  bool allow_preview = api::ServiceOptions().allow_preview;

  // The longest a request waits on L2 and the origin; past it the answer is
  // a stale copy or 503. Default: api::ServiceOptions::deadline.
  int deadline_ms = static_cast<int>(api::ServiceOptions().deadline.count());

  // Answers of repeated queries kept per serving thread; 0: none.
  // Default: api::ServiceOptions::answer_memo_entries.
  size_t answer_memo = api::ServiceOptions().answer_memo_entries;

  // L1 (in-process slice cache) size in MiB; 0 disables it.
  // Default: api::L1Options::capacity_bytes.
  size_t l1_mb = api::L1Options().capacity_bytes >> 20;

  // How long a cached slice is fresh. Default: api::L1Options::ttl.
  int64_t l1_ttl_ms = api::L1Options().ttl.count();

  // How long past its TTL a slice may be served while it is refreshed or the
  // origin fails. Default: api::L1Options::max_stale.
  int64_t l1_max_stale_ms = api::L1Options().max_stale.count();

  // Threads reading the origin (at most this many origin reads at once).
  // Default: api::OriginReaderOptions::threads.
  int origin_threads = api::OriginReaderOptions().threads;

  // The shared L2; its timeout is held to half of deadline_ms at start.
  // Default: none (see L2ClientOptions).
  L2ClientOptions l2;

  // The admin listener HOST:PORT (/readyz, /livez, /metrics, /admin/cache),
  // or "off". Default: 127.0.0.1:9901.
  std::string admin_listen = "127.0.0.1:9901";

  // TLS on the public listener (--tls-cert, --tls-key, --tls-client-ca).
  // Default: none (plain HTTP).
  http::TlsFiles tls;

  // TLS on the admin listener (--admin-tls-cert, --admin-tls-key,
  // --admin-client-ca). Default: none.
  http::TlsFiles admin_tls;

  // Allows an admin listener off loopback without a client CA. Default: false.
  bool admin_insecure = false;

  // How long the origin may be unreachable before /readyz says not ready.
  // Default: 5000.
  int64_t ready_grace_ms = 5'000;

  // The access log (http/access_log.h): "off", "stderr" or a file, the
  // share of requests logged, and its line format ("text" or "json", as
  // --log-format). Default: off.
  std::string access_log = "off";
  double access_log_sample = 1.0;
  std::string access_log_format = "text";

  // Tenants named in tempo_requests_by_tenant_total; later ones count as
  // tenant="other". Default: admin::RequestMetricsOptions::max_tenants.
  size_t metrics_max_tenants = admin::RequestMetricsOptions().max_tenants;

  // With embedded: retention of the log's topics (log::RetentionOptions):
  // per topic, delete the oldest sealed segments while the topic is larger
  // than this / last written longer ago than this, once every group has read
  // them. 0: no limit. Default: none.
  uint64_t log_retention_bytes = 0;
  int64_t log_retention_hours = 0;

  // On SIGTERM, /readyz says "draining" at once and the public listener
  // keeps serving this long (so load balancers take the instance out), then
  // stops accepting and finishes what is in flight. 0: stop at once.
  int64_t drain_ms = 5'000;

  // Where invalidations come from; with embedded and no stream, the data
  // directory's log. Default: none (the listener only catches up periodically).
  StreamOptions stream;

  // The invalidation topic. Default: stream::kInvalidationTopic.
  std::string invalidation_topic{stream::kInvalidationTopic};

  // Shadow compare, receiving side: the admin listener's POST /internal/shadow
  // (queue, kept mismatches, ignored JSON Pointers, workers, post size).
  // Defaults: shadow::ReceiverOptions.
  shadow::ReceiverOptions shadow;

  // Tenant groups (SPEC §9, config/tenant_groups.h): the `tenant_groups`
  // of --config (the YAML section), or of the file --groups names (read at
  // start; giving both is an error). Default: none.
  std::optional<config::TenantGroups> groups;
  std::string groups_file;

  // The tenant group this instance serves (--tenant-group): it answers other
  // groups' tenants 421 and names its group in X-Tempo-Tenant-Group. Needs
  // groups. Default: none (every tenant).
  std::string tenant_group;

  // Per-tenant request limits (api/tenant_limiter.h): --tenant-rate
  // requests a second and bursts of --tenant-burst (0: the rate) for every
  // tenant, and `tenant_limits` of --config per tenant. Default: off.
  int64_t tenant_rate = 0;
  int64_t tenant_burst = 0;
  std::map<std::string, config::TenantLimit> tenant_limits;

  // The share of the origin reader's queue one tenant may hold.
  // Default: api::OriginReaderOptions::tenant_share.
  double origin_tenant_share = api::OriginReaderOptions().tenant_share;

  // Warm start (serve/warm_start.h): before /readyz turns ready, load the
  // slices another instance holds hottest: "http://HOST:PORT" (its admin
  // listener) or a file saved from its GET /admin/cache/hot. Default: none
  // (a cold start).
  std::string warm_from;
  // The hottest slices asked of --warm-from. Default: 10000.
  size_t warm_slices = WarmStartOptions().max_slices;
  // The longest the warm-up may hold readiness back. Default: 10000.
  int64_t warm_timeout_ms = WarmStartOptions().timeout.count();

  // Shadow compare, sending side: with a URL (--shadow-to), a sample of this
  // instance's layout answers goes to that instance's POST /internal/shadow.
  // Default: off (empty URL); the rest as shadow::SenderOptions.
  shadow::SenderOptions shadow_to;
};

}  // namespace tempo::serve
