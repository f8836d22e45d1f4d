// The serving process: starts its parts in order, stops them in reverse.
#include "serve/server.h"

#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "api/cache_control.h"
#include "api/explain.h"
#include "common/logging.h"
#include "http/tls_context.h"
#include "serve/admin_listener.h"
#include "serve/embedded.h"
#include "serve/late_origin.h"
#include "serve/store_uri.h"

namespace tempo::serve {
namespace {

// Descriptors kept free of public connections: for the admin listener, the
// store's files and connections, L2, the invalidation stream and logs.
constexpr int64_t kReservedDescriptors = 1024;

// Raises the soft descriptor limit to the hard one, and returns how many
// public connections fit beside the reserve (at least 1). Logs what it had
// to lower.
int FitConnections(int wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY) return wanted;
  const int64_t descriptors = static_cast<int64_t>(limit.rlim_cur);
  const int64_t reserve = std::min(kReservedDescriptors, descriptors / 2);
  const int64_t fits = std::max<int64_t>(1, descriptors - reserve);
  if (wanted <= fits) return wanted;
  Log(LogLevel::kWarn, "serve",
      "--max-connections " + std::to_string(wanted) + " lowered to " + std::to_string(fits) +
          ": the descriptor limit is " + std::to_string(descriptors) + " and " +
          std::to_string(reserve) + " are kept in reserve (raise `ulimit -n`)");
  return static_cast<int>(fits);
}

// The least L2 timeout the client accepts (l2::L2Options::timeout).
constexpr int kMinL2TimeoutMs = 2;

// An L2 wait must leave the origin time within the request's deadline: the
// L2 timeout is held to half the deadline.
// How often a store that was unreachable at start is tried again.
constexpr std::chrono::milliseconds kStoreRetry{1000};

int FitL2Timeout(int timeout_ms, int deadline_ms) {
  const int fits = std::max(kMinL2TimeoutMs, deadline_ms / 2);
  if (timeout_ms <= fits) return timeout_ms;
  Log(LogLevel::kWarn, "serve",
      "--l2-timeout-ms " + std::to_string(timeout_ms) + " lowered to " + std::to_string(fits) +
          ": an L2 wait may take at most half of the " + std::to_string(deadline_ms) +
          " ms request deadline (--deadline-ms)");
  return fits;
}

// A consumer group of this process alone: every serving process sees every
// invalidation.
std::string InstanceGroup() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return "tempo-serve-" + std::string(host) + "-" + std::to_string(getpid()) + "-" +
         std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
}

// A request stops waiting at its deadline, but a read that finishes a little
// later still fills L2 for the next one: a store statement may take this many
// deadlines, and at least kMinStatementTimeout.
constexpr int kStatementTimeoutDeadlines = 4;
constexpr std::chrono::milliseconds kMinStatementTimeout{250};
// How long a shadow item's candidate answer may wait on the store: this many
// deadlines, and at least kMinShadowWait.
constexpr int kShadowDeadlines = 10;
constexpr std::chrono::milliseconds kMinShadowWait{500};

// `s` with its code, its message "<what>: <s.ToString()>".
Status WithContext(const std::string& what, const Status& s) {
  return s.WithMessage(what + ": " + s.ToString());
}

}  // namespace

Server::ScratchDir::ScratchDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/tempo-serve-XXXXXX";
  if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

Server::ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

std::unique_ptr<Server> Server::Start(const ServeOptions& options, StartError* error) {
  std::unique_ptr<Server> server(new Server(options));
  bool bad_options = false;
  if (Status s = server->StartParts(&bad_options); !s.ok()) {
    *error = StartError{std::move(s), bad_options};
    return nullptr;
  }
  return server;
}

Status Server::PrepareOptions() {
  if (!options_.embedded && options_.store.empty()) {
    return Status::InvalidArgument("give --store or --embedded");
  }
  if (!ParseListen(options_.listen, &http_options_)) {
    return Status::InvalidArgument("--listen must be HOST:PORT, got " + options_.listen);
  }
  http_options_.threads = options_.threads;
  http_options_.max_connections = FitConnections(options_.max_connections);
  http_options_.idle_timeout_ms = options_.idle_timeout_ms;
  http_options_.header_timeout_ms = options_.header_timeout_ms;
  http_options_.tls = options_.tls;
  l2_options_ = options_.l2;
  l2_options_.timeout_ms = FitL2Timeout(options_.l2.timeout_ms, options_.deadline_ms);
  if (!options_.warm_from.empty()) {
    if (auto source = ParseWarmFrom(options_.warm_from); !source.ok()) return source.status();
  }
  return PrepareTenancy();
}

Status Server::CheckOptions(const ServeOptions& options) {
  Server server(options);
  if (Status s = server.PrepareOptions(); !s.ok()) return s;
  // What the listeners would load at start: a bad file fails here too.
  if (!options.tls.cert_file.empty()) {
    if (auto tls = http::TlsContext::Load(options.tls); !tls.ok()) {
      return WithContext("--tls-cert", tls.status());
    }
  }
  if (!options.admin_tls.cert_file.empty()) {
    if (auto tls = http::TlsContext::Load(options.admin_tls); !tls.ok()) {
      return WithContext("--admin-tls-cert", tls.status());
    }
  }
  return CheckAdminListen(options.admin_listen, options.admin_tls, options.admin_insecure);
}

Status Server::StartParts(bool* bad_options) {
  // 1. The options.
  *bad_options = true;
  if (Status s = PrepareOptions(); !s.ok()) return s;

  // 2. L2.
  Result<std::unique_ptr<l2::L2Client>> l2 = OpenL2(l2_options_);
  if (!l2.ok()) return l2.status();
  l2_ = std::move(l2).value();
  *bad_options = false;

  // 3. The store reader, and 4. with embedded, the background sync.
  invalidations_ = options_.stream;
  if (Status s = OpenStore(); !s.ok()) {
    // A bad URI or a store of a newer schema is the options' fault (exit 2:
    // no restart loop); an unreachable store is opened later (late_origin.h).
    *bad_options = s.code() == Status::Code::kInvalidArgument;
    return s;
  }
  if (options_.embedded) {
    log::RetentionOptions retention;
    retention.max_bytes = options_.log_retention_bytes;
    retention.max_age = std::chrono::hours(options_.log_retention_hours);
    auto started =
        StartEmbeddedSync(invalidations_.log_dir, origin_.get(), l2_.get(), std::move(retention));
    if (!started.ok()) {
      return WithContext("embedded sync", started.status());
    }
    embedded_sync_ = std::move(started).value();
  }

  // 5. L1, the origin reader and L2 behind the layout routes.
  const std::chrono::milliseconds deadline(options_.deadline_ms);
  api::PageSourceOptions page_options;
  page_options.l1.capacity_bytes = options_.l1_mb << 20;
  page_options.l1.ttl = std::chrono::milliseconds(options_.l1_ttl_ms);
  page_options.l1.max_stale = std::chrono::milliseconds(options_.l1_max_stale_ms);
  page_options.l2 = l2_.get();
  page_options.l2_timeout = std::chrono::milliseconds(l2_options_.timeout_ms);
  page_options.origin.threads = options_.origin_threads;
  page_options.origin.tenant_share = options_.origin_tenant_share;
  page_options.load_wait = deadline;
  pages_ = std::make_unique<api::PageSource>(origin_.get(), page_options);
  api::ServiceOptions service_options;
  service_options.allow_preview = options_.allow_preview;
  service_options.deadline = deadline;
  service_options.answer_memo_entries = options_.answer_memo;
  service_options.tenant_groups = tenant_groups_;
  service_options.limiter = limiter_;
  if (!options_.shadow_to.url.empty()) {
    auto sender = shadow::Sender::Start(options_.shadow_to);
    if (!sender.ok()) {
      *bad_options = sender.status().code() == Status::Code::kInvalidArgument;
      return WithContext("--shadow-to", sender.status());
    }
    shadow_sender_ = std::move(sender).value();
    service_options.observer = [sender = shadow_sender_.get()](const http::Request& request,
                                                               const http::Response& response,
                                                               UnixNanos at) {
      // A 304 stands for the 200 whose body it kept.
      sender->Offer(request.target, response.status == 304 ? 200 : response.status, response.body,
                    at, request.shadow);
    };
  }
  service_ = std::make_unique<api::LayoutService>(pages_.get(), service_options);

  // 6. The invalidation listener.
  std::unique_ptr<stream::Consumer> consumer;
  if (HasStream(invalidations_)) {
    auto opened = OpenConsumer(invalidations_, InstanceGroup(), {options_.invalidation_topic},
                               /*from_latest=*/true);
    if (!opened.ok()) {
      return WithContext("invalidations", opened.status());
    }
    consumer = std::move(opened).value();
  }
  api::InvalidationListenerOptions listener_options;
  listener_options.tenant_groups = tenant_groups_;
  listener_ = std::make_unique<api::InvalidationListener>(std::move(consumer), origin_.get(),
                                                          pages_.get(), listener_options);

  // 7. The public listener. A grouped instance names its group on the
  // listener's own answers too (a malformed request's 400, 431, 413).
  if (tenant_groups_ != nullptr) {
    http_options_.extra_headers.emplace_back(api::kTenantGroupHeader, tenant_groups_->group());
  }
  request_metrics_ = std::make_unique<admin::RequestMetrics>(
      admin::RequestMetricsOptions{.max_tenants = options_.metrics_max_tenants});
  {
    auto format = ParseLogFormat(options_.access_log_format);
    if (!format.ok()) return WithContext("--log-format", format.status());
    auto log = http::AccessLog::Open(options_.access_log, options_.access_log_sample, *format);
    if (!log.ok()) {
      *bad_options = log.status().code() == Status::Code::kInvalidArgument;
      return WithContext("--access-log", log.status());
    }
    access_log_ = std::move(log).value();
  }
  http_options_.on_complete = [metrics = request_metrics_.get(),
                               access_log = access_log_.get()](const http::CompletedRequest& done) {
    std::string_view tier, tenant;
    if (done.response != nullptr) {
      tenant = done.response->tenant;
      tier = api::TierOf(*done.response);
    }
    metrics->Record(admin::RouteOf(done.target), done.status, tier, tenant, done.duration);
    if (access_log != nullptr) {
      http::AccessRecord record;
      record.time = done.started_at;
      record.request_id = done.request_id;
      record.client_address = done.client;
      record.method = done.method;
      record.target = done.target;
      record.traceparent = done.traceparent;
      record.tier = tier;
      record.status = done.status;
      record.bytes = done.body_bytes;
      record.duration_us =
          std::chrono::duration_cast<std::chrono::microseconds>(done.duration).count();
      access_log->Write(record);
    }
  };
  auto http = http::Server::Start(
      http_options_, [service = service_.get()](const http::Request& req, http::Response* resp) {
        service->Handle(req, resp);
      });
  if (!http.ok()) {
    // A bad TLS file is a usage error (exit 2); a bind failure is not.
    *bad_options = http.status().code() == Status::Code::kInvalidArgument;
    return http.status();
  }
  http_ = std::move(http).value();

  // 8. The admin listener.
  parts_.service = service_.get();
  parts_.requests = request_metrics_.get();
  parts_.access_log = access_log_.get();
  parts_.server = http_.get();
  parts_.pages = pages_.get();
  parts_.l2 = l2_.get();
  parts_.listener = listener_.get();
  if (tenant_groups_) parts_.tenant_group = tenant_groups_->group();
  if (embedded_sync_) {
    parts_.sync_stats = [sync = embedded_sync_.get()] { return sync->Stats(); };
  }
  BeginWarmStart();
  admin::AdminHooks hooks = ReportingHooks(parts_);
  hooks.ready = [this,
                 grace = std::chrono::milliseconds(options_.ready_grace_ms)](std::string* why) {
    if (draining_.load(std::memory_order_relaxed)) {
      *why = "draining: this instance is shutting down";
      return false;
    }
    if (late_store_ != nullptr && !late_store_->opened()) {
      *why = late_store_->Reason();
      return false;
    }
    if (warm_ != nullptr && !warm_->Done(why)) return false;
    return pages_->origin_reader().Ready(grace, why);
  };
  hooks.metrics = [metrics = std::move(hooks.metrics), ready = hooks.ready,
                   warm = warm_.get()](admin::MetricsWriter* out) {
    metrics(out);
    if (warm != nullptr) warm->WriteMetrics(out);
    std::string why;
    out->Gauge("tempo_ready", "1 while /readyz answers 200, 0 otherwise", ready(&why) ? 1 : 0);
  };
  if (Status s = StartShadowReceiver(&hooks); !s.ok()) {
    *bad_options = s.code() == Status::Code::kInvalidArgument;
    return s;
  }
  AddCacheRoutes(&hooks);
  admin_service_ = std::make_unique<admin::AdminService>(std::move(hooks));
  auto admin = StartAdminListener(options_.admin_listen, admin_service_.get(),
                                  options_.shadow.max_post_bytes, options_.admin_tls,
                                  options_.admin_insecure);
  if (!admin.ok()) {
    *bad_options = admin.status().code() == Status::Code::kInvalidArgument;
    return admin.status();
  }
  admin_ = std::move(admin).value();
  return Status::OK();
}

Status Server::PrepareTenancy() {
  std::optional<config::TenantGroups> groups = options_.groups;
  if (!options_.groups_file.empty()) {
    if (groups.has_value()) {
      return Status::InvalidArgument("tenant groups given twice: --groups " + options_.groups_file +
                                     " and tenant_groups at " + groups->where() +
                                     " (--config); give one");
    }
    auto loaded = config::TenantGroups::Load(options_.groups_file);
    if (!loaded.ok()) return loaded.status();
    groups = std::move(loaded).value();
  }
  if (!options_.tenant_group.empty()) {
    if (!groups.has_value()) {
      return Status::InvalidArgument("--tenant-group " + options_.tenant_group +
                                     " needs tenant groups: --groups FILE, or tenant_groups in "
                                     "--config");
    }
    auto filter = config::TenantGroupFilter::Create(*groups, options_.tenant_group);
    if (!filter.ok()) return filter.status();
    tenant_groups_ = std::move(filter).value();
  }
  limiter_ = MakeLimiter(options_);
  return Status::OK();
}

std::shared_ptr<api::TenantLimiter> Server::MakeLimiter(const ServeOptions& options) {
  api::TenantLimiterOptions limits;
  limits.default_limit = {options.tenant_rate, options.tenant_burst};
  limits.overrides = options.tenant_limits;
  auto limiter = std::make_shared<api::TenantLimiter>(std::move(limits));
  return limiter->enabled() ? limiter : nullptr;
}

Server::ReloadOutcome Server::Reload(const ServeOptions& next,
                                     const std::vector<std::string>& changed) {
  ReloadOutcome outcome;
  auto is = [](const std::string& key, std::initializer_list<std::string_view> keys) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  bool limits_changed = false, sampling_changed = false;
  for (const std::string& key : changed) {
    if (is(key, {"tenant-rate", "tenant-burst", "tenant_limits"})) {
      limits_changed = true;
    } else if (is(key, {"shadow-sample", "shadow-tenants"}) && shadow_sender_ != nullptr) {
      sampling_changed = true;
    } else if (is(key, {"log-level", "log-format", "access-log-sample"})) {
      // The logger is the command's (cli/log_flags.h): applied there; the
      // access log's sample and format below.
    } else {
      outcome.restart.push_back(key);
    }
  }
  if (limits_changed) {
    service_->SetLimiter(MakeLimiter(next));
    outcome.applied.push_back("tenant limits (--tenant-rate, --tenant-burst, tenant_limits)");
  }
  if (sampling_changed) {
    if (Status s = shadow_sender_->SetSampling(next.shadow_to.sample, next.shadow_to.tenants);
        !s.ok()) {
      outcome.failures.push_back(WithContext("--shadow-sample", s));
    } else {
      outcome.applied.push_back("the shadow sample (--shadow-sample, --shadow-tenants)");
    }
  }
  if (access_log_ != nullptr) {
    // Reopened whatever changed: the file may have been rotated (renamed).
    auto format = ParseLogFormat(next.access_log_format);
    Status s = access_log_->Reopen();
    if (s.ok() && format.ok()) s = access_log_->Reconfigure(next.access_log_sample, *format);
    if (!s.ok()) {
      outcome.failures.push_back(WithContext("--access-log", s));
    } else {
      outcome.applied.push_back("the access log (reopened)");
    }
  }
  // Certificates are re-read whatever changed: renewed files keep their names.
  if (Status s = ReloadTls(); !s.ok()) {
    outcome.failures.push_back(s);
  } else if (options_.tls.enabled() || options_.admin_tls.enabled()) {
    outcome.applied.push_back("TLS certificates, keys and client CAs (re-read)");
  }
  return outcome;
}

// The shadow receiver behind the admin listener's shadow routes, and both
// shadow sides' metrics.
Status Server::StartShadowReceiver(admin::AdminHooks* hooks) {
  // The candidate is the public listener's code; a shadow item is not a
  // customer waiting, so it may wait on the store longer than the deadline.
  const auto wait =
      std::max(kShadowDeadlines * std::chrono::milliseconds(options_.deadline_ms), kMinShadowWait);
  auto receiver = shadow::Receiver::Create(
      options_.shadow, [service = service_.get(), wait](std::string_view target, UnixNanos at,
                                                        http::Response* response) {
        service->AnswerAt(target, at, std::chrono::steady_clock::now() + wait, response);
      });
  if (!receiver.ok()) return WithContext("shadow", receiver.status());
  shadow_receiver_ = std::move(receiver).value();
  shadow::Receiver* r = shadow_receiver_.get();
  hooks->routes.push_back(
      {"POST", "/internal/shadow",
       [r](const http::Request& q, http::Response* a) { r->HandlePost(q, a); }});
  hooks->routes.push_back({"GET", "/admin/shadow",
                           [r](const http::Request&, http::Response* a) { r->HandleStatus(a); }});
  hooks->routes.push_back({"POST", "/admin/shadow/reset",
                           [r](const http::Request&, http::Response* a) { r->HandleReset(a); }});
  hooks->metrics = [base = std::move(hooks->metrics), r,
                    sender = shadow_sender_.get()](admin::MetricsWriter* out) {
    if (base) base(out);
    r->WriteMetrics(out);
    if (sender != nullptr) sender->WriteMetrics(out);
  };
  return Status::OK();
}

void Server::BeginWarmStart() {
  if (options_.warm_from.empty()) return;
  WarmStartOptions warm;
  warm.source = ParseWarmFrom(options_.warm_from).value();  // checked in PrepareOptions
  warm.from = options_.warm_from;
  warm.max_slices = options_.warm_slices;
  warm.timeout = std::chrono::milliseconds(options_.warm_timeout_ms);
  // As many loads at once as the origin reads at once; each may wait as an
  // explanation does (no customer waits on it).
  warm.warm.concurrency = options_.origin_threads;
  warm.warm.load_timeout =
      std::max(kShadowDeadlines * std::chrono::milliseconds(options_.deadline_ms), kMinShadowWait);
  if (tenant_groups_ != nullptr) {
    warm.warm.serves = [groups = tenant_groups_](std::string_view tenant) {
      return groups->Serves(tenant);
    };
  }
  warm_ = WarmStart::Begin(pages_.get(), std::move(warm));
}

// The admin listener's explain and cache routes (api/explain.h,
// api/cache_control.h).
void Server::AddCacheRoutes(admin::AdminHooks* hooks) {
  // An explanation is an operator waiting, not a customer: it may wait on the
  // store as long as a shadow item.
  const auto wait =
      std::max(kShadowDeadlines * std::chrono::milliseconds(options_.deadline_ms), kMinShadowWait);
  api::PageSource* pages = pages_.get();
  hooks->routes.push_back(
      {"GET", "/admin/explain", [pages, wait](const http::Request& q, http::Response* a) {
         const size_t mark = q.target.find('?');
         const std::string_view query =
             mark == std::string_view::npos ? std::string_view() : q.target.substr(mark + 1);
         api::Explain(pages, query, NowUnixNanos(), std::chrono::steady_clock::now() + wait, a);
       }});
  hooks->routes.push_back({"POST", "/admin/cache/invalidate",
                           [pages, l2 = l2_.get()](const http::Request& q, http::Response* a) {
                             api::HandleCacheInvalidate(pages, l2, q, a);
                           }});
  hooks->routes.push_back(
      {"GET", "/admin/cache/slices", [pages](const http::Request& q, http::Response* a) {
         api::HandleCachedSlices(*pages, q, a);
       }});
  hooks->routes.push_back(
      {"GET", "/admin/cache/hot",
       [pages](const http::Request& q, http::Response* a) { api::HandleHotSlices(*pages, q, a); }});
}

// The origin: the embedded primary, or a read-only view of a shared store.
Status Server::OpenStore() {
  Result<std::unique_ptr<origin::Origin>> origin = Status::Internal("unset");
  if (options_.embedded) {
    const std::string data_dir = options_.data_dir.empty() ? DefaultDataDir() : options_.data_dir;
    std::error_code ec;
    std::filesystem::create_directories(data_dir + "/store", ec);
    store_label_ = data_dir;
    origin = serve::OpenStore(data_dir + "/store");
    if (!HasStream(invalidations_)) invalidations_.log_dir = data_dir + "/log";
  } else {
    scratch_ = std::make_unique<ScratchDir>();
    if (scratch_->path().empty()) {
      return Status::IOError("cannot create a scratch directory in $TMPDIR");
    }
    store_label_ = RedactStoreUri(options_.store);
    ReadingOptions reading;
    reading.connections = options_.origin_threads;
    reading.statement_timeout =
        std::max(kStatementTimeoutDeadlines * std::chrono::milliseconds(options_.deadline_ms),
                 kMinStatementTimeout);
    // An unreachable store (PostgreSQL down) does not stop the start: the
    // instance serves what L2 holds, is not ready, and opens it when it can.
    origin = OpenLate([store = options_.store, scratch = scratch_->path(),
                       reading] { return OpenStoreForReading(store, scratch, reading); },
                      kStoreRetry, &late_store_);
  }
  if (!origin.ok()) return origin.status();
  origin_ = std::move(origin).value();
  return Status::OK();
}

void Server::Announce(std::ostream& out) const {
  const char* scheme = options_.tls.enabled() ? "https://" : "http://";
  out << "tempo serve: listening on " << scheme << http_options_.host << ":" << http_->port()
      << " (store " << store_label_;
  if (HasStream(invalidations_)) out << ", invalidations from " << DescribeStream(invalidations_);
  if (l2_ != nullptr) out << ", L2 " << options_.l2.servers;
  if (tenant_groups_ != nullptr) out << ", tenant group " << tenant_groups_->group();
  if (limiter_ != nullptr) out << ", tenant limits on";
  out << ")" << std::endl;
  if (admin_) out << "tempo serve: admin on port " << admin_->port() << std::endl;
  if (options_.embedded) {
    out << "try: curl '" << scheme << http_options_.host << ":" << http_->port()
        << "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage'" << std::endl;
  }
}

void Server::Drain() {
  if (draining_.exchange(true)) return;
  LogLine("serve", "draining: /readyz says so; serving " + std::to_string(options_.drain_ms) +
                       " ms more, then stopping");
  drain_thread_ = std::thread([this] {
    {
      MutexLock lock(&drain_mu_);
      const auto until =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.drain_ms);
      while (!stop_requested_ && std::chrono::steady_clock::now() < until) {
        drain_cv_.WaitUntil(&drain_mu_, until);
      }
    }
    Stop();
  });
}

void Server::Stop() {
  {
    MutexLock lock(&drain_mu_);
    stop_requested_ = true;
  }
  drain_cv_.SignalAll();
  if (http_) http_->Stop();
}

Status Server::ReloadTls() {
  Status public_status = http_ ? http_->ReloadTls() : Status::OK();
  Status admin_status = admin_ ? admin_->ReloadTls() : Status::OK();
  if (!public_status.ok()) return WithContext("--tls-cert", public_status);
  if (!admin_status.ok()) return WithContext("--admin-tls-cert", admin_status);
  return Status::OK();
}

void Server::Wait() {
  if (http_) http_->Wait();
}

Server::~Server() {
  if (drain_thread_.joinable()) {
    Stop();
    drain_thread_.join();
  }
  // The admin listener first: its hooks read every other part. The rest go
  // in the reverse of their declaration (start) order.
  if (admin_) {
    admin_->Stop();
    admin_->Wait();
  }
}

}  // namespace tempo::serve
