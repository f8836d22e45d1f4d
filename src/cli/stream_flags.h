// Choosing the event stream on the command line: Kafka (--brokers) or the
// embedded log (--log DIR), for `tempo publish`, `tempo sync` and `tempo serve`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/status.h"
#include "stream/stream.h"

namespace tempo::cli {

struct StreamFlags {
  std::string brokers;  // Kafka bootstrap servers, host:port[,host:port...]
  std::string log_dir;  // embedded log directory
};

// Adds --brokers and --log (mutually exclusive) to `cmd`. `what` says what
// the command does with the stream, for the help text.
void AddStreamFlags(CLI::App* cmd, StreamFlags* flags, const std::string& what);

// True when one of the flags was given.
bool HasStream(const StreamFlags& flags);

// "kafka HOST:PORT" or "log DIR", for messages.
std::string DescribeStream(const StreamFlags& flags);

// REQUIRES: HasStream(flags).
Result<std::unique_ptr<stream::Producer>> OpenProducer(const StreamFlags& flags);

// A consumer of `topics` in `group`; a group without a committed position
// starts at the beginning (`from_latest` false) or at the end. A log
// directory must exist (NotFound naming it otherwise: a reader, such as
// `tempo serve`, never creates one); a command that also writes the log
// opens its producer first, which creates it.
// REQUIRES: HasStream(flags).
Result<std::unique_ptr<stream::Consumer>> OpenConsumer(const StreamFlags& flags,
                                                       const std::string& group,
                                                       const std::vector<std::string>& topics,
                                                       bool from_latest);

// Creates the Tempo topics when the stream is Kafka (a no-op for the log,
// whose topics appear on first write).
Status EnsureTempoTopics(const StreamFlags& flags, const std::vector<std::string>& topics);

}  // namespace tempo::cli
