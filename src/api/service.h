// LayoutService: the public listener's routes (SPEC §2, §11.5-6, §11.28-29).
//
// Routes GET /api/v1/tempo/layouts, GET /api/v2/tempo/layouts and GET
// /healthz; everything else is a JSON error. A layout request is validated
// (api/query.h), its page slices loaded (origin for now), selected and
// rendered (select/select.h), and answered with a strong ETag (304 on a
// matching If-None-Match). Safe for concurrent use from many threads.
#pragma once

#include <memory>
#include <string_view>

#include "api/page_source.h"
#include "api/query.h"
#include "http/server.h"
#include "origin/origin.h"

namespace tempo::api {

// Longest request-target accepted (§11.5: 8192 allowed).
inline constexpr size_t kMaxUriBytes = 8192;

struct ServiceOptions {
  bool allow_preview = false;  // honour `at` (SPEC §2)
  L1Options l1;                // the in-process slice cache
};

class LayoutService {
 public:
  // REQUIRES: origin outlives the service.
  LayoutService(origin::Origin* origin, ServiceOptions options);

  LayoutService(const LayoutService&) = delete;
  LayoutService& operator=(const LayoutService&) = delete;

  // Answers one request (the http::Handler of the public listener).
  void Handle(const http::Request& request, http::Response* response) const;

  // Where pages come from; exposed for invalidation and counters.
  PageSource& pages() const { return *pages_; }

 private:
  void HandleLayout(const http::Request& request, int api_version, std::string_view query,
                    http::Response* response) const;

  origin::Origin* const origin_;
  const ServiceOptions options_;
  const std::unique_ptr<PageSource> pages_;
};

// Fills `response` with the JSON error body of SPEC §2 and the headers of §11.28.
void SetError(const ApiError& error, http::Response* response);

// The strong ETag of §11.29 for a body: 16 hex digits of XXH3-64, in quotes.
std::string ComputeETag(std::string_view body);

// True when an If-None-Match header value matches `etag` (§11.29: a comma
// list, W/ ignored, * matches anything).
bool IfNoneMatchMatches(std::string_view header, std::string_view etag);

}  // namespace tempo::api
