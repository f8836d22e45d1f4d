// Explain: why a layouts query gets the answer it gets, as one JSON document
// (GET /admin/explain on the admin listener, `tempo explain`).
//
// The query is validated as the public listener validates it, except that
// `at` is always honoured (an editor previews any instant: the admin listener
// is internal). Its slices are read through the same PageSource, and the
// selection is run by select::Select with a trace (select/trace.h), so the
// document describes what the answer did, step by step:
//
//   {"request":{"tenant":..,"channel":..,"pageType":..,"pageId":..|null,
//               "visitorId":..|null,"zones":[..],
//               "variants":[{"experiment":..,"variant":..}],
//               "attributes":{<t.* name>:<string or list>},
//               "at":<RFC 3339>,"at_from":"query"|"now",
//               "evaluated_attributes":{<the attribute object of step 5>}},
//    "partition":{"tenant":..,"channel":..,"pageType":..},
//    "version":N,
//    "slices":[{"scope":"*","tier":"l1"|"l2"|"origin","version":N,
//               "modules":N,"experiments":N,
//               "template":[{"zone":..,"limit":N|null}]|null}],
//    "experiments":[{"id":..,"assigned":bool,"how":"forced"|"hashed"|null,
//                    "reason":..,"condition":{..}|null,"condition_holds":bool|null,
//                    "failing":[..]?,"hash_attribute":..,"hash_input":..|null,
//                    "seed":..,"hash_version":N,"hash":N|null,"coverage":N,
//                    "ranges":[[a,b],..],"variants":[..],"variant":..|null,
//                    "ignored_forced_variant":..?,
//                    "overlay":{"removed":[..],"added":[..],"add_dropped":[..],
//                               "priorities":[{"id":..,"from":N,"to":N}]}}],
//    "modules":[{"id":..,"zone":..,"scope":..|null,
//                "added_by":{"experiment":..,"variant":..}?,
//                "outcome":"kept"|"channel"|"page"|"zone"|"schedule"|
//                          "targeting"|"experiment"|"limit",
//                "reason":..?,"priority":N,"base_priority":N,"version":N,
//                "position":N|null,
//                "schedule":{"start":..|null,"end":..|null,"at":..}?,
//                "condition":{..}?,"failing":[{"condition":{..},"seen":{..}}]?,
//                "removed_by":{"experiment":..,"variant":..}?,"limit":N?}],
//    "answer":{<the v2 layouts body>}}
//
// "modules" lists the kept modules first, in the answer's order (position
// is the index within its zone), then the dropped ones in the order they
// were considered (type-wide slice, page slice, then the adds of the chosen
// variants). Errors are the public API's bodies: 400 for a bad query, 404
// unknown_tenant, 503 unavailable when no tier can answer by the deadline.
#pragma once

#include <string_view>

#include "api/page_source.h"
#include "common/time.h"
#include "http/server.h"

namespace tempo::api {

// Answers `query` (the layouts query string, without '?') into `response`,
// evaluated at `now` unless the query has `at`, waiting on L2 and the origin
// up to `deadline`. Safe for concurrent use (as PageSource is).
void Explain(PageSource* pages, std::string_view query, UnixNanos now, Deadline deadline,
             http::Response* response);

}  // namespace tempo::api
