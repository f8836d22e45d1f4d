// Building librdkafka configurations and mapping its errors (client_config.h).
#include "kafka/client_config.h"

#include <algorithm>
#include <array>
#include <limits>

#include "kafka/properties.h"

namespace tempo::kafka::internal {
namespace {

// Every property Tempo sets, from KafkaOptions fields or because a guarantee
// of the producer or consumer rests on it: extra may not name any of them,
// whichever client the options open, so that one KafkaOptions means the same
// to both.
constexpr std::array<std::string_view, 14> kTempoProperties = {"bootstrap.servers",
                                                               "client.id",
                                                               "socket.timeout.ms",
                                                               "enable.idempotence",
                                                               "acks",
                                                               "linger.ms",
                                                               "message.timeout.ms",
                                                               "partitioner",
                                                               "group.id",
                                                               "enable.auto.commit",
                                                               "enable.auto.offset.store",
                                                               "auto.offset.reset",
                                                               "session.timeout.ms",
                                                               "heartbeat.interval.ms"};

// librdkafka's reason may quote the value: a secret one becomes "***".
Status Set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    std::string why = errstr;
    if (IsSecretProperty(name) && !value.empty()) {
      for (size_t at = why.find(value); at != std::string::npos; at = why.find(value, at + 3)) {
        why.replace(at, value.size(), "***");
      }
    }
    return Status::InvalidArgument("kafka property " + name + ": " + why);
  }
  return Status::OK();
}

std::string Ms(std::chrono::milliseconds ms) { return std::to_string(ms.count()); }

// Called on librdkafka's threads (and the caller's, in rd_kafka_new); Log is thread-safe.
void OnLog(const rd_kafka_t* rk, int level, const char* facility, const char* text) {
  const LogLevel ours = FromSyslogLevel(level);
  if (!LogEnabled(ours)) return;
  std::string message = facility;
  message += ": ";
  message += text;
  Log(ours, "kafka", message, {{"client", rk != nullptr ? rd_kafka_name(rk) : "-"}});
}

}  // namespace

void RouteLogToLogger(rd_kafka_conf_t* conf) { rd_kafka_conf_set_log_cb(conf, &OnLog); }

LogLevel FromSyslogLevel(int level) {
  if (level <= 3) return LogLevel::kError;  // LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR
  if (level == 4) return LogLevel::kWarn;   // LOG_WARNING
  if (level <= 6) return LogLevel::kInfo;   // LOG_NOTICE, LOG_INFO
  return LogLevel::kDebug;                  // LOG_DEBUG
}

Result<ConfPtr> MakeConf(const KafkaOptions& options, const Properties& fixed) {
  if (options.brokers.empty()) return Status::InvalidArgument("kafka: no brokers given");
  for (const auto& [name, value] : options.extra) {
    const bool ours =
        std::find(kTempoProperties.begin(), kTempoProperties.end(), name) != kTempoProperties.end();
    const bool callers = std::any_of(fixed.begin(), fixed.end(),
                                     [&name = name](const auto& p) { return p.first == name; });
    if (ours || callers) {
      return Status::InvalidArgument(
          "kafka property " + name +
          " is set by Tempo (see KafkaOptions) and cannot be overridden");
    }
  }
  ConfPtr conf(rd_kafka_conf_new());
  RouteLogToLogger(conf.get());
  const Properties common = {
      {"bootstrap.servers", options.brokers},
      {"client.id", options.client_id},
      {"socket.timeout.ms", Ms(options.socket_timeout)},
  };
  for (const Properties* props : {&common, &fixed}) {
    for (const auto& [name, value] : *props) {
      if (Status st = Set(conf.get(), name, value); !st.ok()) return st;
    }
  }
  for (const auto& [name, value] : options.extra) {
    if (Status st = Set(conf.get(), name, value); !st.ok()) return st;
  }
  return conf;
}

Properties ProducerProperties(const KafkaOptions& options) {
  return {
      {"enable.idempotence", "true"},    {"acks", "all"},
      {"linger.ms", Ms(options.linger)}, {"message.timeout.ms", Ms(options.delivery_timeout)},
      {"partitioner", "murmur2_random"},
  };
}

Properties ConsumerProperties(const KafkaOptions& options, const std::string& group,
                              StartAt start_at) {
  return {
      {"group.id", group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", start_at == StartAt::kEarliest ? "earliest" : "latest"},
      {"session.timeout.ms", Ms(options.session_timeout)},
      {"heartbeat.interval.ms",
       std::to_string(std::max<int64_t>(1, options.session_timeout.count() / 3))},
  };
}

Result<HandlePtr> NewHandle(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) return Status::InvalidArgument(std::string("kafka: ") + errstr);
  conf.release();  // rd_kafka_new owns it now
  return HandlePtr(rk);
}

Status FromKafkaError(rd_kafka_resp_err_t err, std::string_view what, std::string_view detail) {
  std::string msg(what);
  msg += ": ";
  msg += detail.empty() ? rd_kafka_err2str(err) : detail;
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return Status::InvalidArgument(std::move(msg));
    case RD_KAFKA_RESP_ERR__FATAL:
      return Status::IOError(std::move(msg));
    default:
      return Status::Unavailable(std::move(msg));
  }
}

int ClampMs(std::chrono::milliseconds timeout) {
  return static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, std::numeric_limits<int>::max()));
}

}  // namespace tempo::kafka::internal
