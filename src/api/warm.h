// Warming L1 from another instance's hot list (SPEC seed 003's cold start:
// a new node fills itself from what other nodes know).
//
// GET /admin/cache/hot?n=N (api/cache_control.h) lists an instance's hottest
// slices; a starting instance reads that list (ParseHotList) and loads the
// slices into its own L1 (WarmSlices) through PageSource::Warm, the path a
// request's load takes (L2, else the origin), before it turns ready.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "api/page_source.h"
#include "common/status.h"
#include "origin/origin.h"

namespace tempo::api {

// The slices of a hot list, hottest first: the `tenant`, `channel`,
// `pageType` and `scope` of each member of its "slices" array (other fields
// are ignored), at most `max_slices` of them (the rest are left out).
// InvalidArgument naming the member and field when the text is not a hot
// list or a name does not match its pattern (§2; a scope is "*" or a pageId).
Result<std::vector<origin::SliceKey>> ParseHotList(std::string_view json, size_t max_slices);

struct WarmOptions {
  // Slices loaded at once. Default: 8.
  int concurrency = 8;
  // The longest one slice's load may take; a warm-up keeps no customer
  // waiting, so it may wait on the store longer than a request. Default: 1 s.
  std::chrono::milliseconds load_timeout{1000};
  // No load starts after this, and none waits past it. Default: none (the
  // caller sets it).
  Deadline deadline = Deadline::max();
  // Whether this instance serves a tenant (a tenant group's filter); the
  // slices of tenants it does not serve are skipped. Empty: every tenant.
  std::function<bool(std::string_view tenant)> serves;
};

// What a warm-up did with each slice of its list.
struct WarmCounts {
  size_t from_l2 = 0;      // loaded from L2
  size_t from_origin = 0;  // loaded from the origin (and written to L2)
  size_t skipped = 0;      // already in L1, or a tenant this instance does not serve
  size_t failed = 0;       // no tier answered within the load's time
  size_t not_tried = 0;    // the deadline passed (or `stop` was set) first
  size_t total() const { return from_l2 + from_origin + skipped + failed + not_tried; }
};

// Loads `slices` into L1 in their order, options.concurrency at a time, on
// threads of its own, and returns once every slice has been loaded, failed
// or given up (at options.deadline, or when *stop turns true; stop may be
// null). `progress`, when not null, counts the slices done as they finish.
WarmCounts WarmSlices(PageSource* pages, const std::vector<origin::SliceKey>& slices,
                      const WarmOptions& options, const std::atomic<bool>* stop,
                      std::atomic<size_t>* progress);

}  // namespace tempo::api
