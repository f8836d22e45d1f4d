// What `tempo serve` and `tempo sync` report on their admin listeners:
// /metrics (Prometheus text) and /admin/cache (JSON), read from the
// components' counters.
#pragma once

#include <string>

#include "admin/admin_service.h"
#include "admin/metrics.h"
#include "admin/request_metrics.h"
#include "api/invalidation_listener.h"
#include "api/page_source.h"
#include "api/service.h"
#include "api/tenant_limiter.h"
#include "http/access_log.h"
#include "http/server.h"
#include "l2/l2.h"
#include "l2/slice_rewriter.h"
#include "sync/syncer.h"

namespace tempo::serve {

// The parts of a running process; null for those it does not have.
struct ProcessParts {
  const api::LayoutService* service = nullptr;
  const admin::RequestMetrics* requests = nullptr;  // the public listener's answers
  const http::AccessLog* access_log = nullptr;      // when on
  const http::Server* server = nullptr;             // the public listener
  const api::PageSource* pages = nullptr;
  const l2::L2Client* l2 = nullptr;
  const api::InvalidationListener* listener = nullptr;
  // The sync loop (`tempo sync`, or serve --embedded's in-process one).
  std::function<sync::SyncStats()> sync_stats;
  const l2::SliceRewriter* rewriter = nullptr;  // sync's L2 rewrites
  // The tenant group served (`tempo serve --tenant-group`), or empty.
  std::string tenant_group;
};

// Appends every counter and gauge of `parts` (names start with tempo_).
void WriteProcessMetrics(const ProcessParts& parts, admin::MetricsWriter* out);

// {"l1":{...},"tenants":{...},"l2":{...} or null,"origin":{...}}
std::string CacheReportJson(const ProcessParts& parts);

// The admin hooks that report `parts` (/metrics and /admin/cache); the
// caller adds `ready` when it has a readiness rule. REQUIRES: parts outlives
// the hooks.
admin::AdminHooks ReportingHooks(const ProcessParts& parts);

}  // namespace tempo::serve
