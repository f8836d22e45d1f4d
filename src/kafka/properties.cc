// Operator-given Kafka properties (properties.h).
#include "kafka/properties.h"

#include <librdkafka/rdkafka.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "kafka/client_config.h"

namespace tempo::kafka {
namespace {

constexpr std::string_view kEnvOpen = "${env:";

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

Status Bad(std::string_view key, const std::string& why) {
  return Status::InvalidArgument("kafka property " + std::string(key) + ": " + why);
}

// A time property in whole milliseconds.
Result<std::chrono::milliseconds> Millis(std::string_view key, std::string_view value) {
  int64_t ms = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || ms < 0) {
    return Bad(key, "expected whole milliseconds, got \"" + ShownValue(key, value) + "\"");
  }
  return std::chrono::milliseconds(ms);
}

void DiscardLog(const rd_kafka_t*, int, const char*, const char*) {}

// rd_kafka_new on `conf` with nowhere to connect to: the checks librdkafka
// makes only when a client is created (files named by ssl.*, combinations
// such as max.in.flight with idempotence).
Status TryClient(rd_kafka_type_t type, internal::ConfPtr conf) {
  char errstr[512];
  if (rd_kafka_conf_set(conf.get(), "bootstrap.servers", "", errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    return Status::Internal(std::string("kafka: ") + errstr);
  }
  rd_kafka_conf_set_log_cb(conf.get(), &DiscardLog);  // "no bootstrap.servers" notices
  auto rk = internal::NewHandle(type, std::move(conf));
  return rk.status();
}

}  // namespace

bool IsSecretProperty(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("password") != std::string::npos || lower.find("secret") != std::string::npos ||
         lower == "sasl.oauthbearer.config" || lower == "ssl.key.pem";
}

std::string ShownValue(std::string_view name, std::string_view value) {
  return IsSecretProperty(name) ? "***" : std::string(value);
}

Result<std::string> ExpandEnvironment(std::string_view key, std::string_view value) {
  std::string out;
  size_t from = 0;
  for (size_t at = value.find(kEnvOpen); at != std::string_view::npos;
       at = value.find(kEnvOpen, from)) {
    out.append(value.substr(from, at - from));
    const size_t name_at = at + kEnvOpen.size();
    const size_t close = value.find('}', name_at);
    if (close == std::string_view::npos) return Bad(key, "${env: without a closing }");
    const std::string name(value.substr(name_at, close - name_at));
    if (name.empty() ||
        name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789_") != std::string::npos) {
      return Bad(key, "${env:NAME} needs a variable name of letters, digits and _");
    }
    const char* set = std::getenv(name.c_str());
    if (set == nullptr) return Bad(key, "environment variable " + name + " is not set");
    out.append(set);
    from = close + 1;
  }
  out.append(value.substr(from));
  return out;
}

Result<std::pair<std::string, std::string>> ParseAssignment(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return Status::InvalidArgument("kafka property: expected KEY=VALUE, got no '='");
  }
  const std::string_view key = text.substr(0, eq);
  if (key.empty()) return Status::InvalidArgument("kafka property: empty KEY in KEY=VALUE");
  for (char c : key) {
    if (IsBlank(c)) {
      return Status::InvalidArgument("kafka property \"" + std::string(key) +
                                     "\": whitespace in the name");
    }
  }
  return std::make_pair(std::string(key), std::string(text.substr(eq + 1)));
}

Result<PropertyMap> ReadPropertiesFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read the kafka properties file " + path);
  std::string text;
  text.resize(kMaxPropertiesFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Status::IOError("cannot read the kafka properties file " + path);
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxPropertiesFileBytes) {
    return Status::InvalidArgument(path + ": larger than " +
                                   std::to_string(kMaxPropertiesFileBytes) + " bytes");
  }
  PropertyMap out;
  std::map<std::string, int> line_of;
  std::istringstream lines(text);
  int number = 0;
  for (std::string raw; std::getline(lines, raw);) {
    ++number;
    const std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) return Status::InvalidArgument(where + "expected key=value");
    const std::string key(Trim(line.substr(0, eq)));
    if (key.empty()) return Status::InvalidArgument(where + "empty key");
    if (auto [it, fresh] = line_of.emplace(key, number); !fresh) {
      return Status::InvalidArgument(where + key + " given twice (also on line " +
                                     std::to_string(it->second) + ")");
    }
    out[key] = std::string(Trim(line.substr(eq + 1)));
  }
  return out;
}

Status ApplyProperties(const PropertyMap& properties, KafkaOptions* options) {
  for (const auto& [key, value] : properties) {
    if (key == "bootstrap.servers" || key == "metadata.broker.list") {
      return Bad(key, "give the brokers with --brokers (or brokers: in the config file)");
    }
    std::chrono::milliseconds* field = nullptr;
    if (key == "socket.timeout.ms") field = &options->socket_timeout;
    if (key == "session.timeout.ms") field = &options->session_timeout;
    if (key == "linger.ms") field = &options->linger;
    if (key == "message.timeout.ms") field = &options->delivery_timeout;
    if (field != nullptr) {
      auto ms = Millis(key, value);
      if (!ms.ok()) return ms.status();
      *field = *ms;
    } else if (key == "client.id") {
      options->client_id = value;
    } else {
      options->extra[key] = value;
    }
  }
  return Status::OK();
}

Status CheckProperty(const std::string& key, const std::string& value) {
  KafkaOptions options;
  options.brokers = "127.0.0.1:9092";  // nothing connects
  if (Status s = ApplyProperties({{key, value}}, &options); !s.ok()) return s;
  auto producer = internal::MakeConf(options, internal::ProducerProperties(options));
  if (!producer.ok()) return producer.status();
  return internal::MakeConf(options,
                            internal::ConsumerProperties(options, "tempo-check", StartAt::kLatest))
      .status();
}

Status CheckProperties(const PropertyMap& properties) {
  KafkaOptions options;
  options.brokers = "127.0.0.1:9092";  // replaced by none in TryClient
  if (Status s = ApplyProperties(properties, &options); !s.ok()) return s;
  auto producer = internal::MakeConf(options, internal::ProducerProperties(options));
  if (!producer.ok()) return producer.status();
  if (Status s = TryClient(RD_KAFKA_PRODUCER, std::move(*producer)); !s.ok()) return s;
  auto consumer = internal::MakeConf(
      options, internal::ConsumerProperties(options, "tempo-check", StartAt::kLatest));
  if (!consumer.ok()) return consumer.status();
  return TryClient(RD_KAFKA_CONSUMER, std::move(*consumer));
}

}  // namespace tempo::kafka
