// The --brokers / --log flags, the Kafka property flags and the `kafka:`
// config section.
#include "cli/stream_flags.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <string_view>

#include "kafka/properties.h"

namespace tempo::cli {
namespace {

constexpr std::string_view kPropertyPrefix = "kafka property ";

Status SectionError(const std::string& path, const YAML::Mark& mark, std::string_view reason) {
  if (reason.starts_with(kPropertyPrefix)) reason.remove_prefix(kPropertyPrefix.size());
  return Status::InvalidArgument(path + ":" + std::to_string(mark.line + 1) +
                                 ": kafka: " + std::string(reason));
}

}  // namespace

void AddStreamFlags(CLI::App* cmd, serve::StreamOptions* flags, const std::string& what) {
  auto* brokers = cmd->add_option("--brokers", flags->brokers,
                                  "Kafka bootstrap servers HOST:PORT[,HOST:PORT...] to " + what);
  auto* log = cmd->add_option("--log", flags->log_dir,
                              "Embedded log directory to " + what + " (instead of Kafka)");
  brokers->excludes(log);
  cmd->add_option("--kafka-property", flags->kafka_properties,
                  "librdkafka property KEY=VALUE for the Kafka clients (repeatable; e.g. "
                  "security.protocol=SASL_SSL, sasl.mechanism=SCRAM-SHA-512, "
                  "ssl.ca.location=FILE); a value may be ${env:NAME}. Wins over "
                  "--kafka-property-file and the config file's kafka: map. Keep secrets off "
                  "the command line")
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
  cmd->add_option("--kafka-property-file", flags->kafka_property_file,
                  "File of librdkafka properties, one key=value a line, # comments (for "
                  "secrets: make it readable only by this service); wins over the config "
                  "file's kafka: map")
      ->type_name("FILE");
}

ConfigSection KafkaConfigSection(serve::StreamOptions* options) {
  return {"kafka", [options](const YAML::Node& value, const std::string& path) -> Status {
            if (value.IsNull()) return Status::OK();
            if (!value.IsMap()) {
              return SectionError(path, value.Mark(),
                                  "must be a map of librdkafka property: value");
            }
            kafka::PropertyMap read;
            std::map<std::string, int> line_of;
            for (const auto& entry : value) {
              if (!entry.first.IsScalar() || entry.first.Scalar().empty()) {
                return SectionError(path, entry.first.Mark(), "keys must be property names");
              }
              const std::string key = entry.first.Scalar();
              if (auto [it, fresh] = line_of.emplace(key, entry.first.Mark().line + 1); !fresh) {
                return SectionError(
                    path, entry.first.Mark(),
                    key + ": given twice (first on line " + std::to_string(it->second) + ")");
              }
              if (!entry.second.IsScalar()) {
                return SectionError(path, entry.second.Mark(),
                                    key + ": expected a string, number or boolean");
              }
              const std::string& raw = entry.second.Scalar();
              auto expanded = kafka::ExpandEnvironment(key, raw);
              if (!expanded.ok()) {
                return SectionError(path, entry.second.Mark(), expanded.status().message());
              }
              if (Status s = kafka::CheckProperty(key, *expanded); !s.ok()) {
                return SectionError(path, entry.second.Mark(), s.message());
              }
              read[key] = raw;  // expanded again when the clients are opened
            }
            options->kafka_config = std::move(read);
            return Status::OK();
          }};
}

}  // namespace tempo::cli
