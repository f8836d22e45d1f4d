// The idempotent Kafka producer (OpenKafkaProducer in kafka.h).
#include <chrono>
#include <mutex>
#include <set>
#include <string>

#include "common/mutex.h"
#include "kafka/client_config.h"
#include "kafka/kafka.h"

namespace tempo::kafka {
namespace {

using internal::FromKafkaError;

// How long Send sleeps in rd_kafka_poll between attempts while the queue is
// full; serving delivery reports is what frees room.
constexpr int kQueueFullPollMs = 10;

// What the destructor gives librdkafka to hand back purged messages.
constexpr int kCloseFlushMs = 100;

// How long the first Send to a topic waits for that topic's metadata (see
// PrimeTopic). Waiting longer than librdkafka's 1 s topic scan gains nothing.
constexpr int kPrimeTopicWaitMs = 1000;

class KafkaProducer final : public stream::Producer {
 public:
  KafkaProducer() = default;
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  ~KafkaProducer() override {
    if (!rk_) return;
    // Unflushed messages are dropped (the interface says so); purging first
    // keeps destruction from waiting out delivery.timeout on a dead cluster.
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk_.get(), kCloseFlushMs);
  }

  Status Init(const KafkaOptions& options) {
    auto conf = internal::MakeConf(options, internal::ProducerProperties(options));
    if (!conf.ok()) return conf.status();
    rd_kafka_conf_set_opaque(conf->get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf->get(), &KafkaProducer::OnDelivery);
    auto rk = internal::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
    if (!rk.ok()) return rk.status();
    rk_ = std::move(*rk);
    return Status::OK();
  }

  Status Send(std::string_view topic, std::string_view key, std::string_view value,
              const std::vector<stream::Header>& headers) override {
    const std::string topic_name(topic);  // librdkafka wants it NUL-terminated
    PrimeTopic(topic_name);
    std::vector<rd_kafka_vu_t> vus(4 + headers.size());
    vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[0].u.cstr = topic_name.c_str();
    vus[1].vtype = RD_KAFKA_VTYPE_KEY;
    vus[1].u.mem = {const_cast<char*>(key.data()), key.size()};
    vus[2].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[2].u.mem = {const_cast<char*>(value.data()), value.size()};
    vus[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[3].u.i = RD_KAFKA_MSG_F_COPY;  // the caller's buffers die when Send returns
    for (size_t i = 0; i < headers.size(); ++i) {
      rd_kafka_vu_t& vu = vus[4 + i];
      vu.vtype = RD_KAFKA_VTYPE_HEADER;
      vu.u.header = {headers[i].name.c_str(), headers[i].value.data(),
                     static_cast<ssize_t>(headers[i].value.size())};
    }
    const auto give_up =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kQueueFullWaitMs);
    for (;;) {
      rd_kafka_error_t* error = rd_kafka_produceva(rk_.get(), vus.data(), vus.size());
      if (error == nullptr) break;
      const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
      const std::string text = rd_kafka_error_string(error);
      rd_kafka_error_destroy(error);
      if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL && std::chrono::steady_clock::now() < give_up) {
        rd_kafka_poll(rk_.get(), kQueueFullPollMs);
        continue;
      }
      return FromKafkaError(code, "kafka send to " + topic_name, text);
    }
    // Serve delivery reports as we go so that they do not pile up until Flush.
    rd_kafka_poll(rk_.get(), 0);
    return Status::OK();
  }

  Status Flush(std::chrono::milliseconds timeout) override {
    const rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), internal::ClampMs(timeout));
    rd_kafka_resp_err_t first = RD_KAFKA_RESP_ERR_NO_ERROR;
    std::string first_topic;
    int64_t failed = 0;
    {
      MutexLock lock(&mu_);
      std::swap(first, first_error_);
      std::swap(first_topic, first_error_topic_);
      std::swap(failed, failed_);
    }
    if (failed > 0) {
      return FromKafkaError(first, "kafka: " + std::to_string(failed) +
                                       " deliveries failed since the last flush, the first to " +
                                       first_topic);
    }
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      return Status::Unavailable("kafka flush: " + std::to_string(rd_kafka_outq_len(rk_.get())) +
                                 " messages still undelivered after " +
                                 std::to_string(timeout.count()) + " ms");
    }
    return Status::OK();
  }

 private:
  // librdkafka (2.0.2 at least; confluentinc/librdkafka#3202) may skip the
  // metadata lookup of a topic first produced to while its first metadata
  // request is in flight, and then looks the topic up only on its 1 s topic
  // scan: one `tempo publish` in about fifteen took a second longer. Asking
  // for the topic's metadata once, synchronously (the maintainers'
  // workaround), lets the first message go at once. A failure here is left
  // to the normal path, which retries and reports through Flush.
  void PrimeTopic(const std::string& topic) {
    {
      MutexLock lock(&mu_);
      if (!primed_topics_.insert(topic).second) return;
    }
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_.get(), topic.c_str(), nullptr);
    if (rkt == nullptr) return;
    const rd_kafka_metadata_t* metadata = nullptr;
    if (rd_kafka_metadata(rk_.get(), /*all_topics=*/0, rkt, &metadata, kPrimeTopicWaitMs) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_metadata_destroy(metadata);
    }
    rd_kafka_topic_destroy(rkt);
  }

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    auto* self = static_cast<KafkaProducer*>(opaque);
    MutexLock lock(&self->mu_);
    if (self->failed_++ == 0) {
      self->first_error_ = msg->err;
      self->first_error_topic_ = rd_kafka_topic_name(msg->rkt);
    }
  }

  Mutex mu_;
  std::set<std::string> primed_topics_ GUARDED_BY(mu_);  // topics PrimeTopic has asked about
  // Delivery failures since the last Flush: how many, and the first one.
  int64_t failed_ GUARDED_BY(mu_) = 0;
  rd_kafka_resp_err_t first_error_ GUARDED_BY(mu_) = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string first_error_topic_ GUARDED_BY(mu_);
  internal::HandlePtr rk_;  // last: destroyed first, while OnDelivery's state still exists
};

}  // namespace

Result<std::unique_ptr<stream::Producer>> OpenKafkaProducer(const KafkaOptions& options) {
  auto producer = std::make_unique<KafkaProducer>();
  if (Status st = producer->Init(options); !st.ok()) return st;
  return std::unique_ptr<stream::Producer>(std::move(producer));
}

}  // namespace tempo::kafka
