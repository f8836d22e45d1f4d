// Render(): a Selection as the v1 or v2 body of SPEC §2 (key order of §11.21).
#include "common/json.h"
#include "select/select.h"

namespace tempo::select {
namespace {

void AppendModule(const SelectedModule& s, bool v1, std::string* out) {
  const CompiledModule& m = *s.module;
  out->append(m.head());
  AppendInt(s.priority, out);
  out->append(m.tail());
  if (v1) {
    out->append(m.zone_suffix());
  } else {
    out->push_back('}');
  }
}

}  // namespace

void Render(const select::PageRequest& request, const Selection& selection, std::string* out) {
  if (request.api_version == 1) {
    out->append("{\"modules\":[");
    bool first = true;
    for (const auto& zone : selection.zones) {
      for (const auto& s : zone.modules) {
        if (!first) out->push_back(',');
        first = false;
        AppendModule(s, /*v1=*/true, out);
      }
    }
    out->append("]}");
    return;
  }
  out->append("{\"tenant\":");
  AppendJsonString(request.tenant, out);
  out->append(",\"channel\":");
  AppendJsonString(request.channel, out);
  out->append(",\"pageType\":");
  AppendJsonString(request.page_type, out);
  if (request.page_id) {
    out->append(",\"pageId\":");
    AppendJsonString(*request.page_id, out);
  }
  out->append(",\"version\":");
  AppendInt(selection.version, out);
  out->append(",\"experiments\":[");
  for (size_t i = 0; i < selection.experiments.size(); ++i) {
    if (i) out->push_back(',');
    out->append("{\"id\":");
    AppendJsonString(selection.experiments[i].first, out);
    out->append(",\"variant\":");
    AppendJsonString(selection.experiments[i].second, out);
    out->push_back('}');
  }
  out->append("],\"zones\":[");
  for (size_t zi = 0; zi < selection.zones.size(); ++zi) {
    const auto& zone = selection.zones[zi];
    if (zi) out->push_back(',');
    out->append("{\"zone\":");
    AppendJsonString(zone.zone, out);
    out->append(",\"modules\":[");
    for (size_t i = 0; i < zone.modules.size(); ++i) {
      if (i) out->push_back(',');
      AppendModule(zone.modules[i], /*v1=*/false, out);
    }
    out->append("]}");
  }
  out->append("]}");
}

}  // namespace tempo::select
