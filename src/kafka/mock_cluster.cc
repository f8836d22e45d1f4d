// librdkafka's mock cluster behind MockCluster (mock_cluster.h).
#include "kafka/mock_cluster.h"

#include <algorithm>

#include "kafka/client_config.h"

namespace tempo::kafka {
namespace {

// Replicas per mock partition: as a small real cluster would have, so that
// acks=all waits on followers.
constexpr int kMaxMockReplication = 3;

}  // namespace

Result<std::unique_ptr<MockCluster>> MockCluster::Start(int brokers) {
  if (brokers < 1 || brokers > kMaxMockBrokers) {
    return Status::InvalidArgument("mock kafka: brokers must be 1.." +
                                   std::to_string(kMaxMockBrokers));
  }
  // The mock cluster lives inside a client handle; a producer that is never
  // used and has no bootstrap servers connects nowhere.
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // Hides the notice that this handle has no bootstrap servers.
  rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr));
  internal::RouteLogToLogger(conf);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::Internal(std::string("mock kafka: ") + errstr);
  }
  std::unique_ptr<MockCluster> cluster(new MockCluster());
  cluster->rk_ = rk;
  cluster->mcluster_ = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster->mcluster_ == nullptr) {
    return Status::IOError("mock kafka: could not start the brokers");
  }
  cluster->bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster->mcluster_);
  cluster->brokers_ = brokers;
  return cluster;
}

MockCluster::~MockCluster() {
  if (mcluster_) rd_kafka_mock_cluster_destroy(mcluster_);
  if (rk_) rd_kafka_destroy(rk_);
}

Status MockCluster::CreateTopic(const std::string& topic, int partitions) {
  if (topic.empty()) return Status::InvalidArgument("mock kafka: empty topic name");
  if (partitions < 1 || partitions > kMaxMockPartitions) {
    return Status::InvalidArgument("mock kafka: partitions must be 1.." +
                                   std::to_string(kMaxMockPartitions));
  }
  const int replication = std::min(brokers_, kMaxMockReplication);
  if (auto err = rd_kafka_mock_topic_create(mcluster_, topic.c_str(), partitions, replication)) {
    return Status::InvalidArgument("mock kafka: create topic " + topic + ": " +
                                   rd_kafka_err2str(err));
  }
  return Status::OK();
}

void MockCluster::PushRequestErrors(int16_t api_key,
                                    const std::vector<rd_kafka_resp_err_t>& errors) {
  rd_kafka_mock_push_request_errors_array(mcluster_, api_key, errors.size(), errors.data());
}

void MockCluster::SetRoundTrip(std::chrono::milliseconds rtt) {
  for (int32_t broker = 1; broker <= brokers_; ++broker) {  // ids run from 1
    rd_kafka_mock_broker_set_rtt(mcluster_, broker, static_cast<int>(rtt.count()));
  }
}

void MockCluster::SetBrokersUp(bool up) {
  for (int32_t broker = 1; broker <= brokers_; ++broker) {  // ids run from 1
    if (up) {
      rd_kafka_mock_broker_set_up(mcluster_, broker);
    } else {
      rd_kafka_mock_broker_set_down(mcluster_, broker);
    }
  }
}

}  // namespace tempo::kafka
