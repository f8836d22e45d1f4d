// Tests of RequestMetrics: routes, series by route/code/tier, answers by code, the tenant
// bound, the exposition, and Record from many threads.
#include "admin/request_metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace tempo::admin {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

// The lines of `text` that start with `prefix`, joined.
std::string LinesStartingWith(const std::string& text, std::string_view prefix) {
  std::string out;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = text.find('\n', at);
    const std::string_view line(text.data() + at,
                                (end == std::string::npos ? text.size() : end) - at);
    if (line.starts_with(prefix)) out.append(line).push_back('\n');
    at = end == std::string::npos ? text.size() : end + 1;
  }
  return out;
}

TEST(RouteTest, RoutesByExactPathWithoutTheQuery) {
  EXPECT_EQ(RouteOf("/api/v1/tempo/layouts"), Route::kLayoutsV1);
  EXPECT_EQ(RouteOf("/api/v1/tempo/layouts?tenant=A&channel=web"), Route::kLayoutsV1);
  EXPECT_EQ(RouteOf("/api/v2/tempo/layouts?tenant=A"), Route::kLayoutsV2);
  EXPECT_EQ(RouteOf("/healthz"), Route::kHealthz);
  EXPECT_EQ(RouteOf("/healthz?x=1"), Route::kHealthz);
  EXPECT_EQ(RouteOf("/healthz/"), Route::kOther);
  EXPECT_EQ(RouteOf("/api/v2/tempo/layouts/x"), Route::kOther);
  EXPECT_EQ(RouteOf("/API/v2/tempo/layouts"), Route::kOther);
  EXPECT_EQ(RouteOf(""), Route::kOther);
  EXPECT_EQ(RouteOf("?/healthz"), Route::kOther);
  EXPECT_EQ(RouteName(Route::kLayoutsV1), "layouts_v1");
  EXPECT_EQ(RouteName(Route::kLayoutsV2), "layouts_v2");
  EXPECT_EQ(RouteName(Route::kHealthz), "healthz");
  EXPECT_EQ(RouteName(Route::kOther), "other");
}

TEST(RequestMetricsTest, EachRouteCodeAndTierHasItsOwnSeries) {
  RequestMetrics metrics;
  metrics.Record(Route::kLayoutsV2, 200, "L1", "A", microseconds(20));
  metrics.Record(Route::kLayoutsV2, 200, "L1", "A", microseconds(70));
  metrics.Record(Route::kLayoutsV2, 200, "origin", "A", milliseconds(3));
  metrics.Record(Route::kLayoutsV2, 304, "L1", "A", microseconds(10));
  metrics.Record(Route::kLayoutsV1, 200, "L1", "A", microseconds(10));
  metrics.Record(Route::kOther, 404, "", "", microseconds(5));

  const HistogramSnapshot l1 = metrics.Durations(Route::kLayoutsV2, 200, "L1");
  EXPECT_EQ(l1.count, 2u);
  EXPECT_EQ(l1.bucket_counts[0], 1u);  // 20 µs <= 50 µs
  EXPECT_EQ(l1.bucket_counts[1], 1u);  // 70 µs <= 100 µs
  EXPECT_DOUBLE_EQ(l1.sum_seconds, 0.00009);
  EXPECT_EQ(metrics.Durations(Route::kLayoutsV2, 200, "origin").count, 1u);
  EXPECT_EQ(metrics.Durations(Route::kLayoutsV2, 304, "L1").count, 1u);
  EXPECT_EQ(metrics.Durations(Route::kLayoutsV1, 200, "L1").count, 1u);
  EXPECT_EQ(metrics.Durations(Route::kOther, 404, "").count, 1u);
  // Never recorded: no series.
  EXPECT_TRUE(metrics.Durations(Route::kLayoutsV2, 200, "L2").bounds.empty());
  EXPECT_TRUE(metrics.Durations(Route::kHealthz, 200, "").bounds.empty());

  EXPECT_EQ(metrics.Responses(200), 4u);
  EXPECT_EQ(metrics.Responses(304), 1u);
  EXPECT_EQ(metrics.Responses(404), 1u);
  EXPECT_EQ(metrics.Responses(500), 0u);
  EXPECT_EQ(metrics.TenantRequests("A"), 5u);
  EXPECT_EQ(metrics.TenantRequests("other"), 0u);
}

TEST(RequestMetricsTest, AnUnknownTierCountsAsNoneAndAnOddStatusAsOther) {
  RequestMetrics metrics;
  metrics.Record(Route::kLayoutsV2, 200, "L3", "", microseconds(1));
  metrics.Record(Route::kLayoutsV2, 200, "", "", microseconds(1));
  metrics.Record(Route::kOther, 0, "", "", microseconds(1));
  metrics.Record(Route::kOther, 1000, "", "", microseconds(1));
  EXPECT_EQ(metrics.Durations(Route::kLayoutsV2, 200, "").count, 2u);
  EXPECT_EQ(metrics.Durations(Route::kOther, 0, "").count, 2u);  // 0 and 1000 share "other"
  MetricsWriter writer;
  metrics.WriteMetrics(&writer);
  const std::string text = writer.Take();
  EXPECT_EQ(LinesStartingWith(text, "tempo_http_responses_total"),
            "tempo_http_responses_total{code=\"200\"} 2\n"
            "tempo_http_responses_total{code=\"other\"} 2\n");
  EXPECT_NE(text.find("tempo_request_duration_seconds_count{route=\"other\",code=\"other\","
                      "tier=\"\"} 2\n"),
            std::string::npos);
}

TEST(RequestMetricsTest, TenantsBeyondTheLimitFoldIntoOther) {
  RequestMetrics metrics(RequestMetricsOptions{.max_tenants = 2});
  metrics.Record(Route::kLayoutsV2, 200, "L1", "A", microseconds(1));
  metrics.Record(Route::kLayoutsV2, 200, "L1", "B", microseconds(1));
  metrics.Record(Route::kLayoutsV2, 200, "L1", "C", microseconds(1));  // the third: other
  metrics.Record(Route::kLayoutsV2, 200, "L1", "A", microseconds(1));
  metrics.Record(Route::kLayoutsV2, 200, "L1", "D", microseconds(1));
  metrics.Record(Route::kLayoutsV2, 200, "L1", "C", microseconds(1));
  metrics.Record(Route::kHealthz, 200, "", "", microseconds(1));  // no tenant: not counted
  EXPECT_EQ(metrics.TenantRequests("A"), 2u);
  EXPECT_EQ(metrics.TenantRequests("B"), 1u);
  EXPECT_EQ(metrics.TenantRequests("C"), 0u);
  EXPECT_EQ(metrics.TenantRequests("other"), 3u);

  MetricsWriter writer;
  metrics.WriteMetrics(&writer);
  EXPECT_EQ(LinesStartingWith(writer.Take(), "tempo_requests_by_tenant_total"),
            "tempo_requests_by_tenant_total{tenant=\"A\"} 2\n"
            "tempo_requests_by_tenant_total{tenant=\"B\"} 1\n"
            "tempo_requests_by_tenant_total{tenant=\"other\"} 3\n");
}

TEST(RequestMetricsTest, ATenantNamedOtherOrTooLongIsCountedAsOther) {
  RequestMetrics metrics(RequestMetricsOptions{.max_tenants = 5});
  metrics.Record(Route::kLayoutsV2, 200, "L1", "other", microseconds(1));
  metrics.Record(Route::kLayoutsV2, 200, "L1", std::string(kMaxTenantNameBytes + 1, 'x'),
                 microseconds(1));
  metrics.Record(Route::kLayoutsV2, 200, "L1", std::string(kMaxTenantNameBytes, 'y'),
                 microseconds(1));
  EXPECT_EQ(metrics.TenantRequests("other"), 2u);
  EXPECT_EQ(metrics.TenantRequests(std::string(kMaxTenantNameBytes, 'y')), 1u);
  MetricsWriter writer;
  metrics.WriteMetrics(&writer);
  // One series per label set: Prometheus rejects a scrape with two tenant="other".
  const std::string lines = LinesStartingWith(writer.Take(), "tempo_requests_by_tenant_total");
  EXPECT_EQ(lines, "tempo_requests_by_tenant_total{tenant=\"" +
                       std::string(kMaxTenantNameBytes, 'y') +
                       "\"} 1\ntempo_requests_by_tenant_total{tenant=\"other\"} 2\n");
}

TEST(RequestMetricsTest, ZeroMaxTenantsCountsEveryoneAsOther) {
  RequestMetrics metrics(RequestMetricsOptions{.max_tenants = 0});
  metrics.Record(Route::kLayoutsV2, 200, "L1", "A", microseconds(1));
  metrics.Record(Route::kLayoutsV2, 200, "L1", "B", microseconds(1));
  EXPECT_EQ(metrics.TenantRequests("A"), 0u);
  EXPECT_EQ(metrics.TenantRequests("other"), 2u);
}

TEST(RequestMetricsTest, TheExpositionOfOneRequest) {
  RequestMetrics metrics;
  metrics.Record(Route::kLayoutsV2, 200, "L2", "ACME", microseconds(300));
  MetricsWriter writer;
  metrics.WriteMetrics(&writer);
  const std::string labels = "route=\"layouts_v2\",code=\"200\",tier=\"L2\"";
  std::string expected =
      "# HELP tempo_request_duration_seconds Public listener requests, from their head complete "
      "to their answer ready, by route, status code and the tier that answered\n"
      "# TYPE tempo_request_duration_seconds histogram\n";
  const char* const bounds[] = {"0.00005", "0.0001", "0.00025", "0.0005", "0.001",
                                "0.0025",  "0.005",  "0.01",    "0.025",  "0.05",
                                "0.1",     "0.25",   "0.5",     "1",      "+Inf"};
  for (int i = 0; i < 15; ++i) {
    expected += "tempo_request_duration_seconds_bucket{" + labels + ",le=\"" + bounds[i] + "\"} " +
                (i < 3 ? "0" : "1") + "\n";
  }
  expected += "tempo_request_duration_seconds_sum{" + labels + "} 3e-04\n";
  expected += "tempo_request_duration_seconds_count{" + labels + "} 1\n";
  expected +=
      "# HELP tempo_http_responses_total Answers of the public listener by status code (the "
      "server's own included)\n"
      "# TYPE tempo_http_responses_total counter\n"
      "tempo_http_responses_total{code=\"200\"} 1\n"
      "# HELP tempo_requests_by_tenant_total Public listener requests by tenant: the first "
      "--metrics-max-tenants tenants seen by name, every later one as \"other\"\n"
      "# TYPE tempo_requests_by_tenant_total counter\n"
      "tempo_requests_by_tenant_total{tenant=\"ACME\"} 1\n"
      "tempo_requests_by_tenant_total{tenant=\"other\"} 0\n";
  EXPECT_EQ(writer.Take(), expected);
}

TEST(RequestMetricsTest, RecordFromManyThreadsCountsEveryRequest) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10'000;
  constexpr size_t kMaxTenants = 20;
  RequestMetrics metrics(RequestMetricsOptions{.max_tenants = kMaxTenants});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      const int codes[] = {200, 304, 404, 503};
      const char* const tiers[] = {"L1", "L2", "origin", ""};
      for (int i = 0; i < kPerThread; ++i) {
        // 40 tenants race for 20 names; every thread creates series concurrently.
        const std::string tenant = "t" + std::to_string((i + t) % 40);
        metrics.Record(i % 2 ? Route::kLayoutsV2 : Route::kLayoutsV1, codes[i % 4],
                       tiers[(i / 4) % 4], tenant, microseconds(i % 100));
      }
    });
  }
  // Expositions while they run (TSan: creating series and naming tenants against reads).
  for (int i = 0; i < 20; ++i) {
    MetricsWriter writer;
    metrics.WriteMetrics(&writer);
    EXPECT_FALSE(writer.Take().empty());
  }
  for (std::thread& thread : threads) thread.join();

  constexpr uint64_t kTotal = uint64_t{kThreads} * kPerThread;
  EXPECT_EQ(metrics.Responses(200) + metrics.Responses(304) + metrics.Responses(404) +
                metrics.Responses(503),
            kTotal);
  EXPECT_EQ(metrics.Responses(200), kTotal / 4);
  uint64_t by_tenant = metrics.TenantRequests("other");
  size_t named = 0;
  for (int i = 0; i < 40; ++i) {
    const uint64_t n = metrics.TenantRequests("t" + std::to_string(i));
    if (n > 0) ++named;
    by_tenant += n;
  }
  EXPECT_EQ(named, kMaxTenants);
  EXPECT_EQ(by_tenant, kTotal);
}

}  // namespace
}  // namespace tempo::admin
