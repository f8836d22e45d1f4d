// Tests of the --json document, the summary and the progress line.
#include "loadgen/report.h"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace tempo::loadgen {
namespace {

LoadReport SampleReport() {
  LoadReport r;
  r.requested_rate_per_s = 1000;
  r.duration = std::chrono::seconds(10);
  r.requests = 9000;
  r.achieved_rate_per_s = 900;
  r.unsent = 1000;
  r.errors = {.connect = 1, .timeout = 2, .io = 3, .status_4xx = 4, .status_5xx = 5};
  r.latency_us.RecordN(200, 8910);
  r.latency_us.RecordN(90'000, 90);
  r.service_time_us.RecordN(150, 9000);
  return r;
}

TEST(ReportTest, JsonHasTheDocumentedShape) {
  const LoadReport r = SampleReport();
  const std::string json = RenderJson(r, /*with_service_time=*/true);
  ASSERT_TRUE(json.ends_with("}\n"));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(json).get(doc)) << json;
  EXPECT_EQ(doc["requested_rate"].get_double().value(), 1000);
  EXPECT_EQ(doc["achieved_rate"].get_double().value(), 900);
  EXPECT_EQ(doc["requests"].get_int64().value(), 9000);
  EXPECT_EQ(doc["unsent"].get_int64().value(), 1000);
  EXPECT_EQ(doc["errors"]["connect"].get_int64().value(), 1);
  EXPECT_EQ(doc["errors"]["timeout"].get_int64().value(), 2);
  EXPECT_EQ(doc["errors"]["io"].get_int64().value(), 3);
  EXPECT_EQ(doc["errors"]["status_4xx"].get_int64().value(), 4);
  EXPECT_EQ(doc["errors"]["status_5xx"].get_int64().value(), 5);
  simdjson::dom::element latency = doc["latency_us"];
  EXPECT_EQ(latency["p50"].get_int64().value(), 200);
  EXPECT_EQ(latency["p90"].get_int64().value(), 200);
  EXPECT_EQ(latency["p99"].get_int64().value(), 200);
  EXPECT_NEAR(static_cast<double>(latency["p99.9"].get_int64().value()), 90'000, 90);
  EXPECT_NEAR(static_cast<double>(latency["p99.99"].get_int64().value()), 90'000, 90);
  EXPECT_EQ(latency["max"].get_int64().value(), 90'000);
  EXPECT_EQ(doc["service_time_us"]["p99.99"].get_int64().value(), 150);
  EXPECT_EQ(doc["service_time_us"]["max"].get_int64().value(), 150);
}

TEST(ReportTest, JsonLeavesOutTheServiceTimeUnlessAsked) {
  const std::string json = RenderJson(SampleReport(), /*with_service_time=*/false);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(json).get(doc)) << json;
  EXPECT_EQ(doc["service_time_us"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(doc["latency_us"]["p50"].get_int64().value(), 200);
}

TEST(ReportTest, SummaryWarnsWhenTheRateFellShort) {
  LoadReport r = SampleReport();
  std::string text = RenderSummary(r, "GET http://127.0.0.1:1/", true);
  EXPECT_NE(text.find("requested 1000 req/s, achieved 900 req/s"), std::string::npos) << text;
  EXPECT_NE(text.find("errors: connect 1, timeout 2, io 3, 4xx 4, 5xx 5"), std::string::npos);
  EXPECT_NE(text.find("p99.9 90."), std::string::npos) << text;
  EXPECT_NE(text.find("service time"), std::string::npos);
  EXPECT_NE(text.find("warning: achieved 900 req/s"), std::string::npos) << text;
  r.achieved_rate_per_s = 999.5;
  text = RenderSummary(r, "GET http://127.0.0.1:1/", false);
  EXPECT_EQ(text.find("warning"), std::string::npos) << text;
  EXPECT_EQ(text.find("service time"), std::string::npos);
}

TEST(ReportTest, ProgressLine) {
  Progress p;
  p.elapsed = std::chrono::seconds(3);
  p.answers = 1000;
  p.errors = 2;
  p.max_latency_us = 1234;
  EXPECT_EQ(RenderProgress(p), "tempo bench: 3s  answers 1000/s  errors 2  max 1.234 ms");
  p.warmup = true;
  EXPECT_EQ(RenderProgress(p), "tempo bench: 3s  answers 1000/s  errors 2  max 1.234 ms, warm-up");
}

}  // namespace
}  // namespace tempo::loadgen
