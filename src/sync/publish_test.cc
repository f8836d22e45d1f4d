#include "sync/publish.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "events/events.h"
#include "sync/event_lines_test_util.h"
#include "sync/memory_stream_test_util.h"

namespace tempo::sync {
namespace {

using testing::MemoryLog;
using testing::MemoryProducer;

constexpr std::string_view kTopic = "content";

std::string Keys(const std::vector<stream::Message>& messages) {
  std::string out;
  for (const auto& m : messages) out += m.key + ";";
  return out;
}

TEST(PublishTest, SendsValidLinesVerbatimWithRecordKeys) {
  const std::string module = testing::ModuleUpsert("CA", "m1", 3, {"web"});
  const std::string tmpl = testing::TemplateUpsert("CA", "web", "home", 1);
  const std::string del = testing::ModuleDelete("MX", "m/2", 7);
  const std::string experiment = R"({"schema":1,"kind":"experiment","op":"delete",)"
                                 R"("record":{"tenant":"CA","id":"x1","version":2}})";
  std::istringstream in(module + "\n" + tmpl + "\r\n\n  \t\r\n" + del + "\n" + experiment);
  MemoryLog log;
  MemoryProducer producer(&log);
  Result<PublishReport> report = Publish(in, producer, kTopic);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->lines, 4u);
  EXPECT_EQ(report->sent, 4u);
  EXPECT_EQ(report->invalid, 0u);
  EXPECT_TRUE(report->errors.empty());

  const std::vector<stream::Message> got = log.Read(kTopic);
  EXPECT_EQ(Keys(got), "CA/module/m1;CA/template/web:home;MX/module/m/2;CA/experiment/x1;");
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].value, module);
  EXPECT_EQ(got[1].value, tmpl);  // without the '\r'
  EXPECT_EQ(got[2].value, del);
  EXPECT_EQ(got[3].value, experiment);
  EXPECT_EQ(log.Journal().back(), "flush");
}

TEST(PublishTest, NamesInvalidLinesAndSendsTheRest) {
  const std::string bad_json = "{not json";
  const std::string schema2 = R"({"schema":2,"kind":"module","op":"delete","record":{}})";
  std::istringstream in("\n" + bad_json + "\n" + testing::ModuleUpsert("CA", "m1", 1, {"web"}) +
                        "\n\n" + schema2 + "\n" + testing::ModuleUpsert("CA", "m2", 1, {}) + "\n");
  MemoryLog log;
  MemoryProducer producer(&log);
  Result<PublishReport> report = Publish(in, producer, kTopic);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->lines, 4u);
  EXPECT_EQ(report->sent, 2u);
  EXPECT_EQ(report->invalid, 2u);
  ASSERT_EQ(report->errors.size(), 2u);
  EXPECT_EQ(report->errors[0], "line 2: " + events::DecodeEvent(bad_json).status().message());
  EXPECT_EQ(report->errors[1], "line 5: " + events::DecodeEvent(schema2).status().message());
  EXPECT_EQ(report->errors[1].substr(0, 16), "line 5: schema: ");
  EXPECT_EQ(Keys(log.Read(kTopic)), "CA/module/m1;CA/module/m2;");
}

TEST(PublishTest, SkipsAByteOrderMarkAtTheStart) {
  const std::string module = testing::ModuleUpsert("CA", "m1", 3, {"web"});
  std::istringstream in("\xEF\xBB\xBF" + module + "\n");
  MemoryLog log;
  MemoryProducer producer(&log);
  Result<PublishReport> report = Publish(in, producer, kTopic);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->sent, 1u);
  EXPECT_TRUE(report->errors.empty()) << report->errors.front();
  const std::vector<stream::Message> got = log.Read(kTopic);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, module);  // sent without the mark
}

TEST(PublishTest, ARecordOverTheSizeLimitIsAnInvalidLine) {
  const std::string small = testing::ModuleUpsert("CA", "m1", 3, {"web"});
  const size_t small_bytes = events::DecodeEvent(small)->record_json.size();
  const std::string large = testing::ModuleUpsert("CA", "m2", 3, {"web", "app", "ios"});
  std::istringstream in(small + "\n" + large + "\n");
  MemoryLog log;
  MemoryProducer producer(&log);
  events::DecodeOptions decode;
  decode.max_record_bytes = small_bytes;
  Result<PublishReport> report = Publish(in, producer, kTopic, decode);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->sent, 1u);
  EXPECT_EQ(report->invalid, 1u);
  ASSERT_EQ(report->errors.size(), 1u);
  EXPECT_EQ(report->errors[0], "line 2: record: " + std::to_string(small_bytes + 12) +
                                   " bytes of JSON, more than the limit of " +
                                   std::to_string(small_bytes));
  EXPECT_EQ(Keys(log.Read(kTopic)), "CA/module/m1;");
}

TEST(PublishTest, KeepsTheFirstErrorsButCountsAll) {
  std::string input;
  for (size_t i = 0; i < kMaxReportedPublishErrors + 5; ++i) input += "[]\n";
  std::istringstream in(input);
  MemoryLog log;
  MemoryProducer producer(&log);
  Result<PublishReport> report = Publish(in, producer, kTopic);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->invalid, kMaxReportedPublishErrors + 5);
  EXPECT_EQ(report->errors.size(), kMaxReportedPublishErrors);
  EXPECT_EQ(report->errors.back().substr(0, 10), "line 1000:");
  EXPECT_TRUE(log.Read(kTopic).empty());
}

TEST(PublishTest, FlushesAndRetriesWhenTheQueueIsFull) {
  std::string input;
  for (int i = 0; i < 7; ++i)
    input += testing::ModuleUpsert("CA", "m" + std::to_string(i), 1, {"web"}) + "\n";
  std::istringstream in(input);
  MemoryLog log;
  MemoryProducer producer(&log, /*queue_capacity=*/3);
  Result<PublishReport> report = Publish(in, producer, kTopic);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->sent, 7u);
  EXPECT_EQ(Keys(log.Read(kTopic)),
            "CA/module/m0;CA/module/m1;CA/module/m2;CA/module/m3;CA/module/m4;CA/module/m5;"
            "CA/module/m6;");
  // Two flushes on a full queue, one at the end.
  const std::vector<std::string> journal = log.Journal();
  EXPECT_EQ(std::count(journal.begin(), journal.end(), "flush"), 3);
}

TEST(PublishTest, ReturnsTheDeliveryError) {
  std::istringstream in(testing::ModuleUpsert("CA", "m1", 1, {"web"}) + "\n");
  MemoryLog log;
  MemoryProducer producer(&log);
  producer.FailFlushes(1);
  Result<PublishReport> report = Publish(in, producer, kTopic);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Status::Code::kIOError);
  EXPECT_EQ(report.status().message(), "memory stream: delivery failed (injected)");
}

TEST(PublishTest, ReportsAMessageThatCannotBeQueued) {
  std::istringstream in("\n" + testing::ModuleUpsert("CA", "m1", 1, {"web"}) + "\n");
  MemoryLog log;
  MemoryProducer producer(&log, /*queue_capacity=*/0);  // never accepts a message
  Result<PublishReport> report = Publish(in, producer, kTopic);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().message(),
            "line 2: cannot queue the message: Unavailable: memory stream: queue full");
}

}  // namespace
}  // namespace tempo::sync
