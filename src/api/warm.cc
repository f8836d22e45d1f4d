// Warming L1: the hot list's parser and the loading threads.
#include "api/warm.h"

#include <simdjson.h>

#include <algorithm>
#include <string>
#include <thread>

#include "api/query.h"

namespace tempo::api {
namespace {

using Clock = std::chrono::steady_clock;

// "slices[i]: <why>".
Status BadMember(size_t i, const std::string& why) {
  return Status::InvalidArgument("slices[" + std::to_string(i) + "]: " + why);
}

}  // namespace

Result<std::vector<origin::SliceKey>> ParseHotList(std::string_view json, size_t max_slices) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc)) {
    return Status::InvalidArgument("not valid JSON");
  }
  simdjson::dom::array slices;
  if (doc["slices"].get_array().get(slices)) {
    return Status::InvalidArgument("not a hot list: no \"slices\" array");
  }
  struct Field {
    const char* name;
    PartitionField pattern;
  };
  static constexpr Field kFields[] = {{"tenant", PartitionField::kTenant},
                                      {"channel", PartitionField::kChannel},
                                      {"pageType", PartitionField::kPageType},
                                      {"scope", PartitionField::kPageId}};
  std::vector<origin::SliceKey> out;
  size_t i = 0;
  for (simdjson::dom::element member : slices) {
    if (out.size() >= max_slices) break;
    std::string_view values[4];
    for (int f = 0; f < 4; ++f) {
      const Field& field = kFields[f];
      if (member[field.name].get_string().get(values[f])) {
        return BadMember(i, std::string("'") + field.name + "' must be a string");
      }
      // A scope is "*" (the type-wide slice) or a pageId.
      if (f == 3 && values[f] == "*") continue;
      if (auto error = PartitionValueError(field.pattern, field.name, values[f])) {
        return BadMember(i, error->message);
      }
    }
    out.push_back(
        origin::SliceKey{{std::string(values[0]), std::string(values[1]), std::string(values[2])},
                         std::string(values[3])});
    ++i;
  }
  return out;
}

WarmCounts WarmSlices(PageSource* pages, const std::vector<origin::SliceKey>& slices,
                      const WarmOptions& options, const std::atomic<bool>* stop,
                      std::atomic<size_t>* progress) {
  std::atomic<size_t> next{0};
  std::atomic<size_t> from_l2{0}, from_origin{0}, skipped{0}, failed{0};
  const auto work = [&] {
    for (;;) {
      if (stop != nullptr && stop->load(std::memory_order_relaxed)) return;
      const Clock::time_point now = Clock::now();
      if (now >= options.deadline) return;
      const size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= slices.size()) return;
      const origin::SliceKey& key = slices[i];
      if (options.serves && !options.serves(key.partition.tenant)) {
        skipped.fetch_add(1, std::memory_order_relaxed);
      } else {
        auto tier = pages->Warm(key, std::min(options.deadline, now + options.load_timeout));
        std::atomic<size_t>& count = !tier.ok()           ? failed
                                     : *tier == Tier::kL1 ? skipped
                                     : *tier == Tier::kL2 ? from_l2
                                                          : from_origin;
        count.fetch_add(1, std::memory_order_relaxed);
      }
      if (progress != nullptr) progress->fetch_add(1, std::memory_order_relaxed);
    }
  };
  const size_t threads =
      std::min<size_t>(static_cast<size_t>(std::max(1, options.concurrency)), slices.size());
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (size_t t = 0; t < threads; ++t) workers.emplace_back(work);
  for (std::thread& w : workers) w.join();
  WarmCounts counts;
  counts.from_l2 = from_l2.load();
  counts.from_origin = from_origin.load();
  counts.skipped = skipped.load();
  counts.failed = failed.load();
  counts.not_tried = slices.size() - std::min(slices.size(), counts.total());
  return counts;
}

}  // namespace tempo::api
