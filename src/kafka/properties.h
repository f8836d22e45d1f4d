// Kafka client properties as an operator gives them (`--kafka-property
// KEY=VALUE`, a properties file, the YAML `kafka:` map): parsing them,
// expanding ${env:NAME} references, putting them into KafkaOptions, checking
// them with librdkafka before anything connects, and keeping secret values
// out of every message.
//
// Secrets. A property whose name holds "password" or "secret"
// (sasl.password, ssl.key.password, ssl.keystore.password,
// sasl.oauthbearer.client.secret, ...), or that is sasl.oauthbearer.config or
// ssl.key.pem, is a secret: no message of this file, of client_config.h or of
// the commands shows its value ("***" instead). Secrets need never be on a
// command line: put them in a properties file readable only by the service
// account, or in the environment and refer to them as ${env:NAME}.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"
#include "kafka/kafka.h"

namespace tempo::kafka {

// librdkafka property name -> value.
using PropertyMap = std::map<std::string, std::string>;

// True when the value of property `name` must never be shown (see above).
bool IsSecretProperty(std::string_view name);

// `value`, or "***" when `name` is a secret: for messages.
std::string ShownValue(std::string_view name, std::string_view value);

// `value` with every "${env:NAME}" replaced by the environment variable NAME
// (letters, digits and '_'); anything else is kept as it is, so a value with
// no reference is returned unchanged. InvalidArgument "kafka property KEY:
// ..." (never showing the value) when NAME is not set, is empty or malformed,
// or the reference has no closing '}'. A variable set to "" is used as "".
Result<std::string> ExpandEnvironment(std::string_view key, std::string_view value);

// Splits one "KEY=VALUE" (the first '=' separates; VALUE may be empty or
// hold '='). InvalidArgument when there is no '=' or KEY is empty or holds
// whitespace; the message never shows the value.
Result<std::pair<std::string, std::string>> ParseAssignment(std::string_view text);

// Reads a Java-properties-style file: one "key=value" a line; blank lines and
// lines whose first non-blank character is '#' or '!' are skipped;
// whitespace around the key and around the value is trimmed; the value is
// the rest of the line, as it is (no escapes, no continuation lines; it may
// hold ${env:NAME}, expanded later). Files over kMaxPropertiesFileBytes are
// refused. IOError when the file cannot be read; InvalidArgument "FILE:LINE:
// reason" for a line without '=', an empty key, or a key given twice (naming
// both lines). No message shows a value.
Result<PropertyMap> ReadPropertiesFile(const std::string& path);

inline constexpr size_t kMaxPropertiesFileBytes = 1 << 20;

// Puts `properties` into `options`. The properties KafkaOptions has a field
// for go to that field, so that Tempo's own use of it agrees (client.id,
// socket.timeout.ms, session.timeout.ms, linger.ms, message.timeout.ms; the
// times in whole milliseconds); every other one goes to options->extra,
// replacing an entry there. InvalidArgument "kafka property KEY: ..." for
// bootstrap.servers (the brokers are their own option) and for a time that
// is not a whole number of milliseconds. Whether librdkafka accepts the
// rest is checked when a client is made (or by CheckProperties).
Status ApplyProperties(const PropertyMap& properties, KafkaOptions* options);

// ApplyProperties and librdkafka's verdict on this one property alone (its
// name and the form of its value; no client is made). InvalidArgument as
// CheckProperties.
Status CheckProperty(const std::string& key, const std::string& value);

// ApplyProperties on default options, then the whole configuration through
// librdkafka as the producer and the consumer would set it, connecting to
// nothing. InvalidArgument "kafka property KEY: <librdkafka's reason>" for an
// unknown property, a bad value, or one that Tempo sets itself (kafka.h),
// secret values shown as "***".
Status CheckProperties(const PropertyMap& properties);

}  // namespace tempo::kafka
