// What the tests of select/ share: records, requests and pages made short.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "select/select.h"

namespace tempo::select {

using events::Experiment;
using events::Module;
using events::Record;
using events::Template;
using events::Variant;

constexpr UnixNanos kNow = 1'000'000'000'000'000'000;  // 2001-09-09

inline Module M(std::string id, std::string zone, int64_t priority, int64_t version = 1) {
  Module m;
  m.id = std::move(id);
  m.tenant = "T";
  m.page_type = "home";
  m.zone = std::move(zone);
  m.channels = {"web"};
  m.priority = priority;
  m.version = version;
  m.content_json = "{\"k\":1}";
  return m;
}

inline PageRequest Req(std::optional<std::string> page_id = std::nullopt) {
  PageRequest r;
  r.tenant = "T";
  r.channel = "web";
  r.page_type = "home";
  r.page_id = std::move(page_id);
  return r;
}

// The ids of the selection, zone by zone: "zone:id,id|zone:id".
inline std::string Ids(const Selection& s) {
  std::string out;
  for (const auto& z : s.zones) {
    if (!out.empty()) out += "|";
    out += std::string(z.zone) + ":";
    for (size_t i = 0; i < z.modules.size(); ++i) {
      if (i) out += ",";
      out += z.modules[i].module->id();
    }
  }
  return out;
}

struct Page {
  std::shared_ptr<const PageSlice> type_slice;
  std::shared_ptr<const PageSlice> page_slice;
  Selection Run(const PageRequest& r, SelectionTrace* trace = nullptr) const {
    return Select(r, *type_slice, r.page_id ? page_slice.get() : nullptr, kNow, trace);
  }
};

inline Page Build(std::vector<Record> type_records, std::vector<Record> page_records = {},
                  std::string page = "p1") {
  return {CompileSlice("*", type_records), CompileSlice(page, page_records)};
}

inline Experiment Exp(std::string id, std::vector<Variant> variants) {
  Experiment e;
  e.id = std::move(id);
  e.tenant = "T";
  e.page_type = "home";
  e.channels = {"web"};
  e.version = 7;
  e.seed = e.id;
  e.variants = std::move(variants);
  return e;
}

}  // namespace tempo::select
