// Choosing the event stream on the command line: Kafka (--brokers) or the
// embedded log (--log DIR), for `tempo publish`, `tempo sync` and `tempo
// serve`, and the Kafka clients' own settings (--kafka-property,
// --kafka-property-file, the YAML `kafka:` map). Opening it:
// serve/stream_options.h.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/config_file.h"
#include "serve/stream_options.h"

namespace tempo::cli {

// Adds --brokers and --log (mutually exclusive), --kafka-property KEY=VALUE
// (repeatable) and --kafka-property-file FILE to `cmd`. `what` says what the
// command does with the stream, for the help text. The Kafka properties are
// only collected here; the command checks them with
// serve::CheckStreamOptions once the config file is applied.
void AddStreamFlags(CLI::App* cmd, serve::StreamOptions* options, const std::string& what);

// The `kafka:` section of a config file (cli/config_file.h): a map of
// librdkafka property names to values (strings, numbers or booleans), stored
// in options->kafka_config. Each property is checked as it is read (name,
// form of the value, ${env:NAME} set); the message names the file, line and
// property: "FILE:LINE: kafka: sasl.mechanism: <librdkafka's reason>".
//
//   kafka:
//     security.protocol: SASL_SSL
//     sasl.mechanism: SCRAM-SHA-512
//     sasl.username: tempo-eu
//     sasl.password: ${env:TEMPO_KAFKA_PASSWORD}
//     ssl.ca.location: /etc/tempo/kafka-ca.pem
ConfigSection KafkaConfigSection(serve::StreamOptions* options);

}  // namespace tempo::cli
