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

Result<kafka::KafkaOptions> KafkaOptionsOf(const StreamOptions& flags) {
  auto properties = KafkaProperties(flags);
  if (!properties.ok()) return properties.status();
  kafka::KafkaOptions options;
  options.brokers = flags.brokers;
  if (Status s = kafka::ApplyProperties(*properties, &options); !s.ok()) return s;
  return options;
}

bool HasKafkaProperties(const StreamOptions& flags) {
  return !flags.kafka_config.empty() || !flags.kafka_property_file.empty() ||
         !flags.kafka_properties.empty();
}

}  // namespace

Result<kafka::PropertyMap> KafkaProperties(const StreamOptions& flags) {
  if (!HasKafkaProperties(flags)) return kafka::PropertyMap();
  if (flags.brokers.empty()) {
    return Status::InvalidArgument(
        "Kafka properties (--kafka-property, --kafka-property-file, kafka:) need --brokers");
  }
  kafka::PropertyMap merged = flags.kafka_config;
  if (!flags.kafka_property_file.empty()) {
    auto file = kafka::ReadPropertiesFile(flags.kafka_property_file);
    if (!file.ok()) return file.status();
    for (auto& [key, value] : *file) merged[key] = std::move(value);
  }
  kafka::PropertyMap given;
  for (const std::string& arg : flags.kafka_properties) {
    auto assignment = kafka::ParseAssignment(arg);
    if (!assignment.ok()) {
      return Status::InvalidArgument("--kafka-property: " + assignment.status().message());
    }
    auto& [key, value] = *assignment;
    if (!given.emplace(key, value).second) {
      return Status::InvalidArgument("--kafka-property " + key + " given twice");
    }
    merged[key] = std::move(value);
  }
  for (auto& [key, value] : merged) {
    auto expanded = kafka::ExpandEnvironment(key, value);
    if (!expanded.ok()) return expanded.status();
    value = std::move(*expanded);
  }
  return merged;
}

Status CheckStreamOptions(const StreamOptions& flags) {
  auto properties = KafkaProperties(flags);
  if (!properties.ok()) return properties.status();
  return kafka::CheckProperties(*properties);
}

bool HasStream(const StreamOptions& flags) {
  return !flags.brokers.empty() || !flags.log_dir.empty();
}

std::string DescribeStream(const StreamOptions& flags) {
  return flags.brokers.empty() ? "log " + flags.log_dir : "kafka " + flags.brokers;
}

Result<std::unique_ptr<stream::Producer>> OpenProducer(const StreamOptions& flags) {
  if (!flags.brokers.empty()) {
    auto options = KafkaOptionsOf(flags);
    if (!options.ok()) return options.status();
    return kafka::OpenKafkaProducer(*options);
  }
  return log::OpenLogProducer(flags.log_dir);
}

Result<std::unique_ptr<stream::Consumer>> OpenConsumer(const StreamOptions& flags,
                                                       const std::string& group,
                                                       const std::vector<std::string>& topics,
                                                       bool from_latest) {
  if (!flags.brokers.empty()) {
    auto options = KafkaOptionsOf(flags);
    if (!options.ok()) return options.status();
    // A publish crosses two topics (content, then invalidations); librdkafka's
    // default 500 ms fetch wait on each would dominate publish-to-visible.
    // An operator's fetch.wait.max.ms wins.
    options->extra.try_emplace("fetch.wait.max.ms", "10");
    return kafka::OpenKafkaConsumer(
        *options, group, topics, from_latest ? kafka::StartAt::kLatest : kafka::StartAt::kEarliest);
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
  auto options = KafkaOptionsOf(flags);
  if (!options.ok()) return options.status();
  return kafka::EnsureTopics(*options, topics, kTopicPartitions);
}

}  // namespace tempo::serve
