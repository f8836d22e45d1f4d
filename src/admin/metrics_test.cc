// Tests of MetricsWriter: the exact text it renders.
#include "admin/metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

namespace tempo::admin {
namespace {

TEST(MetricsWriterTest, EmptyWriterRendersNothing) {
  MetricsWriter writer;
  EXPECT_EQ(writer.Take(), "");
}

TEST(MetricsWriterTest, CounterAndGauge) {
  MetricsWriter writer;
  writer.Counter("tempo_requests_total", "Requests answered.", 42);
  writer.Gauge("tempo_l1_bytes", "Bytes held by L1.", 1.5);
  EXPECT_EQ(writer.Take(),
            "# HELP tempo_requests_total Requests answered.\n"
            "# TYPE tempo_requests_total counter\n"
            "tempo_requests_total 42\n"
            "# HELP tempo_l1_bytes Bytes held by L1.\n"
            "# TYPE tempo_l1_bytes gauge\n"
            "tempo_l1_bytes 1.5\n");
}

TEST(MetricsWriterTest, EmptyHelpOmitsHelpLine) {
  MetricsWriter writer;
  writer.Gauge("up", "", 1);
  EXPECT_EQ(writer.Take(), "# TYPE up gauge\nup 1\n");
}

TEST(MetricsWriterTest, TakeEmptiesTheWriter) {
  MetricsWriter writer;
  writer.Gauge("up", "Up.", 1);
  EXPECT_NE(writer.Take(), "");
  EXPECT_EQ(writer.Take(), "");
  writer.Gauge("up", "Up again.", 0);
  EXPECT_EQ(writer.Take(), "# HELP up Up again.\n# TYPE up gauge\nup 0\n");
}

TEST(MetricsWriterTest, LabelledSamplesOfAFamilyAreGroupedUnderOneHeader) {
  MetricsWriter writer;
  writer.Counter("hits_total", "Hits by tier.", 1, {{"tier", "l1"}});
  writer.Gauge("entries", "Entries.", 7);
  writer.Counter("hits_total", "ignored: the first help wins", 2, {{"tier", "l2"}});
  writer.Counter("hits_total", "", 3, {{"tier", "origin"}, {"stale", "true"}});
  EXPECT_EQ(writer.Take(),
            "# HELP hits_total Hits by tier.\n"
            "# TYPE hits_total counter\n"
            "hits_total{tier=\"l1\"} 1\n"
            "hits_total{tier=\"l2\"} 2\n"
            "hits_total{tier=\"origin\",stale=\"true\"} 3\n"
            "# HELP entries Entries.\n"
            "# TYPE entries gauge\n"
            "entries 7\n");
}

TEST(MetricsWriterTest, LabelValuesAndHelpAreEscaped) {
  MetricsWriter writer;
  writer.Gauge("g", "A \\ back\nslash and \"quote\".", 1,
               {{"path", "C:\\dir\n\"x\""}, {"utf8", "caf\xc3\xa9"}});
  EXPECT_EQ(writer.Take(),
            "# HELP g A \\\\ back\\nslash and \"quote\".\n"
            "# TYPE g gauge\n"
            "g{path=\"C:\\\\dir\\n\\\"x\\\"\",utf8=\"caf\xc3\xa9\"} 1\n");
}

TEST(MetricsWriterTest, IntegersArePrintedExactly) {
  MetricsWriter writer;
  // 2^64 - 1 and 2^53 + 1 are not representable as doubles.
  writer.Counter("big_total", "", std::numeric_limits<uint64_t>::max());
  writer.Counter("odd_total", "", (uint64_t{1} << 53) + 1);
  writer.Gauge("min", "", std::numeric_limits<int64_t>::min());
  writer.Gauge("small", "", int8_t{-3});
  writer.Gauge("flag", "", true);
  EXPECT_EQ(writer.Take(),
            "# TYPE big_total counter\nbig_total 18446744073709551615\n"
            "# TYPE odd_total counter\nodd_total 9007199254740993\n"
            "# TYPE min gauge\nmin -9223372036854775808\n"
            "# TYPE small gauge\nsmall -3\n"
            "# TYPE flag gauge\nflag 1\n");
}

TEST(MetricsWriterTest, DoublesRoundTripAndSpecialValuesAreSpelledForPrometheus) {
  MetricsWriter writer;
  writer.Gauge("a", "", 0.1);
  writer.Gauge("b", "", 1e300);
  writer.Gauge("c", "", -2.5e-7);
  writer.Gauge("d", "", 3.0);
  writer.Gauge("e", "", 0.1f);  // a float is widened, not truncated to an integer
  writer.Gauge("nan", "", std::nan(""));
  writer.Gauge("inf", "", std::numeric_limits<double>::infinity());
  writer.Gauge("ninf", "", -std::numeric_limits<double>::infinity());
  EXPECT_EQ(writer.Take(),
            "# TYPE a gauge\na 0.1\n"
            "# TYPE b gauge\nb 1e+300\n"
            "# TYPE c gauge\nc -2.5e-07\n"
            "# TYPE d gauge\nd 3\n"
            "# TYPE e gauge\ne 0.10000000149011612\n"
            "# TYPE nan gauge\nnan NaN\n"
            "# TYPE inf gauge\ninf +Inf\n"
            "# TYPE ninf gauge\nninf -Inf\n");
}

TEST(MetricsWriterTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  HistogramSnapshot snapshot;
  snapshot.bounds = {std::chrono::microseconds(50), std::chrono::microseconds(2500),
                     std::chrono::seconds(1), std::chrono::seconds(60)};
  snapshot.bucket_counts = {3, 0, 2, 1, 4};  // 4 above the last bound
  snapshot.count = 10;
  snapshot.sum_seconds = 250.5;
  MetricsWriter writer;
  writer.Histogram("tempo_request_duration_seconds", "Request durations.", snapshot,
                   {{"route", "layouts_v2"}, {"code", "200"}});
  writer.Histogram("tempo_request_duration_seconds", "",
                   HistogramSnapshot{snapshot.bounds, {0, 0, 0, 0, 0}, 0, 0.0},
                   {{"route", "healthz"}, {"code", "200"}});
  EXPECT_EQ(
      writer.Take(),
      "# HELP tempo_request_duration_seconds Request durations.\n"
      "# TYPE tempo_request_duration_seconds histogram\n"
      "tempo_request_duration_seconds_bucket{route=\"layouts_v2\",code=\"200\",le=\"0.00005\"} 3\n"
      "tempo_request_duration_seconds_bucket{route=\"layouts_v2\",code=\"200\",le=\"0.0025\"} 3\n"
      "tempo_request_duration_seconds_bucket{route=\"layouts_v2\",code=\"200\",le=\"1\"} 5\n"
      "tempo_request_duration_seconds_bucket{route=\"layouts_v2\",code=\"200\",le=\"60\"} 6\n"
      "tempo_request_duration_seconds_bucket{route=\"layouts_v2\",code=\"200\",le=\"+Inf\"} 10\n"
      "tempo_request_duration_seconds_sum{route=\"layouts_v2\",code=\"200\"} 250.5\n"
      "tempo_request_duration_seconds_count{route=\"layouts_v2\",code=\"200\"} 10\n"
      "tempo_request_duration_seconds_bucket{route=\"healthz\",code=\"200\",le=\"0.00005\"} 0\n"
      "tempo_request_duration_seconds_bucket{route=\"healthz\",code=\"200\",le=\"0.0025\"} 0\n"
      "tempo_request_duration_seconds_bucket{route=\"healthz\",code=\"200\",le=\"1\"} 0\n"
      "tempo_request_duration_seconds_bucket{route=\"healthz\",code=\"200\",le=\"60\"} 0\n"
      "tempo_request_duration_seconds_bucket{route=\"healthz\",code=\"200\",le=\"+Inf\"} 0\n"
      "tempo_request_duration_seconds_sum{route=\"healthz\",code=\"200\"} 0\n"
      "tempo_request_duration_seconds_count{route=\"healthz\",code=\"200\"} 0\n");
}

TEST(MetricsWriterTest, HistogramWithoutLabelsOfAHistogramObject) {
  Histogram histogram(kRequestDurationBounds);
  histogram.Observe(std::chrono::microseconds(30));   // le 0.00005
  histogram.Observe(std::chrono::microseconds(100));  // le 0.0001: a bound is inclusive
  histogram.Observe(std::chrono::seconds(3));         // +Inf only
  MetricsWriter writer;
  writer.Histogram("h_seconds", "", histogram.Snapshot());
  EXPECT_EQ(writer.Take(),
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"0.00005\"} 1\n"
            "h_seconds_bucket{le=\"0.0001\"} 2\n"
            "h_seconds_bucket{le=\"0.00025\"} 2\n"
            "h_seconds_bucket{le=\"0.0005\"} 2\n"
            "h_seconds_bucket{le=\"0.001\"} 2\n"
            "h_seconds_bucket{le=\"0.0025\"} 2\n"
            "h_seconds_bucket{le=\"0.005\"} 2\n"
            "h_seconds_bucket{le=\"0.01\"} 2\n"
            "h_seconds_bucket{le=\"0.025\"} 2\n"
            "h_seconds_bucket{le=\"0.05\"} 2\n"
            "h_seconds_bucket{le=\"0.1\"} 2\n"
            "h_seconds_bucket{le=\"0.25\"} 2\n"
            "h_seconds_bucket{le=\"0.5\"} 2\n"
            "h_seconds_bucket{le=\"1\"} 2\n"
            "h_seconds_bucket{le=\"+Inf\"} 3\n"
            "h_seconds_sum 3.00013\n"
            "h_seconds_count 3\n");
}

TEST(SampleValueTest, CounterValidity) {
  EXPECT_TRUE(SampleValue(0).IsValidCounter());
  EXPECT_TRUE(SampleValue(uint64_t{5}).IsValidCounter());
  EXPECT_TRUE(SampleValue(2.5).IsValidCounter());
  EXPECT_TRUE(SampleValue(std::numeric_limits<double>::infinity()).IsValidCounter());
  EXPECT_FALSE(SampleValue(-1).IsValidCounter());
  EXPECT_FALSE(SampleValue(-0.5).IsValidCounter());
  EXPECT_FALSE(SampleValue(std::nan("")).IsValidCounter());
}

TEST(MetricNamesTest, MetricNames) {
  EXPECT_TRUE(IsValidMetricName("tempo_requests_total"));
  EXPECT_TRUE(IsValidMetricName("_x"));
  EXPECT_TRUE(IsValidMetricName("job:rate5m"));
  EXPECT_TRUE(IsValidMetricName("A9"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("9lives"));
  EXPECT_FALSE(IsValidMetricName("tempo-requests"));
  EXPECT_FALSE(IsValidMetricName("a b"));
  EXPECT_FALSE(IsValidMetricName("caf\xc3\xa9"));
}

TEST(MetricNamesTest, LabelNames) {
  EXPECT_TRUE(IsValidLabelName("tier"));
  EXPECT_TRUE(IsValidLabelName("_private"));
  EXPECT_TRUE(IsValidLabelName("code2"));
  EXPECT_FALSE(IsValidLabelName(""));
  EXPECT_FALSE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("2xx"));
}

// The caller's mistakes stop debug builds; release builds run on (EXPECT_DEBUG_DEATH then
// only executes the statement).
TEST(MetricsWriterDeathTest, MisuseFailsDebugBuilds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  MetricsWriter writer;
  EXPECT_DEBUG_DEATH(writer.Gauge("tempo-bytes", "", 1), "IsValidMetricName");
  EXPECT_DEBUG_DEATH(writer.Gauge("g", "", 1, {{"__name__", "x"}}), "IsValidLabelName");
  EXPECT_DEBUG_DEATH(writer.Counter("c_total", "", -1), "IsValidCounter");
  writer.Gauge("both", "", 1);
  EXPECT_DEBUG_DEATH(writer.Counter("both", "", 1), "type");
  HistogramSnapshot snapshot;
  snapshot.bounds = {std::chrono::milliseconds(1)};
  snapshot.bucket_counts = {0, 0};
  EXPECT_DEBUG_DEATH(writer.Histogram("both", "", snapshot), "type");
  EXPECT_DEBUG_DEATH(writer.Histogram("h_seconds", "", snapshot, {{"le", "1"}}), "le");
}

}  // namespace
}  // namespace tempo::admin
