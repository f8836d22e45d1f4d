// RenderJson, RenderSummary and RenderProgress.
#include "loadgen/report.h"

#include <cstdio>

#include "common/json.h"

namespace tempo::loadgen {
namespace {

// A rate with one decimal at most ("1000", "999.8").
std::string Rate(double rate) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", rate);
  std::string out(buf);
  if (out.ends_with(".0")) out.resize(out.size() - 2);
  return out;
}

std::string Ms(int64_t us) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(us) / 1000.0);
  return buf;
}

void AppendPercentiles(const HdrHistogram& h, std::string* out) {
  out->push_back('{');
  for (const ReportedPercentile& p : kReportedPercentiles) {
    AppendJsonString(p.key, out);
    out->push_back(':');
    AppendInt(h.ValueAtPercentile(p.percentile), out);
    out->push_back(',');
  }
  out->append("\"max\":");
  AppendInt(h.max(), out);
  out->push_back('}');
}

void AppendPercentileLine(const char* name, const HdrHistogram& h, std::string* out) {
  out->append(name);
  for (const ReportedPercentile& p : kReportedPercentiles) {
    out->append("  ").append(p.key).append(" ").append(Ms(h.ValueAtPercentile(p.percentile)));
  }
  out->append("  max ").append(Ms(h.max())).append(" ms\n");
}

}  // namespace

std::string RenderJson(const LoadReport& r, bool with_service_time) {
  std::string out = "{\"requested_rate\":" + Rate(r.requested_rate_per_s) +
                    ",\"achieved_rate\":" + Rate(r.achieved_rate_per_s) + ",\"requests\":";
  AppendInt(static_cast<int64_t>(r.requests), &out);
  out += ",\"duration_s\":";
  out += Rate(std::chrono::duration<double>(r.duration).count());
  out += ",\"unsent\":";
  AppendInt(static_cast<int64_t>(r.unsent), &out);
  const std::pair<const char*, uint64_t> errors[] = {{"connect", r.errors.connect},
                                                     {"timeout", r.errors.timeout},
                                                     {"io", r.errors.io},
                                                     {"status_4xx", r.errors.status_4xx},
                                                     {"status_5xx", r.errors.status_5xx}};
  out += ",\"errors\":{";
  for (const auto& [key, count] : errors) {
    if (out.back() != '{') out.push_back(',');
    AppendJsonString(key, &out);
    out.push_back(':');
    AppendInt(static_cast<int64_t>(count), &out);
  }
  out += "},\"latency_us\":";
  AppendPercentiles(r.latency_us, &out);
  if (with_service_time) {
    out += ",\"service_time_us\":";
    AppendPercentiles(r.service_time_us, &out);
  }
  out += "}\n";
  return out;
}

std::string RenderSummary(const LoadReport& r, const std::string& what, bool with_service_time) {
  std::string out = what + "\n";
  out += "  requested " + Rate(r.requested_rate_per_s) + " req/s, achieved " +
         Rate(r.achieved_rate_per_s) + " req/s: " + std::to_string(r.requests) + " answers in " +
         Rate(std::chrono::duration<double>(r.duration).count()) + " s";
  if (r.unsent > 0) out += ", " + std::to_string(r.unsent) + " never sent";
  out += "\n  errors: connect " + std::to_string(r.errors.connect) + ", timeout " +
         std::to_string(r.errors.timeout) + ", io " + std::to_string(r.errors.io) + ", 4xx " +
         std::to_string(r.errors.status_4xx) + ", 5xx " + std::to_string(r.errors.status_5xx) +
         "\n";
  AppendPercentileLine("  latency (ms, from the intended send):", r.latency_us, &out);
  if (with_service_time) {
    AppendPercentileLine("  service time (ms, from the actual send):", r.service_time_us, &out);
  }
  if (FellShortOfRate(r)) {
    out += "warning: achieved " + Rate(r.achieved_rate_per_s) + " req/s, less than " +
           std::to_string(static_cast<int>(kAchievedRateShortfall * 100)) + " % of the requested " +
           Rate(r.requested_rate_per_s) +
           " req/s: the server or this generator could not keep up (try more --connections "
           "or --threads); the latencies include the wait\n";
  }
  return out;
}

std::string RenderProgress(const Progress& p) {
  return "tempo bench: " + std::to_string(p.elapsed.count()) + "s  answers " +
         std::to_string(p.answers) + "/s  errors " + std::to_string(p.errors) + "  max " +
         Ms(p.max_latency_us) + " ms" + (p.warmup ? ", warm-up" : "");
}

}  // namespace tempo::loadgen
