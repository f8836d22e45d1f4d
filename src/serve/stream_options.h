// Which event stream a process uses: Kafka or the embedded log (src/log/),
// for `tempo publish`, `tempo sync` and `tempo serve`, and how to open it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "kafka/properties.h"
#include "stream/stream.h"

namespace tempo::serve {

// At most one of the two is set (the flags exclude each other).
struct StreamOptions {
  // Kafka bootstrap servers, HOST:PORT[,HOST:PORT...]. Default: none.
  std::string brokers;
  // The embedded log's directory. Default: none.
  std::string log_dir;

  // librdkafka properties for every Kafka client the process opens, producer
  // and consumers alike (security.protocol, sasl.*, ssl.*, client.id, ...),
  // from three sources; for a key in several, the later one wins:
  //  1. the YAML `kafka:` map (cli::KafkaConfigSection);
  //  2. the properties file (--kafka-property-file, kafka::ReadPropertiesFile);
  //  3. --kafka-property KEY=VALUE, in order.
  // Any value may hold ${env:NAME}, read from the environment when the
  // clients are opened (kafka::ExpandEnvironment). Only with brokers.
  // Default: none.
  kafka::PropertyMap kafka_config;
  std::string kafka_property_file;
  std::vector<std::string> kafka_properties;
};

// True when one of the fields is set.
bool HasStream(const StreamOptions& options);

// "kafka HOST:PORT" or "log DIR", for messages.
std::string DescribeStream(const StreamOptions& options);

// The Kafka properties of `options` (see StreamOptions) merged, with their
// ${env:NAME} references expanded. InvalidArgument naming the source and the
// key (never a value of a secret, kafka/properties.h) for a malformed
// --kafka-property, a key given twice on the command line, an unset
// variable, or properties without brokers; IOError or InvalidArgument for
// an unreadable or malformed properties file.
Result<kafka::PropertyMap> KafkaProperties(const StreamOptions& options);

// Everything that OpenProducer, OpenConsumer and EnsureTempoTopics would
// reject about `options` as given, checked before anything is opened or
// connected: KafkaProperties, then librdkafka's verdict on them
// (kafka::CheckProperties). Commands call it at start and exit 2 on error.
Status CheckStreamOptions(const StreamOptions& options);

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
