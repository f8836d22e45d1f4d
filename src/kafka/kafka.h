// The Kafka implementation of the event stream (stream/stream.h), through
// librdkafka, plus the topic set-up the sync service needs before it starts.
//
// Guarantees, and the librdkafka settings they rest on:
//  - The producer is idempotent (enable.idempotence=true, acks=all): retries
//    after broker errors never duplicate or reorder a message, and Flush
//    returning OK means every message sent before it is on all in-sync
//    replicas.
//  - The consumer never commits on its own (enable.auto.commit=false,
//    enable.auto.offset.store=false): a group resumes exactly after what
//    Commit was given, so a crash between processing and Commit replays
//    messages rather than losing them.
// Those properties cannot be changed through KafkaOptions::extra.
//
// librdkafka's own log lines go to the process log (common/logging.h) as
// component "kafka", "<facility>: <message>" with the client's name as field
// `client`, at the level its syslog level maps to (0-3 error, 4 warn, 5-6
// info, 7 debug, the last only with the `debug` property in extra); never to
// stderr directly.
//
// For tests and local development, kafka/mock_cluster.h starts librdkafka's
// in-process mock cluster, which speaks the Kafka protocol on 127.0.0.1.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "stream/stream.h"

namespace tempo::kafka {

// How to reach the cluster and tune the clients. The defaults suit a real
// cluster on a LAN.
struct KafkaOptions {
  // Bootstrap brokers, "host:port[,host:port...]" (bootstrap.servers). Required.
  std::string brokers;

  // Sent to the brokers with every request, for their logs and quotas (client.id).
  std::string client_id = "tempo";

  // How long one request to a broker may take before the client gives up on
  // it and retries (socket.timeout.ms). Also bounds EnsureTopics.
  std::chrono::milliseconds socket_timeout{10'000};

  // Consumer: how long the group waits for a silent member before giving its
  // partitions to others (session.timeout.ms; heartbeats go at a third of it).
  std::chrono::milliseconds session_timeout{10'000};

  // Producer: how long a message may wait for others to share its batch
  // (linger.ms). A few milliseconds cost little latency and multiply
  // throughput.
  std::chrono::milliseconds linger{5};

  // Producer: how long the client keeps retrying a message before it reports
  // it failed (message.timeout.ms). Flush returns earlier if its own timeout
  // is shorter; the message then stays queued.
  std::chrono::milliseconds delivery_timeout{120'000};

  // Any other librdkafka property (CONFIGURATION.md in librdkafka), set last:
  // security.protocol, sasl.*, ssl.*, fetch.wait.max.ms, ... An unknown name
  // or a bad value makes Open* fail with InvalidArgument, and so does a
  // property Tempo sets itself: those of the fields above (bootstrap.servers,
  // client.id, socket.timeout.ms, session.timeout.ms, heartbeat.interval.ms,
  // linger.ms, message.timeout.ms) and those the guarantees rest on
  // (enable.idempotence, acks, partitioner, group.id, enable.auto.commit,
  // enable.auto.offset.store, auto.offset.reset).
  std::map<std::string, std::string> extra;
};

// Opens an idempotent producer (see above). Messages are partitioned by a
// murmur2 hash of the key, as the Java client does, so that Tempo and other
// producers put one key in the same partition. Send waits up to
// kQueueFullWaitMs for room when the local queue is full, then fails with
// Unavailable. Destroying the producer drops what was not Flushed.
// InvalidArgument for bad options; connecting happens in the background, so
// an unreachable cluster shows as a Flush error, not here.
Result<std::unique_ptr<stream::Producer>> OpenKafkaProducer(const KafkaOptions& options);

// How long Send waits for room in a full producer queue before failing.
inline constexpr int kQueueFullWaitMs = 1000;

// Where a consumer group starts reading a partition it has no committed
// offset for (auto.offset.reset).
enum class StartAt {
  kEarliest,  // from the oldest message still stored
  kLatest,    // only messages produced after the group first joined
};

// Opens a consumer in consumer group `group`, subscribed to `topics`. A
// partition is read from the group's committed offset, else from `start_at`.
// Joining the group happens during the first Polls (a broker holds a new
// group's first join for group.initial.rebalance.delay.ms, 3 s by default).
// Poll waits for the first message up to its timeout, then takes what is
// already fetched without waiting. Errors of the client (brokers
// unreachable, authentication) come back from Poll as Unavailable, but only
// from a Poll that got no messages; the client keeps retrying by itself.
// Commit is synchronous (an OffsetCommit round trip): commit per batch, not
// per message. Lag() reads the high watermarks cached from the last fetches
// and lags reality by up to one fetch; it is cheap but for its first call
// after an assignment with partitions not yet read from, which asks the
// group coordinator for their committed offsets (at most 1 s). -1 until the
// group has assigned partitions and they have been fetched from.
// InvalidArgument for bad options, an empty group or no topics.
Result<std::unique_ptr<stream::Consumer>> OpenKafkaConsumer(const KafkaOptions& options,
                                                            std::string group,
                                                            std::vector<std::string> topics,
                                                            StartAt start_at);

// Makes sure every topic in `topics` exists: those missing are created with
// `partitions` partitions and the brokers' default replication factor
// (CreateTopics; one created concurrently by someone else counts as
// created). Existing topics are left as they are, whatever their partition
// count. Takes at most about 2 * options.socket_timeout. Unavailable when the
// cluster cannot be reached or refuses (e.g. no permission, or a cluster that
// does not implement CreateTopics, such as librdkafka's mock cluster);
// InvalidArgument for an empty list, an empty name or partitions < 1.
Status EnsureTopics(const KafkaOptions& options, const std::vector<std::string>& topics,
                    int partitions);

}  // namespace tempo::kafka
