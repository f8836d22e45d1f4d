// `tempo publish (--brokers HOST:PORT | --log DIR | --embedded DIR) [--topic T] FILE|-`:
// produces an NDJSON event file to the content topic (SPEC §6).
#include <iostream>

#include "cli/commands.h"
#include "cli/config_file.h"
#include "cli/event_input.h"
#include "cli/output.h"
#include "cli/stream_flags.h"
#include "log/log.h"
#include "sync/publish.h"

namespace tempo::cli {

void RegisterPublish(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "publish",
      "Validate an NDJSON event file and send its valid lines to the content topic, keyed "
      "<tenant>/<kind>/<id>, waiting until every message is delivered. Invalid lines are "
      "reported on stderr as 'line N: field: reason' and not sent. Exits 0 when everything "
      "valid was delivered, 1 otherwise.");
  auto flags = std::make_shared<serve::StreamOptions>();
  auto embedded = std::make_shared<std::string>();
  auto topic = std::make_shared<std::string>(stream::kContentTopic);
  auto file = std::make_shared<std::string>();
  auto max_record_bytes = std::make_shared<size_t>();
  auto config = std::make_shared<std::string>();
  auto segment_bytes = std::make_shared<size_t>(log::LogOptions().segment_bytes);
  AddStreamFlags(cmd, flags.get(), "publish to");
  cmd->add_option("--embedded", *embedded,
                  "Data directory of a `tempo serve --embedded` (publishes to its log, DIR/log)")
      ->excludes("--brokers")
      ->excludes("--log");
  cmd->add_option("--topic", *topic, "Content topic")
      ->default_val(std::string(stream::kContentTopic));
  AddMaxRecordBytesOption(cmd, max_record_bytes.get());
  cmd->add_option("--log-segment-bytes", *segment_bytes,
                  "With --log or --embedded: size at which the log's segments roll over")
      ->capture_default_str()
      ->check(CLI::Range(log::kMinSegmentBytes, log::kMaxSegmentBytes));
  cmd->add_option("file", *file, "NDJSON event file, or - for stdin")->required();
  AddConfigOption(cmd, config.get());
  cmd->callback([=] {
    if (Status s = ApplyConfigFile(cmd, *config, {KafkaConfigSection(flags.get())}); !s.ok()) {
      std::cerr << "tempo publish: " << s.message() << "\n";
      *exit_code = 2;
      return;
    }
    serve::StreamOptions stream = *flags;
    if (!embedded->empty()) stream.log_dir = *embedded + "/log";
    if (!serve::HasStream(stream)) {
      std::cerr << "tempo publish: give --brokers, --log or --embedded\n";
      *exit_code = 2;
      return;
    }
    if (Status s = serve::CheckStreamOptions(stream); !s.ok()) {
      std::cerr << "tempo publish: " << s.message() << "\n";
      *exit_code = 2;
      return;
    }
    if (stream.log_dir.empty() && *segment_bytes != log::LogOptions().segment_bytes) {
      std::cerr << "tempo publish: --log-segment-bytes needs --log or --embedded\n";
      *exit_code = 2;
      return;
    }
    InputFile input;
    if (Status s = input.Open(*file); !s.ok()) {
      std::cerr << "tempo publish: " << s.message() << "\n";
      *exit_code = 1;
      return;
    }
    if (Status s = serve::EnsureTempoTopics(stream, {*topic}); !s.ok()) {
      std::cerr << "tempo publish: " << s.ToString() << "\n";
      *exit_code = 1;
      return;
    }
    log::LogOptions log_options;
    log_options.segment_bytes = *segment_bytes;
    auto producer = stream.log_dir.empty() ? serve::OpenProducer(stream)
                                           : log::OpenLogProducer(stream.log_dir, log_options);
    if (!producer.ok()) {
      std::cerr << "tempo publish: " << producer.status().ToString() << "\n";
      *exit_code = 1;
      return;
    }
    events::DecodeOptions decode;
    decode.max_record_bytes = *max_record_bytes;
    auto report = sync::Publish(input.stream(), **producer, *topic, decode);
    if (!report.ok()) {
      std::cerr << "tempo publish: " << report.status().ToString() << "\n";
      *exit_code = 1;
      return;
    }
    for (const std::string& error : report->errors) std::cerr << error << "\n";
    std::cout << "sent " << report->sent << ", invalid " << report->invalid << " ("
              << serve::DescribeStream(stream) << ", topic " << *topic << ")\n";
    if (Status s = FlushOutput(std::cout, "stdout"); !s.ok()) {
      std::cerr << "tempo publish: " << s.message() << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace tempo::cli
