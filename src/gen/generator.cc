// `tempo gen`: streams the data set pass by pass, then the request log.
#include "gen/generator.h"

#include <string>
#include <vector>

#include "gen/catalog.h"
#include "gen/history.h"
#include "gen/invalid.h"
#include "gen/line_writer.h"
#include "gen/manifest.h"
#include "gen/records.h"
#include "gen/requests.h"
#include "gen/rng.h"
#include "gen/timestamp.h"

namespace tempo::gen {
namespace {

constexpr uint64_t kClockStream = 0x636c6f63;    // "cloc"
constexpr uint64_t kInvalidStream = 0x696e7661;  // "inva"
// One invalid event every 50..150 valid ones: about 1% of the lines.
constexpr int64_t kMinInvalidGap = 50;
constexpr int64_t kMaxInvalidGap = 150;
constexpr uint64_t kProgressUnits = 4096;
constexpr int64_t kMillisPerSecond = 1000;
constexpr int64_t kNanosPerMilli = 1'000'000;
constexpr int64_t kMaxPublishStepMs = 1500;
// A tenant that only ever receives a delete: a tombstone must not make it known.
constexpr std::string_view kGhostTenant = "GONE";

// publishedAt of successive events: increasing, mostly "...T10:00:00.123Z".
class PublishClock {
 public:
  explicit PublishClock(uint64_t seed)
      : rng_(StreamSeed(seed, {kClockStream})),
        millis_(UnixSecondsOf(2026, 11, 20) * kMillisPerSecond) {}

  std::string_view Next() {
    millis_ += rng_.Between(1, kMaxPublishStepMs);
    text_.clear();
    const uint64_t r = rng_.Below(100);
    const int digits = r < 2 ? 0 : 3;
    const int offset = r >= 97 ? 60 : 0;
    AppendRfc3339(millis_ / kMillisPerSecond,
                  static_cast<uint32_t>(millis_ % kMillisPerSecond * kNanosPerMilli), digits,
                  offset, true, &text_);
    return text_;
  }

 private:
  Rng rng_;
  int64_t millis_;
  std::string text_;
};

class EventStream {
 public:
  EventStream(uint64_t seed, std::ostream* out, Manifest* manifest)
      : writer_(out),
        clock_(seed),
        invalid_rng_(StreamSeed(seed, {kInvalidStream})),
        manifest_(manifest) {
    until_invalid_ = invalid_rng_.Between(kMinInvalidGap, kMaxInvalidGap);
  }

  // Writes one valid envelope whose record `append_record(std::string*)`
  // appends, then, now and then, an invalid event about the same tenant.
  template <typename AppendRecord>
  void Emit(const TenantPlan& tenant, std::string_view kind, bool is_delete,
            AppendRecord&& append_record) {
    std::string* line = writer_.line();
    AppendEnvelopeStart(kind, is_delete ? "delete" : "upsert", clock_.Next(), line);
    append_record(line);
    line->push_back('}');
    writer_.EndLine();
    if (--until_invalid_ == 0) {
      until_invalid_ = invalid_rng_.Between(kMinInvalidGap, kMaxInvalidGap);
      const uint64_t at = writer_.lines();
      const std::string_view defect =
          AppendInvalidEvent(invalid_rng_, tenant, clock_.Next(), writer_.line());
      writer_.EndLine();
      if (manifest_ != nullptr) manifest_->invalid_events.push_back({at, std::string(defect)});
    }
  }

  LineWriter& writer() { return writer_; }

 private:
  LineWriter writer_;
  PublishClock clock_;
  Rng invalid_rng_;
  int64_t until_invalid_ = 0;
  Manifest* manifest_;  // null: record nothing
};

void EmitTemplates(const TenantPlan& tenant, Pass pass, EventStream* events) {
  for (const TemplatePlan& tmpl : tenant.templates) {
    const History h = DrawHistory(tmpl.seed, kTemplateHistory);
    for (int i = 0; i < h.size; ++i) {
      const HistoryStep& s = h.steps[i];
      if (s.pass != pass) continue;
      events->Emit(tenant, "template", s.is_delete, [&](std::string* out) {
        if (s.is_delete) {
          AppendTemplateDelete(tenant, tmpl, s.version, out);
        } else {
          AppendTemplateRecord(tenant, tmpl, s.version, s.revision, out);
        }
      });
    }
  }
}

void EmitExperiments(const TenantPlan& tenant, Pass pass, EventStream* events) {
  for (const ExperimentPlan& exp : tenant.experiments) {
    const History h = DrawHistory(exp.seed, kExperimentHistory);
    for (int i = 0; i < h.size; ++i) {
      const HistoryStep& s = h.steps[i];
      if (s.pass != pass) continue;
      events->Emit(tenant, "experiment", s.is_delete, [&](std::string* out) {
        if (s.is_delete) {
          AppendExperimentDelete(tenant, exp, s.version, out);
        } else {
          AppendExperimentRecord(tenant, exp, s.version, s.revision, out);
        }
      });
    }
  }
}

// Generate, recording intent in `manifest` unless it is null (a billion-line
// request log would otherwise keep tens of millions of entries in memory).
Status GenerateImpl(const GenOptions& options, std::ostream& events, std::ostream* requests,
                    const Progress& progress, Manifest* manifest) {
  if (options.tenants < 1) return Status::InvalidArgument("tenants must be at least 1");
  if (options.modules < 1) return Status::InvalidArgument("modules must be at least 1");
  if (options.requests < 0) return Status::InvalidArgument("requests must not be negative");

  std::vector<TenantPlan> tenants;
  tenants.reserve(static_cast<size_t>(options.tenants));
  for (int t = 0; t < options.tenants; ++t) {
    tenants.push_back(BuildTenantPlan(options.seed, static_cast<uint32_t>(t), options.modules));
  }

  const uint64_t request_units = requests != nullptr ? static_cast<uint64_t>(options.requests) : 0;
  const uint64_t total = uint64_t{kPassCount} * static_cast<uint64_t>(options.tenants) *
                             static_cast<uint64_t>(options.modules) +
                         request_units;
  uint64_t done = 0;
  auto report = [&](uint64_t units) {
    done += units;
    if (progress) progress(done, total);
  };

  EventStream stream(options.seed, &events, manifest);
  for (int p = 0; p < kPassCount; ++p) {
    const auto pass = static_cast<Pass>(p);
    for (const TenantPlan& tenant : tenants) {
      EmitTemplates(tenant, pass, &stream);
      EmitExperiments(tenant, pass, &stream);
      uint64_t pending = 0;
      for (int64_t i = 0; i < tenant.modules; ++i) {
        const ModulePlan m = PlanModule(tenant, i);
        const History h = DrawHistory(m.seed, kModuleHistory);
        for (int k = 0; k < h.size; ++k) {
          const HistoryStep& s = h.steps[k];
          if (s.pass != pass) continue;
          stream.Emit(tenant, "module", s.is_delete, [&](std::string* out) {
            if (s.is_delete) {
              AppendModuleDelete(tenant, m, s.version, out);
            } else {
              AppendModuleRecord(tenant, m, s.version, s.revision, out);
            }
          });
        }
        if (++pending == kProgressUnits) {
          report(pending);
          pending = 0;
          if (!stream.writer().ok()) return Status::IOError("writing events failed");
        }
      }
      report(pending);
    }
    if (pass == kEditPass) {
      TenantPlan ghost = tenants.front();
      ghost.name = std::string(kGhostTenant);
      stream.Emit(ghost, "module", true, [&](std::string* out) {
        AppendModuleDelete(ghost, PlanModule(ghost, 0), 4, out);
      });
    }
  }
  if (!stream.writer().Flush()) return Status::IOError("writing events failed");
  if (manifest != nullptr) manifest->event_lines = stream.writer().lines();

  if (request_units > 0) {
    LineWriter writer(requests);
    WriteRequestLog(options.seed, tenants, request_units, &writer,
                    manifest != nullptr ? &manifest->failing_requests : nullptr, report);
    if (!writer.Flush()) return Status::IOError("writing requests failed");
    if (manifest != nullptr) manifest->request_lines = writer.lines();
  }
  return Status::OK();
}

}  // namespace

Status GenerateWithManifest(const GenOptions& options, std::ostream& events, std::ostream* requests,
                            const Progress& progress, Manifest* manifest) {
  *manifest = Manifest();
  return GenerateImpl(options, events, requests, progress, manifest);
}

Status Generate(const GenOptions& options, std::ostream& events, std::ostream* requests,
                const Progress& progress) {
  return GenerateImpl(options, events, requests, progress, nullptr);
}

}  // namespace tempo::gen
