// The consumer-group Kafka consumer (OpenKafkaConsumer in kafka.h).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include "kafka/client_config.h"
#include "kafka/kafka.h"

namespace tempo::kafka {
namespace {

using internal::FromKafkaError;

// How long Lag() waits for the group coordinator when it needs the committed
// offsets of partitions it has read nothing from yet (once per assignment).
constexpr int kCommittedLookupMs = 1000;

// Poll reserves room for this many messages at most, whatever it is asked for.
constexpr size_t kMaxReserve = 4096;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

using TopicPartition = std::pair<std::string, int32_t>;

class KafkaConsumer final : public stream::Consumer {
 public:
  explicit KafkaConsumer(StartAt start_at) : start_at_(start_at) {}
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  ~KafkaConsumer() override {
    // Leaves the group at once, so that the others get our partitions
    // without waiting out the session timeout.
    if (rk_) rd_kafka_consumer_close(rk_.get());
  }

  Status Init(const KafkaOptions& options, const std::string& group,
              const std::vector<std::string>& topics) {
    auto conf =
        internal::MakeConf(options, internal::ConsumerProperties(options, group, start_at_));
    if (!conf.ok()) return conf.status();
    rd_kafka_conf_set_opaque(conf->get(), this);
    rd_kafka_conf_set_rebalance_cb(conf->get(), &KafkaConsumer::OnRebalance);
    rd_kafka_conf_set_error_cb(conf->get(), &KafkaConsumer::OnError);
    auto rk = internal::NewHandle(RD_KAFKA_CONSUMER, std::move(*conf));
    if (!rk.ok()) return rk.status();
    rk_ = std::move(*rk);
    // All events (messages, errors, rebalances) come through consumer_poll.
    rd_kafka_poll_set_consumer(rk_.get());
    PartitionList subscription(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
    for (const std::string& topic : topics) {
      rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
    }
    if (auto err = rd_kafka_subscribe(rk_.get(), subscription.get())) {
      return FromKafkaError(err, "kafka subscribe");
    }
    return Status::OK();
  }

  Result<std::vector<stream::Message>> Poll(size_t max_messages,
                                            std::chrono::milliseconds timeout) override {
    client_error_ = Status::OK();
    std::vector<stream::Message> out;
    out.reserve(std::min(max_messages, kMaxReserve));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < max_messages) {
      // Only the first message is waited for; the rest must be fetched already.
      int wait_ms = 0;
      if (out.empty()) {
        wait_ms = internal::ClampMs(std::chrono::ceil<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now()));
      }
      rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk_.get(), wait_ms);
      if (msg == nullptr) break;
      const rd_kafka_resp_err_t err = msg->err;
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        Append(*msg, &out);
        rd_kafka_message_destroy(msg);
        continue;
      }
      std::string text = rd_kafka_message_errstr(msg);
      rd_kafka_message_destroy(msg);
      if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;  // only if enabled through extra
      client_error_ = FromKafkaError(err, "kafka poll", text);
      break;
    }
    // librdkafka retries by itself after the errors it reports: they matter
    // to the caller only while nothing arrives.
    if (out.empty() && !client_error_.ok()) return std::exchange(client_error_, Status::OK());
    return out;
  }

  Status Commit(const std::vector<stream::Message>& processed) override {
    if (processed.empty()) return Status::OK();
    std::map<TopicPartition, int64_t> next;  // the offset to resume at, per partition
    for (const stream::Message& m : processed) {
      int64_t& offset = next[{m.topic, m.partition}];
      offset = std::max(offset, m.offset + 1);
    }
    PartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(next.size())));
    for (const auto& [tp, offset] : next) {
      rd_kafka_topic_partition_list_add(offsets.get(), tp.first.c_str(), tp.second)->offset =
          offset;
    }
    if (auto err = rd_kafka_commit(rk_.get(), offsets.get(), /*async=*/0)) {
      return FromKafkaError(err, "kafka commit");
    }
    for (int i = 0; i < offsets->cnt; ++i) {
      const rd_kafka_topic_partition_t& p = offsets->elems[i];
      if (p.err) return FromKafkaError(p.err, std::string("kafka commit of ") + p.topic);
    }
    return Status::OK();
  }

  int64_t Lag() override {
    if (!assigned_) return -1;
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(rk_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
    PartitionList parts(raw);
    if (parts->cnt == 0) return 0;  // more members than partitions: nothing is ours to read
    // The offset after the last message Poll returned, per partition.
    rd_kafka_position(rk_.get(), parts.get());
    LookUpStarts(*parts);
    int64_t lag = 0;
    bool known = false;
    for (int i = 0; i < parts->cnt; ++i) {
      const rd_kafka_topic_partition_t& p = parts->elems[i];
      int64_t low = 0;
      int64_t high = 0;
      if (rd_kafka_get_watermark_offsets(rk_.get(), p.topic, p.partition, &low, &high) ||
          high < 0) {
        continue;  // not fetched from yet
      }
      int64_t position = p.offset;
      if (position < 0) {
        auto start = starts_.find({p.topic, p.partition});
        if (start != starts_.end()) position = start->second;
      }
      if (position < 0) {  // nothing committed: where auto.offset.reset starts
        position = start_at_ == StartAt::kEarliest ? std::max<int64_t>(low, 0) : high;
      }
      lag += std::max<int64_t>(0, high - position);
      known = true;
    }
    return known ? lag : -1;
  }

 private:
  static void Append(const rd_kafka_message_t& msg, std::vector<stream::Message>* out) {
    stream::Message& m = out->emplace_back();
    m.topic = rd_kafka_topic_name(msg.rkt);
    m.partition = msg.partition;
    m.offset = msg.offset;
    if (msg.key) m.key.assign(static_cast<const char*>(msg.key), msg.key_len);
    if (msg.payload) m.value.assign(static_cast<const char*>(msg.payload), msg.len);
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(&msg, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0; !rd_kafka_header_get_all(headers, i, &name, &value, &size); ++i) {
      m.headers.push_back(
          {name, value ? std::string(static_cast<const char*>(value), size) : std::string()});
    }
  }

  // Fills starts_ with the committed offsets of the partitions in `parts`
  // that have no position yet: where reading resumes (or resumed) there.
  void LookUpStarts(const rd_kafka_topic_partition_list_t& parts) {
    PartitionList missing(rd_kafka_topic_partition_list_new(parts.cnt));
    for (int i = 0; i < parts.cnt; ++i) {
      const rd_kafka_topic_partition_t& p = parts.elems[i];
      if (p.offset < 0 && !starts_.count({p.topic, p.partition})) {
        rd_kafka_topic_partition_list_add(missing.get(), p.topic, p.partition);
      }
    }
    if (missing->cnt == 0) return;
    // On failure the offsets stay invalid and Lag falls back on start_at_:
    // one attempt per assignment keeps Lag from waiting on every call.
    rd_kafka_committed(rk_.get(), missing.get(), kCommittedLookupMs);
    for (int i = 0; i < missing->cnt; ++i) {
      const rd_kafka_topic_partition_t& p = missing->elems[i];
      starts_[{p.topic, p.partition}] = p.err ? RD_KAFKA_OFFSET_INVALID : p.offset;
    }
  }

  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<KafkaConsumer*>(opaque);
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t* error = nullptr;
    rd_kafka_resp_err_t assign_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      if (cooperative) {
        error = rd_kafka_incremental_assign(rk, parts);
      } else {
        assign_err = rd_kafka_assign(rk, parts);
      }
      self->assigned_ = true;
    } else if (cooperative) {  // revoked, or an error: give the partitions up
      error = rd_kafka_incremental_unassign(rk, parts);
    } else {
      assign_err = rd_kafka_assign(rk, nullptr);
    }
    if (error) {
      self->client_error_ = FromKafkaError(rd_kafka_error_code(error), "kafka rebalance",
                                           rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    } else if (assign_err) {
      self->client_error_ = FromKafkaError(assign_err, "kafka rebalance");
    }
    self->starts_.clear();
  }

  // Errors of the client as a whole (brokers down, authentication, fatal).
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<KafkaConsumer*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char fatal[512];
      rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
      self->client_error_ = FromKafkaError(RD_KAFKA_RESP_ERR__FATAL, "kafka consumer", fatal);
    } else {
      self->client_error_ =
          FromKafkaError(static_cast<rd_kafka_resp_err_t>(err), "kafka consumer", reason);
    }
  }

  const StartAt start_at_;
  bool assigned_ = false;  // the group has given us an assignment (maybe empty)
  Status client_error_;    // the last error reported during this Poll
  // Committed offsets of assigned partitions not read from yet (Lag).
  std::map<TopicPartition, int64_t> starts_;
  internal::HandlePtr rk_;  // last: destroyed first, while the above still exist
};

}  // namespace

Result<std::unique_ptr<stream::Consumer>> OpenKafkaConsumer(const KafkaOptions& options,
                                                            std::string group,
                                                            std::vector<std::string> topics,
                                                            StartAt start_at) {
  if (group.empty()) return Status::InvalidArgument("kafka consumer: empty group");
  if (topics.empty()) return Status::InvalidArgument("kafka consumer: no topics");
  for (const std::string& topic : topics) {
    if (topic.empty()) return Status::InvalidArgument("kafka consumer: empty topic name");
  }
  auto consumer = std::make_unique<KafkaConsumer>(start_at);
  if (Status st = consumer->Init(options, group, topics); !st.ok()) return st;
  return std::unique_ptr<stream::Consumer>(std::move(consumer));
}

}  // namespace tempo::kafka
