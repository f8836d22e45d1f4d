// The event stream (SPEC §6) as the sync service and the serving processes
// see it: topics of keyed messages, read by consumers that commit how far
// they got, written by producers that confirm delivery.
//
// Two implementations sit behind these interfaces:
//  - Kafka, through librdkafka (src/kafka/): the production shape;
//  - the embedded log (src/log/): append-only segment files on local disk,
//    one partition per topic, for `tempo serve --embedded` and single-host use.
// Code above this layer (src/sync/, `tempo serve`) never knows which one it has.
//
// Topics used by Tempo (configurable):
//   tempo.content.v1        module/experiment/template envelopes, key
//                           "<tenant>/<kind>/<id>" (templates:
//                           "<tenant>/template/<channel>:<pageType>")
//   tempo.content.v1.dlq    invalid events: original key and bytes, headers
//                           "reason", "topic", "partition", "offset"
//   tempo.invalidations.v1  {"tenant","channel","pageType","pageId","version"}
//                           one per touched slice after each applied batch
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tempo::stream {

inline constexpr std::string_view kContentTopic = "tempo.content.v1";
inline constexpr std::string_view kDlqTopic = "tempo.content.v1.dlq";
inline constexpr std::string_view kInvalidationTopic = "tempo.invalidations.v1";

struct Header {
  std::string name;
  std::string value;
};

// One message as read from a topic.
struct Message {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;  // position within the partition; the next message has a higher one
  std::string key;
  std::string value;  // the bytes as produced, unchanged
  std::vector<Header> headers;
};

// Reads topics as a member of a consumer group. Messages of one partition
// arrive in offset order. Not thread-safe: one thread polls and commits.
class Consumer {
 public:
  virtual ~Consumer() = default;

  // Returns up to `max_messages` messages, waiting at most `timeout` for the
  // first one; an empty vector when none arrived in time. Unavailable when
  // the stream cannot be reached now (retrying may help).
  virtual Result<std::vector<Message>> Poll(size_t max_messages,
                                            std::chrono::milliseconds timeout) = 0;

  // Records, for every (topic, partition) in `processed`, that all messages
  // up to and including the highest offset given are done: after a restart
  // the group resumes after them. Synchronous: durable when it returns OK.
  virtual Status Commit(const std::vector<Message>& processed) = 0;

  // Messages not yet consumed (end offset minus position, summed over the
  // assigned partitions), or -1 when unknown.
  virtual int64_t Lag() = 0;
};

// Writes messages. Thread-safe.
class Producer {
 public:
  virtual ~Producer() = default;

  // Queues one message for `topic`. Delivery is confirmed by Flush. Fails
  // at once only when the message cannot be queued (too large, queue full,
  // producer closed).
  virtual Status Send(std::string_view topic, std::string_view key, std::string_view value,
                      const std::vector<Header>& headers = {}) = 0;

  // Waits until every message sent so far is durably delivered (Kafka:
  // acknowledged by all in-sync replicas; embedded log: fsynced), or until
  // `timeout`. Returns the first delivery error since the previous Flush
  // (then some of those messages may not have been delivered).
  virtual Status Flush(std::chrono::milliseconds timeout) = 0;
};

}  // namespace tempo::stream
