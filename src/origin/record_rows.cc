#include "origin/record_rows.h"

#include <algorithm>
#include <variant>

namespace tempo::origin {
namespace {

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

}  // namespace

Status CheckEvent(const events::Event& event) {
  using events::Kind;
  if (event.key.kind != event.kind) {
    return Status::InvalidArgument("origin: event kind differs from its key's kind");
  }
  if (event.op == events::Op::kDelete) return Status::OK();
  if (!event.record) return Status::InvalidArgument("origin: upsert without a decoded record");
  const events::RecordKey& key = event.key;
  bool matches = false;
  if (const auto* m = std::get_if<events::Module>(&*event.record)) {
    matches = event.kind == Kind::kModule && m->tenant == key.tenant && m->id == key.id;
  } else if (const auto* e = std::get_if<events::Experiment>(&*event.record)) {
    matches = event.kind == Kind::kExperiment && e->tenant == key.tenant && e->id == key.id;
  } else if (const auto* t = std::get_if<events::Template>(&*event.record)) {
    matches = event.kind == Kind::kTemplate && t->tenant == key.tenant &&
              key.id == t->channel + ":" + t->page_type;
  }
  if (!matches) return Status::InvalidArgument("origin: upsert record does not match its key");
  return Status::OK();
}

RecordRows OwnedRows(const events::Record& record) {
  RecordRows rows;
  const std::vector<std::string> type_wide = {std::string(kTypeWideScope)};
  if (const auto* m = std::get_if<events::Module>(&record)) {
    rows.page_type = m->page_type;
    rows.channels = m->channels;
    if (m->page_ids.empty()) {
      rows.scopes = type_wide;
    } else {
      for (const std::string& page_id : m->page_ids) {
        if (page_id.empty() || page_id == kTypeWideScope) continue;  // never matches
        rows.scopes.push_back(page_id);
      }
    }
  } else if (const auto* e = std::get_if<events::Experiment>(&record)) {
    rows.page_type = e->page_type;
    rows.channels = e->channels;
    rows.scopes = type_wide;
  } else if (const auto* t = std::get_if<events::Template>(&record)) {
    rows.page_type = t->page_type;
    rows.channels = {t->channel};
    rows.scopes = type_wide;
  }
  // The decoder de-duplicates channels and pageIds; this keeps the set exact
  // even if a caller did not.
  SortUnique(&rows.channels);
  SortUnique(&rows.scopes);
  return rows;
}

}  // namespace tempo::origin
