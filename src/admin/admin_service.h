// AdminService: the request handler of the admin listener (SPEC §10), a separate port
// (loopback by default) for probes, scrapes and operators, never for page traffic.
//
// Routes (GET only; any other method on them is 405 with Allow: GET):
//   /readyz       200 "ready\n", or 503 {"error":{"code":"not_ready","message":<reason>}}
//   /livez        200 "ok\n" while the process can answer at all
//   /metrics      200 Prometheus text exposition (version 0.0.4)
//   /admin/cache  200 application/json: the cache tiers, as the hook serializes them
//   /admin/       200 text/html: the preview page (docs/preview.md; src/admin/preview/,
//                 built into the binary), with /admin/preview.css, /admin/preview.js and
//                 /admin/favicon.svg; /admin is a 308 to /admin/. The page calls only admin
//                 routes (/admin/explain, /admin/cache, ...). These answers add a
//                 Content-Security-Policy that lets the page load and fetch from this
//                 listener only and run no inline script, nosniff and no-referrer.
// plus the routes the process adds (AdminHooks::routes: the shadow receiver's
// POST /internal/shadow, GET /admin/shadow, POST /admin/shadow/reset). A route's
// path answered with another method is 405 with Allow naming the route's method(s).
// Any other path is 404 {"error":{"code":"not_found",...}}. Routes match the path alone; the
// built-in ones ignore the query string (an added route may read it, as /admin/explain does).
// Every answer carries Cache-Control: no-store.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/metrics.h"
#include "http/server.h"

namespace tempo::admin {

// One route a process adds to the admin listener. Its handler answers at once
// (it runs on the listener's thread; the admin listener reads request bodies,
// so a POST's body is in Request::body).
struct AdminRoute {
  std::string method;  // "GET" or "POST"
  std::string path;    // exact, without the query
  std::function<void(const http::Request&, http::Response*)> handle;
};

// What the admin listener asks of the process. Each hook is called on a server thread,
// possibly on several at once, so it must be safe for concurrent use. An empty hook
// means: always ready / no metrics / "{}".
struct AdminHooks {
  // Readiness: true when this instance should receive traffic; otherwise false with
  // `reason` (never null) set to why not, which is shown in the 503 body.
  std::function<bool(std::string* reason)> ready;
  // Appends every metric of the process.
  std::function<void(MetricsWriter*)> metrics;
  // A JSON object describing the cache tiers (GET /admin/cache), already serialized.
  std::function<std::string()> cache_json;
  // More routes; the built-in ones above take precedence.
  std::vector<AdminRoute> routes;
};

class AdminService {
 public:
  explicit AdminService(AdminHooks hooks);
  AdminService(const AdminService&) = delete;
  AdminService& operator=(const AdminService&) = delete;

  // The http::Handler of the admin listener; safe for concurrent use. Bind it with
  // [&service](const http::Request& q, http::Response* r) { service.Handle(q, r); }.
  void Handle(const http::Request& request, http::Response* response) const;

 private:
  // The routes of AdminHooks::routes: 404 when none has the path.
  void HandleAddedRoute(const http::Request& request, std::string_view path,
                        http::Response* response) const;

  AdminHooks hooks_;
};

}  // namespace tempo::admin
