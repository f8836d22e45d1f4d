// Which event stream a process uses: Kafka or the embedded log (src/log/),
// for `tempo publish`, `tempo sync` and `tempo serve`, and how to open it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "stream/stream.h"

namespace tempo::serve {

// At most one of the two is set (the flags exclude each other).
struct StreamOptions {
  // Kafka bootstrap servers, HOST:PORT[,HOST:PORT...]. Default: none.
  std::string brokers;
  // The embedded log's directory. Default: none.
  std::string log_dir;
};

// True when one of the fields is set.
bool HasStream(const StreamOptions& options);

// "kafka HOST:PORT" or "log DIR", for messages.
std::string DescribeStream(const StreamOptions& options);

// REQUIRES: HasStream(options).
Result<std::unique_ptr<stream::Producer>> OpenProducer(const StreamOptions& options);

// A consumer of `topics` in `group`; a group without a committed position
// starts at the beginning (`from_latest` false) or at the end. A log
// directory must exist (NotFound naming it otherwise: a reader, such as
// `tempo serve`, never creates one); a command that also writes the log
// opens its producer first, which creates it.
// REQUIRES: HasStream(options).
Result<std::unique_ptr<stream::Consumer>> OpenConsumer(const StreamOptions& options,
                                                       const std::string& group,
                                                       const std::vector<std::string>& topics,
                                                       bool from_latest);

// Creates the Tempo topics when the stream is Kafka (a no-op for the log,
// whose topics appear on first write).
Status EnsureTempoTopics(const StreamOptions& options, const std::vector<std::string>& topics);

}  // namespace tempo::serve
