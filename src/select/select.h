// Selection (SPEC §4, §11.18-25) and rendering (SPEC §2, §11.21) of a page.
//
// Select() is a pure function of the compiled slices, the request and the
// instant: the same inputs always give the same bytes from Render().
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/time.h"
#include "select/page_request.h"
#include "select/slice.h"
#include "select/trace.h"

namespace tempo::select {

// One module chosen for the page, with its priority after overrides.
struct SelectedModule {
  const CompiledModule* module = nullptr;
  int64_t priority = 0;
};

struct SelectedZone {
  std::string_view zone;
  std::vector<SelectedModule> modules;  // priority desc, id asc
};

struct Selection {
  int64_t version = 0;                                                     // rule 20
  std::vector<std::pair<std::string_view, std::string_view>> experiments;  // (id, variant) by id
  std::vector<SelectedZone> zones;  // template order, then by name; empty zones omitted
};

// Runs the selection algorithm for `request` over the type-wide slice and,
// when the request has a pageId, that page's slice (may be null when the
// request has no pageId). `now` is used unless the request carries `at`.
// With a `trace` (empty), also records there what each step did and why
// (select/trace.h); the serving path passes none and pays nothing for it.
// REQUIRES: the slices outlive the returned Selection (it points into them),
// and the request and slices outlive the trace.
Selection Select(const PageRequest& request, const PageSlice& type_slice,
                 const PageSlice* page_slice, UnixNanos now, SelectionTrace* trace = nullptr);

// The end of the span that begins at `at` over which Select, for any
// request, gives the same selection over these slices: the first schedule
// start or end of either slice at or after `at` (INT64_MAX when there is
// none). Equals `at` when a schedule starts or ends exactly then. Schedules
// are the only way time enters a selection; `at` is the instant Select
// evaluates at (the request's `at`, else `now`).
UnixNanos SelectionStableUntil(const PageSlice& type_slice, const PageSlice* page_slice,
                               UnixNanos at);

// Appends the response body for request.api_version (1 or 2) to `out`.
void Render(const PageRequest& request, const Selection& selection, std::string* out);

}  // namespace tempo::select
