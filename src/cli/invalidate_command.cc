// `tempo invalidate (--brokers HOST:PORT | --log DIR) --tenant T [--channel C]
// [--page-type P] [--scope S]`: publishes an operator's drop
// (events::CacheDrop) to the invalidation topic, so that every `tempo serve`
// drops the matching slices from its L1.
#include <iostream>

#include "api/query.h"
#include "cli/commands.h"
#include "cli/config_file.h"
#include "cli/output.h"
#include "cli/stream_flags.h"
#include "events/invalidation.h"

namespace tempo::cli {
namespace {

// How long the drop may take to be delivered.
constexpr std::chrono::seconds kDeliveryTimeout{30};

}  // namespace

void RegisterInvalidate(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "invalidate",
      "Make every `tempo serve` drop a tenant's cached slices (all of them, or those of a "
      "channel, page type and scope) from its L1: publishes the drop to the invalidation "
      "topic and waits until it is delivered. Exits 0 once delivered, 1 otherwise, 2 on a "
      "usage error.");
  auto flags = std::make_shared<serve::StreamOptions>();
  auto drop = std::make_shared<events::CacheDrop>();
  auto topic = std::make_shared<std::string>(stream::kInvalidationTopic);
  auto config = std::make_shared<std::string>();
  AddStreamFlags(cmd, flags.get(), "publish the drop to");
  cmd->add_option("--tenant", drop->tenant, "Tenant whose slices to drop")->required();
  cmd->add_option("--channel", drop->channel, "Only this channel's slices");
  cmd->add_option("--page-type", drop->page_type, "Only this page type's slices");
  cmd->add_option("--scope", drop->scope, "Only this scope: * (type-wide) or a pageId");
  cmd->add_option("--topic", *topic, "Invalidation topic")
      ->default_val(std::string(stream::kInvalidationTopic));
  AddConfigOption(cmd, config.get());
  cmd->callback([=] {
    auto usage = [&](const std::string& message) {
      std::cerr << "tempo invalidate: " << message << "\n";
      *exit_code = 2;
    };
    if (Status s = ApplyConfigFile(cmd, *config, {KafkaConfigSection(flags.get())}); !s.ok()) {
      return usage(s.message());
    }
    if (!serve::HasStream(*flags)) return usage("give --brokers or --log");
    if (Status s = serve::CheckStreamOptions(*flags); !s.ok()) return usage(s.message());
    const std::pair<api::PartitionField, const std::string*> fields[] = {
        {api::PartitionField::kTenant, &drop->tenant},
        {api::PartitionField::kChannel, &drop->channel},
        {api::PartitionField::kPageType, &drop->page_type},
        {api::PartitionField::kPageId, &drop->scope}};
    const char* names[] = {"--tenant", "--channel", "--page-type", "--scope"};
    for (size_t i = 0; i < std::size(fields); ++i) {
      const std::string& value = *fields[i].second;
      if (i > 0 && (value.empty() || (i == 3 && value == "*"))) continue;
      if (auto error = api::PartitionValueError(fields[i].first, names[i], value)) {
        return usage(error->message);
      }
    }
    if (Status s = serve::EnsureTempoTopics(*flags, {*topic}); !s.ok()) {
      std::cerr << "tempo invalidate: " << s.ToString() << "\n";
      *exit_code = 1;
      return;
    }
    auto producer = serve::OpenProducer(*flags);
    Status sent = producer.ok() ? (*producer)->Send(*topic, events::CacheDropKey(*drop),
                                                    events::EncodeCacheDrop(*drop))
                                : producer.status();
    if (sent.ok()) sent = (*producer)->Flush(kDeliveryTimeout);
    if (!sent.ok()) {
      std::cerr << "tempo invalidate: " << sent.ToString() << "\n";
      *exit_code = 1;
      return;
    }
    std::cout << "sent " << events::EncodeCacheDrop(*drop) << " (" << serve::DescribeStream(*flags)
              << ", topic " << *topic << ")\n";
    if (Status s = FlushOutput(std::cout, "stdout"); !s.ok()) {
      std::cerr << "tempo invalidate: " << s.message() << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace tempo::cli
