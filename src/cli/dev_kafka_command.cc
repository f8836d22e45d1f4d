// `tempo dev-kafka`: librdkafka's mock Kafka cluster with the Tempo topics, in
// the foreground, for trying the sync service and `tempo serve` locally.
#include <signal.h>

#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "kafka/mock_cluster.h"
#include "stream/stream.h"

namespace tempo::cli {
namespace {

constexpr int kDefaultBrokers = 1;
constexpr int kDefaultContentPartitions = 4;
// The DLQ and invalidation topics are small and read in order: one partition.
constexpr int kSmallTopicPartitions = 1;

}  // namespace

void RegisterDevKafka(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "dev-kafka",
      "Development aid, not a real Kafka: runs librdkafka's in-process mock Kafka cluster on "
      "127.0.0.1 (ports picked by the kernel) with the Tempo topics until SIGINT/SIGTERM. "
      "Nothing is persisted. The first line of stdout is the bootstrap address to give the "
      "other commands. For fault tests, SIGUSR1 takes every broker down (connections closed "
      "and refused) and SIGUSR2 brings them back.");
  auto brokers = std::make_shared<int>(kDefaultBrokers);
  auto partitions = std::make_shared<int>(kDefaultContentPartitions);
  cmd->add_option("--brokers", *brokers, "Number of mock brokers")
      ->default_val(kDefaultBrokers)
      ->check(CLI::Range(1, kafka::kMaxMockBrokers));
  cmd->add_option("--topics-partitions", *partitions,
                  "Partitions of the content topic (" + std::string(stream::kContentTopic) +
                      "); the DLQ and invalidation topics get one")
      ->default_val(kDefaultContentPartitions)
      ->check(CLI::Range(1, kafka::kMaxMockPartitions));
  cmd->callback([=] {
    // Blocked before the mock brokers start their threads, so that only
    // sigwait below receives the stop and broker control signals.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGUSR1);  // brokers down
    sigaddset(&signals, SIGUSR2);  // brokers up
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    auto cluster = kafka::MockCluster::Start(*brokers);
    if (!cluster.ok()) {
      std::cerr << "tempo dev-kafka: " << cluster.status().ToString() << "\n";
      *exit_code = 1;
      return;
    }
    const std::pair<std::string_view, int> topics[] = {
        {stream::kContentTopic, *partitions},
        {stream::kDlqTopic, kSmallTopicPartitions},
        {stream::kInvalidationTopic, kSmallTopicPartitions},
    };
    for (const auto& [topic, count] : topics) {
      Status st = (*cluster)->CreateTopic(std::string(topic), count);
      if (!st.ok()) {
        std::cerr << "tempo dev-kafka: " << st.ToString() << "\n";
        *exit_code = 1;
        return;
      }
    }
    std::cout << (*cluster)->bootstrap() << std::endl;  // first line, flushed
    std::cerr << "tempo dev-kafka: mock Kafka cluster (" << *brokers << " broker(s)) at "
              << (*cluster)->bootstrap() << " with topics " << stream::kContentTopic << " ("
              << *partitions << " partitions), " << stream::kDlqTopic << ", "
              << stream::kInvalidationTopic << "; not a real Kafka, nothing is kept. "
              << "Stop with Ctrl-C.\n";
    int sig = 0;
    while (sigwait(&signals, &sig) == 0 && (sig == SIGUSR1 || sig == SIGUSR2)) {
      (*cluster)->SetBrokersUp(sig == SIGUSR2);
      std::cerr << "tempo dev-kafka: brokers " << (sig == SIGUSR2 ? "up" : "down") << std::endl;
    }
    std::cerr << "tempo dev-kafka: stopping on signal " << sig << "\n";
    *exit_code = 0;
  });
}

}  // namespace tempo::cli
