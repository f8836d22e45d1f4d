// The processes' metrics and cache report.
#include "serve/process_metrics.h"

#include <utility>
#include <vector>

#include "admin/process_stats.h"
#include "common/bug.h"
#include "common/version.h"

namespace tempo::serve {
namespace {

void CacheMetrics(const char* cache, const cache::CacheStats& s, admin::MetricsWriter* out) {
  const admin::Labels labels = {{"cache", cache}};
  out->Counter("tempo_cache_hits_total", "Fresh values returned by an in-process cache", s.hits,
               labels);
  out->Counter("tempo_cache_stale_served_total",
               "Expired values served while refreshed or while the origin failed", s.stale_served,
               labels);
  out->Counter("tempo_cache_misses_total", "Lookups that found no usable value", s.misses, labels);
  out->Counter("tempo_cache_loads_total", "Loads on the request path", s.loads, labels);
  out->Counter("tempo_cache_load_failures_total", "Loads on the request path that failed",
               s.load_failures, labels);
  out->Counter("tempo_cache_load_timeouts_total", "Waits for another request's load that timed out",
               s.load_timeouts, labels);
  out->Counter("tempo_cache_refreshes_total", "Background refreshes", s.refreshes, labels);
  out->Counter("tempo_cache_refresh_failures_total", "Background refreshes that failed",
               s.refresh_failures, labels);
  out->Counter("tempo_cache_evictions_total", "Entries evicted to respect the capacity",
               s.evictions, labels);
  out->Counter("tempo_cache_admissions_rejected_total",
               "New entries evicted instead of their victim (W-TinyLFU)", s.admissions_rejected,
               labels);
  out->Counter("tempo_cache_expirations_total", "Entries removed past max-stale", s.expirations,
               labels);
  out->Counter("tempo_cache_invalidations_total", "Entries expired by invalidations",
               s.invalidations, labels);
  out->Counter("tempo_cache_shifts_total",
               "Workload shifts detected: a shard's policy forgot its frequencies", s.shifts,
               labels);
  out->Gauge("tempo_cache_bytes", "Bytes charged to resident entries", s.bytes, labels);
  out->Gauge("tempo_cache_entries", "Resident entries", s.entries, labels);
}

// One JSON object of name/number pairs.
std::string Object(const std::vector<std::pair<const char*, uint64_t>>& fields) {
  std::string json = "{";
  for (const auto& [name, value] : fields) {
    if (json.size() > 1) json += ',';
    json += '"';
    json += name;
    json += "\":";
    json += std::to_string(value);
  }
  return json + "}";
}

std::string CacheObject(const cache::CacheStats& s) {
  return Object({{"hits", s.hits},
                 {"stale_served", s.stale_served},
                 {"misses", s.misses},
                 {"loads", s.loads},
                 {"load_failures", s.load_failures},
                 {"evictions", s.evictions},
                 {"admissions_rejected", s.admissions_rejected},
                 {"invalidations", s.invalidations},
                 {"shifts", s.shifts},
                 {"bytes", s.bytes},
                 {"entries", s.entries}});
}

}  // namespace

void WriteProcessMetrics(const ProcessParts& parts, admin::MetricsWriter* out) {
  out->Gauge("tempo_build_info", "The running release and git commit, as labels; always 1", 1,
             {{"version", Version()}, {"commit", GitCommit()}});
  admin::WriteProcessMetrics(out);  // process_cpu_seconds_total, ...
  if (parts.requests != nullptr) parts.requests->WriteMetrics(out);
  if (parts.access_log != nullptr) {
    const http::AccessLogStats a = parts.access_log->Stats();
    out->Counter("tempo_access_log_lines_written_total", "Access log lines written out",
                 a.lines_written);
    out->Counter("tempo_access_log_lines_dropped_total",
                 "Access log lines lost: the disk fell too far behind, or a write failed",
                 a.lines_dropped);
  }
  // TEMPO_BUG failures (common/bug.h), by site: each one is a bug to report.
  for (const auto& [site, count] : BugCounts()) {
    out->Counter("tempo_bugs_total", "Failed TEMPO_BUG checks (bugs in Tempo), by site", count,
                 {{"site", site}});
  }
  if (!parts.tenant_group.empty()) {
    out->Gauge("tempo_tenant_group_info",
               "The tenant group this instance serves (--tenant-group), as a label; always 1", 1,
               {{"group", parts.tenant_group}});
  }
  if (parts.service != nullptr) {
    const api::ServiceStats s = parts.service->Stats();
    // The HTTP layer's own answers (malformed requests, deferred requests
    // answered at their deadline) count with the service's.
    http::ServerStats h;
    if (parts.server != nullptr) h = parts.server->Stats();
    uint64_t own_4xx = 0, own_5xx = 0, own_503 = 0;
    for (const auto& [status, n] : h.own_responses) {
      if (status == 503) {
        own_503 += n;
      } else if (status >= 400 && status < 500) {
        own_4xx += n;
      } else if (status >= 500) {
        own_5xx += n;
      }
    }
    const char* const help = "Responses of the public listener by status";
    out->Counter("tempo_responses_total", help, s.ok, {{"code", "200"}});
    out->Counter("tempo_responses_total", help, s.not_modified, {{"code", "304"}});
    out->Counter("tempo_responses_total", help, s.client_errors + own_4xx, {{"code", "4xx"}});
    out->Counter("tempo_responses_total", help, own_5xx, {{"code", "500"}});
    out->Counter("tempo_responses_total", help, s.unavailable + own_503, {{"code", "503"}});
    if (parts.server != nullptr) {
      out->Gauge("tempo_http_connections", "Open connections of the public listener",
                 static_cast<double>(h.connections_open));
      out->Counter("tempo_http_connections_accepted_total", "Connections accepted",
                   h.connections_accepted);
      out->Counter("tempo_http_connections_rejected_total",
                   "Connections closed at once: over --max-connections", h.connections_rejected);
      out->Counter("tempo_http_accept_failures_total",
                   "Failed accepts (for example out of descriptors)", h.accept_failures);
      out->Counter("tempo_http_deadline_fallbacks_total",
                   "Waiting requests answered 503 by the listener at their deadline", h.fallbacks);
      out->Counter("tempo_http_tls_handshakes_total",
                   "TLS handshakes completed on the public listener", h.tls_handshakes);
      out->Counter("tempo_http_tls_handshake_failures_total",
                   "TLS handshakes that failed or timed out on the public listener (no or "
                   "wrong client certificate, plain HTTP, an old protocol)",
                   h.tls_handshake_failures);
      out->Counter("tempo_http_header_timeouts_total",
                   "Connections closed because a request (or the client's reading of an "
                   "answer) did not complete within --header-timeout-ms",
                   h.header_timeouts);
      out->Counter("tempo_http_idle_timeouts_total",
                   "Keep-alive connections closed after --idle-timeout-ms without a request",
                   h.idle_timeouts);
      out->Counter("tempo_http_connection_errors_total",
                   "Connections that ended in a read or write error (reset, broken pipe) "
                   "mid-request or mid-answer",
                   h.connection_errors);
    }
    out->Counter("tempo_wrong_tenant_group_total",
                 "Layout requests for another tenant group's tenant (421, also in 4xx)",
                 s.wrong_group);
    out->Counter("tempo_rate_limited_total",
                 "Layout requests over their tenant's rate (429, also in 4xx)", s.rate_limited);
    const api::BlockingPoolStats w = parts.service->WaitingStats();
    out->Counter("tempo_waiting_requests_total",
                 "Requests that had to wait for L2 or the origin (run off the serving threads)",
                 w.tasks);
    out->Counter("tempo_waiting_requests_refused_total",
                 "Waiting requests answered 503 at once: too many were waiting", w.refused);
    const char* const tier_help = "Layouts served (200 and 304) by the tier that answered";
    out->Counter("tempo_layouts_total", tier_help, s.from_l1, {{"tier", "L1"}});
    out->Counter("tempo_layouts_total", tier_help, s.from_l2, {{"tier", "L2"}});
    out->Counter("tempo_layouts_total", tier_help, s.from_origin, {{"tier", "origin"}});
    out->Counter("tempo_layout_memo_hits_total",
                 "Layouts (of those) answered from the answer memo: a repeated query whose "
                 "slices and schedule span were unchanged",
                 s.from_memo);
  }
  if (parts.pages != nullptr) {
    CacheMetrics("slices", parts.pages->L1Stats(), out);
    CacheMetrics("tenants", parts.pages->TenantCacheStats(), out);
    const api::OriginReaderStats o = parts.pages->origin_reader().Stats();
    out->Counter("tempo_origin_reads_total", "Origin reads answered in time", o.reads);
    out->Counter("tempo_origin_read_failures_total", "Origin reads answered with an error",
                 o.failures);
    out->Counter("tempo_origin_read_timeouts_total", "Origin reads not answered by the deadline",
                 o.timeouts);
    out->Counter("tempo_origin_reads_shed_total", "Origin reads refused: too many pending", o.shed);
    out->Counter("tempo_origin_reads_tenant_shed_total",
                 "Origin reads refused: their tenant held its share of the queue "
                 "(--origin-tenant-share; also in tempo_origin_reads_shed_total)",
                 o.tenant_shed);
    out->Gauge("tempo_origin_reads_pending", "Origin reads queued or running",
               static_cast<double>(o.pending));
    out->Gauge("tempo_origin_reachable", "1 while the origin answers, 0 from a failure on",
               o.reachable ? 1 : 0);
    out->Histogram("tempo_origin_read_duration_seconds",
                   "Origin reads run by the reader threads (the probe's included), from start to "
                   "result",
                   o.read_latency);
  }
  if (const api::TenantLimiter* limiter = parts.service ? parts.service->limiter() : nullptr) {
    out->Gauge("tempo_tenant_limiter_buckets", "Tenants with a rate-limit bucket now",
               static_cast<double>(limiter->Stats().tenants));
  }
  if (parts.l2 != nullptr) {
    const l2::L2Stats s = parts.l2->Stats();
    out->Counter("tempo_l2_hits_total", "L2 gets that found a valid value", s.hits);
    out->Counter("tempo_l2_misses_total", "L2 gets that found nothing usable", s.misses);
    out->Counter("tempo_l2_corrupt_total", "L2 values that failed to decode (misses too)",
                 s.corrupt);
    out->Counter("tempo_l2_errors_total", "L2 calls that failed (timeout, node down)", s.errors);
    out->Counter("tempo_l2_sets_total", "L2 values stored", s.sets);
    out->Histogram("tempo_l2_read_duration_seconds",
                   "L2 reads that asked a node, from the request to the decoded rows or the error",
                   s.read_latency);
    out->Counter("tempo_l2_adds_existing_total", "L2 fills that found a value already there",
                 s.adds_existing);
    out->Counter("tempo_l2_deletes_total", "L2 deletes answered", s.deletes);
    out->Counter("tempo_l2_suspensions_total",
                 "L2 nodes suspended after a timeout (their keys go to the origin)", s.suspensions);
    out->Counter("tempo_l2_repairs_total", "Undecodable L2 values replaced by compare-and-swap",
                 s.repairs);
    out->Counter("tempo_l2_repairs_conflicted_total",
                 "L2 repairs that found the value changed since it was read (kept it)",
                 s.repairs_conflicted);
  }
  if (parts.listener != nullptr) {
    const api::InvalidationStats s = parts.listener->Stats();
    out->Counter("tempo_invalidations_received_total", "Invalidation messages read", s.received);
    out->Counter("tempo_invalidations_evicted_total", "Slices dropped from L1 by invalidations",
                 s.evicted);
    out->Counter("tempo_invalidations_malformed_total", "Invalidation messages that did not decode",
                 s.malformed);
    out->Counter("tempo_invalidations_drops_total", "Operators' drops applied (`tempo invalidate`)",
                 s.drops);
    out->Counter("tempo_invalidations_ignored_total",
                 "Invalidations of tenants another tenant group serves (skipped)", s.ignored);
    out->Counter("tempo_invalidations_poll_failures_total",
                 "Failed reads of the invalidation stream", s.poll_failures);
    out->Counter("tempo_invalidations_catch_up_failures_total",
                 "Failed catch-ups of the origin view", s.catch_up_failures);
  }
  if (parts.sync_stats) {
    const sync::SyncStats s = parts.sync_stats();
    out->Counter("tempo_sync_events_total", "Content events processed", s.events);
    out->Counter("tempo_sync_applied_total", "Content events applied", s.applied);
    out->Counter("tempo_sync_stale_total", "Content events not newer than the stored record",
                 s.stale);
    out->Counter("tempo_sync_invalid_total", "Content events sent to the DLQ", s.invalid);
    out->Counter("tempo_sync_batches_total", "Batches committed", s.batches);
    out->Counter("tempo_sync_recovered_invalidations_total",
                 "Invalidations owed by a previous process (its outbox), sent at start",
                 s.recovered_invalidations);
    out->Counter("tempo_sync_origin_retries_total", "Failed origin writes retried",
                 s.origin_retries);
    out->Counter("tempo_sync_producer_retries_total", "Failed DLQ/invalidation sends retried",
                 s.producer_retries);
    out->Gauge("tempo_sync_lag", "Content events not yet consumed (-1: unknown)", s.lag);
    out->Gauge("tempo_sync_last_batch_seconds", "First decode to commit of the last batch",
               static_cast<double>(s.last_batch_total_us) / 1e6);
    out->Histogram("tempo_sync_apply_lag_seconds",
                   "Applied content events, from their publishedAt to their apply", s.apply_lag);
    out->Counter("tempo_log_retention_deleted_segments_total",
                 "Embedded log segments deleted by retention (--log-retention-bytes/-hours)",
                 s.log_retention_deleted_segments);
    out->Counter("tempo_log_retention_deleted_bytes_total",
                 "Bytes of the embedded log segments deleted by retention",
                 s.log_retention_deleted_bytes);
    out->Counter("tempo_sync_apply_lag_unknown_total",
                 "Applied content events without a valid publishedAt (not in "
                 "tempo_sync_apply_lag_seconds)",
                 s.apply_lag_unknown);
  }
  if (parts.rewriter != nullptr) {
    const l2::RewriteStats s = parts.rewriter->Stats();
    const char* const help = "Touched slices after sync batches, by what happened in L2";
    out->Counter("tempo_sync_l2_slices_total", help, s.rewritten, {{"result", "rewritten"}});
    out->Counter("tempo_sync_l2_slices_total", help, s.deleted, {{"result", "deleted"}});
    out->Counter("tempo_sync_l2_slices_total", help, s.failed, {{"result", "failed"}});
  }
}

std::string CacheReportJson(const ProcessParts& parts) {
  std::string json = "{";
  if (parts.pages != nullptr) {
    json += "\"l1\":" + CacheObject(parts.pages->L1Stats());
    json += ",\"tenants\":" + CacheObject(parts.pages->TenantCacheStats());
    const api::OriginReaderStats o = parts.pages->origin_reader().Stats();
    json += ",\"origin\":" + Object({{"reads", o.reads},
                                     {"failures", o.failures},
                                     {"timeouts", o.timeouts},
                                     {"shed", o.shed},
                                     {"reachable", o.reachable ? 1 : 0}});
    json += ',';
  }
  json += "\"l2\":";
  if (parts.l2 == nullptr) {
    json += "null";
  } else {
    const l2::L2Stats s = parts.l2->Stats();
    json += Object({{"hits", s.hits},
                    {"misses", s.misses},
                    {"corrupt", s.corrupt},
                    {"errors", s.errors},
                    {"sets", s.sets},
                    {"adds_existing", s.adds_existing},
                    {"deletes", s.deletes},
                    {"suspensions", s.suspensions},
                    {"repairs", s.repairs}});
  }
  return json + "}";
}

admin::AdminHooks ReportingHooks(const ProcessParts& parts) {
  admin::AdminHooks hooks;
  hooks.metrics = [&parts](admin::MetricsWriter* out) { WriteProcessMetrics(parts, out); };
  hooks.cache_json = [&parts] { return CacheReportJson(parts); };
  return hooks;
}

}  // namespace tempo::serve
