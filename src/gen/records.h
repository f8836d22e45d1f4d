// Rendering of module, experiment and template records (SPEC §3, §11.15) and
// of the §6 envelope around them.
//
// Each function appends compact JSON (content may carry whitespace on
// purpose) and is a pure function of its arguments, so an upsert replayed
// with the same version and revision repeats the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gen/catalog.h"
#include "gen/history.h"
#include "gen/rng.h"

namespace tempo::gen {

inline constexpr HistoryProfile kModuleHistory = {30, 5, 45};
inline constexpr HistoryProfile kExperimentHistory = {40, 10, 50};
inline constexpr HistoryProfile kTemplateHistory = {30, 5, 50};

// Appends `{"schema":1,"kind":<kind>,"op":<op>,"publishedAt":<published_at>,"record":`;
// the caller appends the record and the closing `}`.
void AppendEnvelopeStart(std::string_view kind, std::string_view op, std::string_view published_at,
                         std::string* out);

// Appends the module record of `module` at `version`, as edited up to `revision`.
void AppendModuleRecord(const TenantPlan& tenant, const ModulePlan& module, int64_t version,
                        uint32_t revision, std::string* out);

// Appends the experiment record of `experiment` at `version`, as edited up to `revision`.
void AppendExperimentRecord(const TenantPlan& tenant, const ExperimentPlan& experiment,
                            int64_t version, uint32_t revision, std::string* out);

// Appends the template record of `tmpl` at `version`, as edited up to `revision`.
void AppendTemplateRecord(const TenantPlan& tenant, const TemplatePlan& tmpl, int64_t version,
                          uint32_t revision, std::string* out);

// Delete records: the key fields of SPEC §11.13 and the version.
void AppendModuleDelete(const TenantPlan& tenant, const ModulePlan& module, int64_t version,
                        std::string* out);
void AppendExperimentDelete(const TenantPlan& tenant, const ExperimentPlan& experiment,
                            int64_t version, std::string* out);
void AppendTemplateDelete(const TenantPlan& tenant, const TemplatePlan& tmpl, int64_t version,
                          std::string* out);

// Appends a JSON string holding an RFC 3339 instant for a schedule bound:
// UTC or a numeric offset, 0-9 fractional digits.
void AppendScheduleInstant(Rng& rng, int64_t unix_seconds, std::string* out);

// The instant schedules are drawn around (2026-11-01T00:00:00Z): windows
// marked "current" run from before it to at least four years after it,
// "past" ones ended before it and "future" ones start six years after it, so
// that a server using its own clock sees all three kinds for years.
int64_t ScheduleAnchorSeconds();

}  // namespace tempo::gen
