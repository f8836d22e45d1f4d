// Opening the event stream.
#include "serve/stream_options.h"

#include "kafka/kafka.h"
#include "log/log.h"

namespace tempo::serve {
namespace {

// Partitions of a topic Tempo creates on Kafka: enough for a few sync
// consumers to share the content topic; a real cluster's topics are usually
// made by its operators anyway.
constexpr int kTopicPartitions = 4;

kafka::KafkaOptions KafkaOptionsOf(const StreamOptions& flags) {
  kafka::KafkaOptions options;
  options.brokers = flags.brokers;
  return options;
}

}  // namespace

bool HasStream(const StreamOptions& flags) {
  return !flags.brokers.empty() || !flags.log_dir.empty();
}

std::string DescribeStream(const StreamOptions& flags) {
  return flags.brokers.empty() ? "log " + flags.log_dir : "kafka " + flags.brokers;
}

Result<std::unique_ptr<stream::Producer>> OpenProducer(const StreamOptions& flags) {
  if (!flags.brokers.empty()) return kafka::OpenKafkaProducer(KafkaOptionsOf(flags));
  return log::OpenLogProducer(flags.log_dir);
}

Result<std::unique_ptr<stream::Consumer>> OpenConsumer(const StreamOptions& flags,
                                                       const std::string& group,
                                                       const std::vector<std::string>& topics,
                                                       bool from_latest) {
  if (!flags.brokers.empty()) {
    kafka::KafkaOptions options = KafkaOptionsOf(flags);
    // A publish crosses two topics (content, then invalidations); librdkafka's
    // default 500 ms fetch wait on each would dominate publish-to-visible.
    options.extra["fetch.wait.max.ms"] = "10";
    return kafka::OpenKafkaConsumer(
        options, group, topics, from_latest ? kafka::StartAt::kLatest : kafka::StartAt::kEarliest);
  }
  auto consumer = log::OpenLogConsumer(
      flags.log_dir, group, topics, from_latest ? log::StartAt::kLatest : log::StartAt::kEarliest);
  if (consumer.status().code() == Status::Code::kNotFound) {
    return Status::NotFound(consumer.status().message() +
                            " (a reader does not create it; `tempo sync --log` and `tempo "
                            "publish --log` do)");
  }
  return consumer;
}

Status EnsureTempoTopics(const StreamOptions& flags, const std::vector<std::string>& topics) {
  if (flags.brokers.empty()) return Status::OK();
  return kafka::EnsureTopics(KafkaOptionsOf(flags), topics, kTopicPartitions);
}

}  // namespace tempo::serve
