// The --brokers / --log flags.
#include "cli/stream_flags.h"

namespace tempo::cli {

void AddStreamFlags(CLI::App* cmd, serve::StreamOptions* flags, const std::string& what) {
  auto* brokers = cmd->add_option("--brokers", flags->brokers,
                                  "Kafka bootstrap servers HOST:PORT[,HOST:PORT...] to " + what);
  auto* log = cmd->add_option("--log", flags->log_dir,
                              "Embedded log directory to " + what + " (instead of Kafka)");
  brokers->excludes(log);
}

}  // namespace tempo::cli
