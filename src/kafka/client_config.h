// Internal to src/kafka/: building librdkafka handles from KafkaOptions, and
// turning librdkafka error codes into Status.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "common/status.h"
#include "kafka/kafka.h"

namespace tempo::kafka::internal {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;

using Properties = std::vector<std::pair<std::string, std::string>>;

// Sends the log lines of the handle made from `conf` to the process log
// (common/logging.h) as component "kafka": "<facility>: <message>" with the
// handle's name as field `client`, at the level FromSyslogLevel gives. Without
// it librdkafka prints them on stderr itself. MakeConf calls it; a handle made
// from another conf (the mock cluster's) must too.
void RouteLogToLogger(rd_kafka_conf_t* conf);

// librdkafka's (syslog's) level, 0 emergency to 7 debug, as a LogLevel: 0-3
// error, 4 warn, 5-6 info (notice and info), 7 debug (only with the `debug`
// property).
LogLevel FromSyslogLevel(int level);

// A configuration holding, in this order: what `options` says, `fixed` (the
// properties the caller's guarantees rest on) and options.extra. InvalidArgument
// when brokers is empty, a property is unknown or malformed, or extra names a
// property that is fixed (ours or one in `fixed`). Its handles log through
// RouteLogToLogger.
Result<ConfPtr> MakeConf(const KafkaOptions& options, const Properties& fixed);

// The properties the producer's guarantees rest on (kafka.h), with its
// fields of `options`.
Properties ProducerProperties(const KafkaOptions& options);

// The properties the consumer's guarantees rest on (kafka.h), with its
// fields of `options`.
Properties ConsumerProperties(const KafkaOptions& options, const std::string& group,
                              StartAt start_at);

// rd_kafka_new on `conf` (consumed either way).
Result<HandlePtr> NewHandle(rd_kafka_type_t type, ConfPtr conf);

// `what: <librdkafka's description>`, with the code that tells the caller
// what to do: InvalidArgument for a message or request that can never
// succeed, IOError for a fatal client error (the handle must be recreated),
// Unavailable for everything the cluster may get over.
Status FromKafkaError(rd_kafka_resp_err_t err, std::string_view what, std::string_view detail = {});

// `timeout` as librdkafka's int milliseconds, within [0, INT_MAX] (librdkafka
// reads a negative one as "forever").
int ClampMs(std::chrono::milliseconds timeout);

}  // namespace tempo::kafka::internal
