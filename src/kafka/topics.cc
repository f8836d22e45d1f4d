// Creating missing topics through the Admin API (EnsureTopics in kafka.h).
#include <set>
#include <string>

#include "kafka/client_config.h"
#include "kafka/kafka.h"

namespace tempo::kafka {
namespace {

using internal::FromKafkaError;

// How much longer than the request timeout EnsureTopics waits for librdkafka
// to hand back the CreateTopics result (which it times out itself).
constexpr int kAdminResultSlackMs = 1000;

// The brokers' default.replication.factor (CreateTopics v4+, Kafka 2.4+).
constexpr int kBrokerDefaultReplication = -1;

// Which of `topics` the cluster has.
Result<std::set<std::string>> ExistingTopics(rd_kafka_t* rk, int timeout_ms) {
  const rd_kafka_metadata_t* md = nullptr;
  if (auto err = rd_kafka_metadata(rk, /*all_topics=*/1, nullptr, &md, timeout_ms)) {
    return FromKafkaError(err, "kafka metadata");
  }
  std::set<std::string> names;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) names.insert(md->topics[i].topic);
  }
  rd_kafka_metadata_destroy(md);
  return names;
}

// Owns what one CreateTopics call needs.
struct CreateTopicsCall {
  std::vector<rd_kafka_NewTopic_t*> new_topics;
  rd_kafka_AdminOptions_t* options = nullptr;
  rd_kafka_queue_t* queue = nullptr;
  rd_kafka_event_t* result = nullptr;

  ~CreateTopicsCall() {
    for (rd_kafka_NewTopic_t* t : new_topics) rd_kafka_NewTopic_destroy(t);
    if (options) rd_kafka_AdminOptions_destroy(options);
    if (result) rd_kafka_event_destroy(result);
    if (queue) rd_kafka_queue_destroy(queue);
  }
};

Status CreateTopics(rd_kafka_t* rk, const std::vector<std::string>& names, int partitions,
                    int timeout_ms) {
  CreateTopicsCall call;
  char errstr[512];
  for (const std::string& name : names) {
    rd_kafka_NewTopic_t* t = rd_kafka_NewTopic_new(
        name.c_str(), partitions, kBrokerDefaultReplication, errstr, sizeof(errstr));
    if (t == nullptr) return Status::InvalidArgument("kafka topic " + name + ": " + errstr);
    call.new_topics.push_back(t);
  }
  call.options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  if (rd_kafka_AdminOptions_set_request_timeout(call.options, timeout_ms, errstr, sizeof(errstr)) ||
      rd_kafka_AdminOptions_set_operation_timeout(call.options, timeout_ms, errstr,
                                                  sizeof(errstr))) {
    return Status::InvalidArgument(std::string("kafka create topics: ") + errstr);
  }
  call.queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, call.new_topics.data(), call.new_topics.size(), call.options,
                        call.queue);
  call.result = rd_kafka_queue_poll(call.queue, timeout_ms + kAdminResultSlackMs);
  if (call.result == nullptr) return Status::Unavailable("kafka create topics: timed out");
  if (auto err = rd_kafka_event_error(call.result)) {
    return FromKafkaError(err, "kafka create topics", rd_kafka_event_error_string(call.result));
  }
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(call.result), &count);
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      continue;  // already there: someone else created it since we looked
    }
    const char* text = rd_kafka_topic_result_error_string(results[i]);
    return FromKafkaError(
        err, std::string("kafka create topic ") + rd_kafka_topic_result_name(results[i]),
        text ? text : "");
  }
  return Status::OK();
}

}  // namespace

Status EnsureTopics(const KafkaOptions& options, const std::vector<std::string>& topics,
                    int partitions) {
  if (topics.empty()) return Status::InvalidArgument("kafka ensure topics: no topics given");
  if (partitions < 1) return Status::InvalidArgument("kafka ensure topics: partitions < 1");
  for (const std::string& topic : topics) {
    if (topic.empty()) return Status::InvalidArgument("kafka ensure topics: empty topic name");
  }
  auto conf = internal::MakeConf(options, {});
  if (!conf.ok()) return conf.status();
  auto rk = internal::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk.ok()) return rk.status();
  const int timeout_ms = internal::ClampMs(options.socket_timeout);
  // Listing first spares clusters where we may not create topics (or that
  // cannot, like the mock cluster) a CreateTopics call when all exist.
  auto existing = ExistingTopics(rk->get(), timeout_ms);
  if (!existing.ok()) return existing.status();
  std::vector<std::string> missing;
  for (const std::string& topic : std::set<std::string>(topics.begin(), topics.end())) {
    if (!existing->count(topic)) missing.push_back(topic);
  }
  if (missing.empty()) return Status::OK();
  return CreateTopics(rk->get(), missing, partitions, timeout_ms);
}

}  // namespace tempo::kafka
