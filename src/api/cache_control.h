// The admin listener's cache routes (SPEC §10): an operator drops slices from
// this instance's L1 (and L2) or lists what L1 holds for a tenant.
//
//   POST /admin/cache/invalidate  body {"tenant":T[,"channel":C][,"pageType":P]
//                                      [,"scope":S][,"l2":true]}
//     drops the tenant's L1 slices that the fields given match (scope: "*"
//     or a pageId) and, with "l2":true and an L2, deletes them from L2: the
//     slices this instance held, and the one slice named when all of
//     channel, pageType and scope are given. 200 {"l1_removed":N,"l2_deleted":N}.
//     A bad body is 400 {"error":{"code":"bad_request","message":..}} naming
//     the field; a body over kMaxInvalidateBodyBytes is 413 body_too_large.
//   GET /admin/cache/slices?tenant=T
//     200 {"tenant":T,"slices":[{"key":..,"channel":..,"pageType":..,"scope":..,
//          "version":N,"bytes":N,"age_ms":N,"hits":N,"frequency":N,
//          "fresh":bool,"tier":"l1","loaded_from":"l2"|"origin"}]} by key;
//     400 bad_request without a valid tenant.
//   GET /admin/cache/hot[?n=N]
//     200 {"slices":[{"key":..,"tenant":..,"channel":..,"pageType":..,
//          "scope":..,"frequency":N,"hits":N}]}: the N hottest slices L1
//     holds, of every tenant, by frequency (0..15) then hits, highest
//     first (PageSource::HottestSlices); what `tempo serve --warm-from`
//     reads (api/warm.h). N is 1..kMaxHotSlices, kDefaultHotSlices when
//     absent; anything else is 400 bad_request.
#pragma once

#include <cstddef>

#include "api/page_source.h"
#include "http/server.h"
#include "l2/l2.h"

namespace tempo::api {

// The largest invalidation body read.
inline constexpr size_t kMaxInvalidateBodyBytes = 4096;

// The hot list's default and largest length (GET /admin/cache/hot?n=).
inline constexpr size_t kDefaultHotSlices = 1000;
inline constexpr size_t kMaxHotSlices = 100'000;

// POST /admin/cache/invalidate. `l2` may be null (no L2: l2_deleted is 0).
void HandleCacheInvalidate(PageSource* pages, l2::L2Client* l2, const http::Request& request,
                           http::Response* response);

// GET /admin/cache/slices.
void HandleCachedSlices(const PageSource& pages, const http::Request& request,
                        http::Response* response);

// GET /admin/cache/hot.
void HandleHotSlices(const PageSource& pages, const http::Request& request,
                     http::Response* response);

}  // namespace tempo::api
