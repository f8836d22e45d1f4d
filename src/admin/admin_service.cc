// AdminService: routing and the bodies of the admin listener's answers.
#include "admin/admin_service.h"

#include <string_view>
#include <utility>

#include "admin/preview_assets.h"
#include "common/json.h"

namespace tempo::admin {
namespace {

constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";
constexpr std::string_view kJsonContentType = "application/json";

// The preview page's path prefix; /admin/ itself is index.html.
constexpr std::string_view kPreviewPrefix = "/admin/";
constexpr std::string_view kPreviewIndex = "index.html";
// The page, its style sheet and script come from this listener and nothing else: no inline
// script or style runs (the page sets text with textContent, so CMS content shown in it
// cannot become markup either), no other origin is fetched, and no site can frame it.
constexpr std::string_view kPreviewPolicy =
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void Answer(int status, std::string_view content_type, std::string body, http::Response* response) {
  response->status = status;
  response->headers.clear();
  response->headers.emplace_back("Content-Type", content_type);
  response->headers.emplace_back("Cache-Control", "no-store");
  response->body = std::move(body);
}

void AnswerError(int status, std::string_view code, std::string_view message,
                 http::Response* response) {
  std::string body = "{\"error\":{\"code\":";
  AppendJsonString(code, &body);
  body.append(",\"message\":");
  AppendJsonString(message, &body);
  body.append("}}");
  Answer(status, kJsonContentType, std::move(body), response);
  if (status == 405) response->headers.emplace_back("Allow", "GET");
}

// The file of the preview page at `path` (/admin/ is index.html), or null.
const PreviewAsset* FindPreviewAsset(std::string_view path) {
  if (!path.starts_with(kPreviewPrefix)) return nullptr;
  std::string_view name = path.substr(kPreviewPrefix.size());
  if (name.empty()) name = kPreviewIndex;
  for (const PreviewAsset& asset : PreviewAssets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

void AnswerPreviewAsset(const PreviewAsset& asset, http::Response* response) {
  Answer(200, asset.content_type, std::string(asset.body), response);
  response->headers.emplace_back("Content-Security-Policy", kPreviewPolicy);
  response->headers.emplace_back("X-Content-Type-Options", "nosniff");
  response->headers.emplace_back("Referrer-Policy", "no-referrer");
}

}  // namespace

AdminService::AdminService(AdminHooks hooks) : hooks_(std::move(hooks)) {}

void AdminService::HandleAddedRoute(const http::Request& request, std::string_view path,
                                    http::Response* response) const {
  std::string allowed;
  for (const AdminRoute& route : hooks_.routes) {
    if (route.path != path) continue;
    if (route.method == request.method) {
      route.handle(request, response);
      return;
    }
    if (!allowed.empty()) allowed.append(", ");
    allowed.append(route.method);
  }
  if (allowed.empty()) {
    AnswerError(404, "not_found", "No such path on the admin listener.", response);
    return;
  }
  AnswerError(405, "method_not_allowed", "Only " + allowed + " is allowed here.", response);
  for (auto& [name, value] : response->headers) {
    if (name == "Allow") value = allowed;
  }
}

void AdminService::Handle(const http::Request& request, http::Response* response) const {
  const std::string_view path = request.target.substr(0, request.target.find('?'));
  enum class Route { kReady, kLive, kMetrics, kCache, kPreviewRedirect, kPreview };
  Route route;
  const PreviewAsset* asset = nullptr;
  if (path == "/readyz") {
    route = Route::kReady;
  } else if (path == "/livez") {
    route = Route::kLive;
  } else if (path == "/metrics") {
    route = Route::kMetrics;
  } else if (path == "/admin/cache") {
    route = Route::kCache;
  } else if (path == "/admin") {
    route = Route::kPreviewRedirect;
  } else if ((asset = FindPreviewAsset(path)) != nullptr) {
    route = Route::kPreview;
  } else {
    HandleAddedRoute(request, path, response);
    return;
  }
  if (request.method != "GET") {
    AnswerError(405, "method_not_allowed", "Only GET is allowed here.", response);
    return;
  }

  switch (route) {
    case Route::kReady: {
      std::string reason;
      if (!hooks_.ready || hooks_.ready(&reason)) {
        Answer(200, kTextContentType, "ready\n", response);
      } else {
        AnswerError(503, "not_ready", reason.empty() ? "Not ready." : reason, response);
      }
      return;
    }
    case Route::kLive:
      Answer(200, kTextContentType, "ok\n", response);
      return;
    case Route::kMetrics: {
      MetricsWriter writer;
      if (hooks_.metrics) hooks_.metrics(&writer);
      Answer(200, kMetricsContentType, writer.Take(), response);
      return;
    }
    case Route::kCache:
      Answer(200, kJsonContentType, hooks_.cache_json ? hooks_.cache_json() : "{}", response);
      return;
    case Route::kPreviewRedirect:
      // Permanent, and GET stays GET; the page's files are addressed below /admin/.
      Answer(308, kTextContentType, "See /admin/.\n", response);
      response->headers.emplace_back("Location", "/admin/");
      return;
    case Route::kPreview:
      AnswerPreviewAsset(*asset, response);
      return;
  }
}

}  // namespace tempo::admin
