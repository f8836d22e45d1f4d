// `tempo bench`: an open-loop HTTP load test of one URL or a request log (loadgen/loadgen.h).
//
//   tempo bench (URL | --requests FILE --base URL) --rate R --duration D [--connections C]
//               [--threads T] [--warmup D] [--timeout D] [--json FILE] [--uncorrected]
//
// Prints a summary on stdout (and a warning when the achieved rate fell short of --rate), a
// progress line a second on stderr when it is a terminal, and with --json the report as one
// JSON document (loadgen/report.h). Exit codes: 0 when the run took place, whatever the
// server answered; 1 when it could not (the server unreachable, the JSON file not written);
// 2 for a usage error.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/duration.h"
#include "loadgen/loadgen.h"
#include "loadgen/report.h"
#include "loadgen/request_source.h"

namespace tempo::cli {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailed = 1;

struct Flags {
  std::string url;
  std::string requests_file;
  std::string base;
  double rate = 0;
  std::string duration;
  std::string warmup;
  std::string timeout;
  int connections = 0;
  int threads = 0;
  std::string json_file;
  bool uncorrected = false;
};

// The flags as LoadOptions, and what the run is, for the summary; a usage error otherwise.
Result<std::pair<loadgen::LoadOptions, std::string>> ToOptions(const Flags& f) {
  loadgen::LoadOptions o;
  std::string what;
  if (f.url.empty() == f.requests_file.empty()) {
    return Status::InvalidArgument("give either a URL or --requests FILE --base URL");
  }
  if (f.requests_file.empty() != f.base.empty()) {
    return Status::InvalidArgument("--requests and --base go together");
  }
  Result<loadgen::HttpUrl> url = loadgen::ParseHttpUrl(f.url.empty() ? f.base : f.url);
  if (!url.ok()) return url.status();
  o.host = url->host;
  o.port = url->port;
  if (f.url.empty()) {
    if (url->target != "/") return Status::InvalidArgument("--base takes no path: " + f.base);
    Result<std::vector<std::string>> log = loadgen::ReadRequestLog(f.requests_file);
    if (!log.ok()) return log.status();
    o.targets = std::move(*log);
    what = "request log " + f.requests_file + " (" + std::to_string(o.targets.size()) +
           " requests, in a loop) against " + f.base;
  } else {
    o.targets = {url->target};
    what = "GET " + f.url;
  }
  o.rate_per_s = f.rate;
  for (auto [text, field, name] : {std::tuple{&f.duration, &o.duration, "--duration"},
                                   std::tuple{&f.warmup, &o.warmup, "--warmup"},
                                   std::tuple{&f.timeout, &o.timeout, "--timeout"}}) {
    Result<std::chrono::nanoseconds> d = ParseDuration(*text);
    if (!d.ok()) return Status::InvalidArgument(std::string(name) + ": " + d.status().message());
    *field = *d;
  }
  o.connections = f.connections;
  o.threads = f.threads;
  if (o.threads > o.connections) {
    return Status::InvalidArgument("--threads must be at most --connections");
  }
  if (o.duration.count() == 0) return Status::InvalidArgument("--duration must be > 0");
  if (o.timeout.count() == 0) return Status::InvalidArgument("--timeout must be > 0");
  if (o.duration + o.warmup > loadgen::kMaxDuration) {
    return Status::InvalidArgument("--warmup and --duration together must be at most " +
                                   FormatDuration(loadgen::kMaxDuration));
  }
  char rate[64];
  std::snprintf(rate, sizeof rate, "%g", o.rate_per_s);
  what += "\n  " + std::string(rate) + " req/s over " + std::to_string(o.connections) +
          " connections on " + std::to_string(o.threads) + " thread(s), " +
          FormatDuration(o.duration) + " after a " + FormatDuration(o.warmup) + " warm-up";
  return std::pair{std::move(o), std::move(what)};
}

void Run(const Flags& f, int* exit_code) {
  auto options = ToOptions(f);
  if (!options.ok()) {
    std::cerr << "tempo bench: " << options.status().message() << "\n";
    *exit_code = kExitUsage;
    return;
  }
  const auto& [load, what] = *options;
  loadgen::ProgressFn progress;
  if (isatty(STDERR_FILENO) != 0) {
    progress = [](const loadgen::Progress& p) {
      std::cerr << loadgen::RenderProgress(p) << std::endl;
    };
  }
  Result<loadgen::LoadReport> report = loadgen::RunLoad(load, progress);
  if (!report.ok()) {
    std::cerr << "tempo bench: " << report.status().message() << "\n";
    *exit_code =
        report.status().code() == Status::Code::kInvalidArgument ? kExitUsage : kExitFailed;
    return;
  }
  std::cout << loadgen::RenderSummary(*report, what, f.uncorrected);
  Status written = FlushOutput(std::cout, "stdout");
  if (written.ok() && !f.json_file.empty()) {
    std::ofstream json(f.json_file, std::ios::binary | std::ios::trunc);
    json << loadgen::RenderJson(*report, f.uncorrected);
    written = FlushOutput(json, f.json_file);
  }
  if (!written.ok()) {
    std::cerr << "tempo bench: " << written.message() << "\n";
    *exit_code = kExitFailed;
  }
}

}  // namespace

void RegisterBench(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "bench",
      "Open-loop HTTP load test: GET one URL, or the lines of a request log (`tempo gen "
      "--requests-out`) in a loop, at a constant total rate over keep-alive connections. "
      "Latency counts from each request's intended send time, so a stall of the server shows "
      "in the percentiles (wrk2's model).");
  auto f = std::make_shared<Flags>();
  const loadgen::LoadOptions defaults;
  f->duration = FormatDuration(defaults.duration);
  f->warmup = FormatDuration(defaults.warmup);
  f->timeout = FormatDuration(defaults.timeout);
  f->connections = defaults.connections;
  f->threads = defaults.threads;
  cmd->add_option("url", f->url, "http://HOST[:PORT]/path?query to GET");
  cmd->add_option("--requests", f->requests_file,
                  "Request log to replay in a loop: one /path?query a line (needs --base)");
  cmd->add_option("--base", f->base, "http://HOST[:PORT] the request log's lines are sent to");
  cmd->add_option("--rate", f->rate, "Requests per second, over all connections")
      ->required()
      ->check(CLI::Range(0.001, loadgen::kMaxRatePerS));
  cmd->add_option("--duration", f->duration, "How long to measure: 30s, 500ms, 2m, 1h")
      ->capture_default_str();
  cmd->add_option("--warmup", f->warmup, "How long to send before measuring")
      ->capture_default_str();
  cmd->add_option("--connections", f->connections,
                  "Keep-alive connections, each with one request in flight")
      ->capture_default_str()
      ->check(CLI::Range(1, loadgen::kMaxConnections));
  cmd->add_option("--threads", f->threads, "Threads the connections are spread over")
      ->capture_default_str()
      ->check(CLI::Range(1, loadgen::kMaxThreads));
  cmd->add_option("--timeout", f->timeout,
                  "A connect, or a request and its answer, taking longer is an error")
      ->capture_default_str();
  cmd->add_option("--json", f->json_file, "Also write the report as JSON to this file");
  cmd->add_flag("--uncorrected", f->uncorrected,
                "Also report the service time (from the actual send, as wrk measures)");
  cmd->callback([f, exit_code] { Run(*f, exit_code); });
}

}  // namespace tempo::cli
