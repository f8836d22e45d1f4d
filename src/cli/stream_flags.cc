#include "cli/stream_flags.h"

#include "kafka/kafka.h"
#include "log/log.h"

namespace tempo::cli {
namespace {

// Partitions of a topic Tempo creates on Kafka: enough for a few sync
// consumers to share the content topic; a real cluster's topics are usually
// made by its operators anyway.
constexpr int kTopicPartitions = 4;

kafka::KafkaOptions KafkaOptionsOf(const StreamFlags& flags) {
  kafka::KafkaOptions options;
  options.brokers = flags.brokers;
  return options;
}

}  // namespace

void AddStreamFlags(CLI::App* cmd, StreamFlags* flags, const std::string& what) {
  auto* brokers = cmd->add_option("--brokers", flags->brokers,
                                  "Kafka bootstrap servers HOST:PORT[,HOST:PORT...] to " + what);
  auto* log = cmd->add_option("--log", flags->log_dir,
                              "Embedded log directory to " + what + " (instead of Kafka)");
  brokers->excludes(log);
}

bool HasStream(const StreamFlags& flags) {
  return !flags.brokers.empty() || !flags.log_dir.empty();
}

std::string DescribeStream(const StreamFlags& flags) {
  return flags.brokers.empty() ? "log " + flags.log_dir : "kafka " + flags.brokers;
}

Result<std::unique_ptr<stream::Producer>> OpenProducer(const StreamFlags& flags) {
  if (!flags.brokers.empty()) return kafka::OpenKafkaProducer(KafkaOptionsOf(flags));
  return log::OpenLogProducer(flags.log_dir);
}

Result<std::unique_ptr<stream::Consumer>> OpenConsumer(const StreamFlags& flags,
                                                       const std::string& group,
                                                       const std::vector<std::string>& topics,
                                                       bool from_latest) {
  if (!flags.brokers.empty()) {
    kafka::KafkaOptions options = KafkaOptionsOf(flags);
    // A publish crosses two topics (content, then invalidations); librdkafka's
    // default 500 ms fetch wait on each would dominate publish-to-visible.
    options.extra["fetch.wait.max.ms"] = "10";
    return kafka::OpenKafkaConsumer(
        options, group, topics,
        from_latest ? kafka::StartAt::kLatest : kafka::StartAt::kEarliest);
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

Status EnsureTempoTopics(const StreamFlags& flags, const std::vector<std::string>& topics) {
  if (flags.brokers.empty()) return Status::OK();
  return kafka::EnsureTopics(KafkaOptionsOf(flags), topics, kTopicPartitions);
}

}  // namespace tempo::cli
