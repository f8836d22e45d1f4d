// A Kafka cluster inside this process, for tests and `tempo dev-kafka`:
// librdkafka's mock cluster, which speaks the Kafka protocol on 127.0.0.1 to
// any client (ours, kcat, ...). Idempotent producers, consumer groups and
// offset commits work; CreateTopics does not (use CreateTopic), and any topic
// a client asks metadata for is created on the spot (4 partitions). Each
// partition keeps only its newest 5 MiB or 100,000 produce requests, like a
// broker with a tiny retention. Nothing is persisted: the data is gone when
// the MockCluster is destroyed. Not a substitute for a real broker anywhere
// but on a developer's machine.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace tempo::kafka {

class MockCluster {
 public:
  // Starts `brokers` brokers (1..kMaxMockBrokers), each on its own port on
  // 127.0.0.1 picked by the kernel; they run on librdkafka's threads.
  static Result<std::unique_ptr<MockCluster>> Start(int brokers);

  // Stops the brokers; clients still connected see the connection drop.
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  // The brokers' addresses, "127.0.0.1:port,...", for KafkaOptions::brokers.
  const std::string& bootstrap() const { return bootstrap_; }

  // Creates `topic` with `partitions` partitions (1..kMaxMockPartitions),
  // replicated on up to three brokers. InvalidArgument for an empty name or
  // partitions out of range; an existing topic is an error from the mock.
  Status CreateTopic(const std::string& topic, int partitions);

  // Makes the next errors.size() requests of protocol API `api_key` (kApi*
  // below) fail with those errors, in order, whichever broker receives them.
  // RD_KAFKA_RESP_ERR__TRANSPORT drops the connection instead.
  void PushRequestErrors(int16_t api_key, const std::vector<rd_kafka_resp_err_t>& errors);

  // Makes every broker answer every request `rtt` late (the round trip of a
  // distant cluster), so that a client has several requests in flight.
  void SetRoundTrip(std::chrono::milliseconds rtt);

  // Takes every broker down (up = false: open connections are closed and new
  // ones are closed at once, as when the brokers' hosts are gone) or brings
  // them back (up = true). Clients see the cluster unreachable meanwhile and
  // retry; nothing a broker held is lost.
  void SetBrokersUp(bool up);

 private:
  MockCluster() = default;

  rd_kafka_t* rk_ = nullptr;  // owns the mock cluster's threads and state
  rd_kafka_mock_cluster_t* mcluster_ = nullptr;
  std::string bootstrap_;
  int brokers_ = 0;
};

inline constexpr int kMaxMockBrokers = 16;
inline constexpr int kMaxMockPartitions = 1024;

// Protocol API keys for PushRequestErrors (Kafka protocol numbering).
inline constexpr int16_t kApiProduce = 0;
inline constexpr int16_t kApiFetch = 1;
inline constexpr int16_t kApiOffsetCommit = 8;

}  // namespace tempo::kafka
