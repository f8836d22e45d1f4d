// Tests of AdminService: every route and error, called directly and over a real socket.
#include "admin/admin_service.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "admin/preview_assets.h"

namespace tempo::admin {
namespace {

std::string Header(const http::Response& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

http::Response Call(const AdminService& service, std::string_view method, std::string_view target) {
  http::Response response;
  service.Handle({method, target, ""}, &response);
  return response;
}

AdminHooks FullHooks() {
  AdminHooks hooks;
  hooks.ready = [](std::string*) { return true; };
  hooks.metrics = [](MetricsWriter* writer) {
    writer->Counter("tempo_requests_total", "Requests.", 3, {{"code", "200"}});
  };
  hooks.cache_json = [] { return std::string(R"({"l1":{"entries":2}})"); };
  return hooks;
}

TEST(AdminServiceTest, ReadyzWhenReady) {
  const AdminService service(FullHooks());
  const http::Response r = Call(service, "GET", "/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ready\n");
  EXPECT_EQ(Header(r, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
}

TEST(AdminServiceTest, ReadyzWhenNotReadyShowsTheReason) {
  AdminHooks hooks;
  hooks.ready = [](std::string* reason) {
    *reason = "origin \"pg\" unreachable for 12 s";
    return false;
  };
  const AdminService service(std::move(hooks));
  const http::Response r = Call(service, "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body,
            R"({"error":{"code":"not_ready","message":"origin \"pg\" unreachable for 12 s"}})");
  EXPECT_EQ(Header(r, "Content-Type"), "application/json");
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
}

TEST(AdminServiceTest, ReadyzNotReadyWithoutAReasonStillSaysSo) {
  AdminHooks hooks;
  hooks.ready = [](std::string*) { return false; };
  const AdminService service(std::move(hooks));
  const http::Response r = Call(service, "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"error":{"code":"not_ready","message":"Not ready."}})");
}

TEST(AdminServiceTest, ReadinessFollowsTheHookOnEveryCall) {
  std::atomic<bool> ready{false};
  AdminHooks hooks;
  hooks.ready = [&ready](std::string* reason) {
    *reason = "warming up";
    return ready.load();
  };
  const AdminService service(std::move(hooks));
  EXPECT_EQ(Call(service, "GET", "/readyz").status, 503);
  ready = true;
  EXPECT_EQ(Call(service, "GET", "/readyz").status, 200);
}

TEST(AdminServiceTest, Livez) {
  AdminHooks hooks;
  hooks.ready = [](std::string*) { return false; };  // liveness does not depend on readiness
  const AdminService service(std::move(hooks));
  const http::Response r = Call(service, "GET", "/livez");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
}

TEST(AdminServiceTest, Metrics) {
  const AdminService service(FullHooks());
  const http::Response r = Call(service, "GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  EXPECT_EQ(r.body,
            "# HELP tempo_requests_total Requests.\n"
            "# TYPE tempo_requests_total counter\n"
            "tempo_requests_total{code=\"200\"} 3\n");
}

TEST(AdminServiceTest, AdminCache) {
  const AdminService service(FullHooks());
  const http::Response r = Call(service, "GET", "/admin/cache");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "Content-Type"), "application/json");
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  EXPECT_EQ(r.body, R"({"l1":{"entries":2}})");
}

TEST(AdminServiceTest, MissingHooksMeanReadyNoMetricsAndAnEmptyObject) {
  const AdminService service(AdminHooks{});
  EXPECT_EQ(Call(service, "GET", "/readyz").status, 200);
  EXPECT_EQ(Call(service, "GET", "/readyz").body, "ready\n");
  const http::Response metrics = Call(service, "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.body, "");
  const http::Response cache = Call(service, "GET", "/admin/cache");
  EXPECT_EQ(cache.status, 200);
  EXPECT_EQ(cache.body, "{}");
}

TEST(AdminServiceTest, QueryStringIsIgnored) {
  const AdminService service(FullHooks());
  EXPECT_EQ(Call(service, "GET", "/readyz?verbose=1").body, "ready\n");
  EXPECT_EQ(Call(service, "GET", "/livez?").status, 200);
}

TEST(AdminServiceTest, UnknownPathIs404) {
  const AdminService service(FullHooks());
  for (std::string_view target :
       {"/", "/readyz/", "/READYZ", "/admin/cache/x", "/metrics.txt", "*", "", "/admin/nope.js",
        "/admin//", "/admin/preview/preview.js", "/admin/INDEX.HTML", "/admin/../admin/"}) {
    SCOPED_TRACE(target);
    const http::Response r = Call(service, "GET", target);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body,
              R"({"error":{"code":"not_found","message":"No such path on the admin listener."}})");
    EXPECT_EQ(Header(r, "Content-Type"), "application/json");
    EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  }
  // Path before method: an unknown path is 404 whatever the method.
  EXPECT_EQ(Call(service, "POST", "/nope").status, 404);
}

TEST(AdminServiceTest, OtherMethodsOnKnownPathsAre405) {
  int hook_calls = 0;
  AdminHooks hooks;
  hooks.ready = [&hook_calls](std::string*) { return ++hook_calls > 0; };
  hooks.metrics = [&hook_calls](MetricsWriter*) { ++hook_calls; };
  hooks.cache_json = [&hook_calls] { return std::to_string(++hook_calls); };
  const AdminService service(std::move(hooks));
  for (std::string_view path : {"/readyz", "/livez", "/metrics", "/admin/cache", "/admin",
                                "/admin/", "/admin/preview.js"}) {
    for (std::string_view method : {"POST", "PUT", "DELETE", "HEAD", "get"}) {
      SCOPED_TRACE(std::string(method) + " " + std::string(path));
      const http::Response r = Call(service, method, path);
      EXPECT_EQ(r.status, 405);
      EXPECT_EQ(Header(r, "Allow"), "GET");
      EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
      EXPECT_EQ(r.body,
                R"({"error":{"code":"method_not_allowed","message":"Only GET is allowed here."}})");
    }
  }
  EXPECT_EQ(hook_calls, 0);  // a refused request runs no hook
}

TEST(AdminServiceTest, AddedRoutesAnswerTheirMethodAndRefuseOthers) {
  AdminHooks hooks = FullHooks();
  std::string seen_body;
  hooks.routes.push_back({"POST", "/internal/shadow",
                          [&seen_body](const http::Request& request, http::Response* response) {
                            seen_body = std::string(request.body);
                            response->status = 202;
                            response->body = "posted";
                          }});
  hooks.routes.push_back({"GET", "/admin/shadow", [](const http::Request&, http::Response* r) {
                            r->status = 200;
                            r->body = "status";
                          }});
  const AdminService service(std::move(hooks));
  http::Request post{"POST", "/internal/shadow?x=1", ""};
  post.body = "{}";
  http::Response response;
  service.Handle(post, &response);
  EXPECT_EQ(response.status, 202);
  EXPECT_EQ(response.body, "posted");
  EXPECT_EQ(seen_body, "{}");
  EXPECT_EQ(Call(service, "GET", "/admin/shadow").body, "status");

  const http::Response wrong = Call(service, "GET", "/internal/shadow");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(Header(wrong, "Allow"), "POST");
  EXPECT_EQ(wrong.body,
            R"({"error":{"code":"method_not_allowed","message":"Only POST is allowed here."}})");
  EXPECT_EQ(Call(service, "POST", "/internal/shadow/x").status, 404);
  // A built-in path keeps its own rule.
  EXPECT_EQ(Call(service, "POST", "/metrics").status, 405);
}

std::string ReadSourceFile(const std::string& relative) {
  std::ifstream in(std::string(TEMPO_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

TEST(AdminServiceTest, PreviewPageIsServedAtAdminSlash) {
  const AdminService service(AdminHooks{});
  const http::Response r = Call(service, "GET", "/admin/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  EXPECT_EQ(Header(r, "Content-Security-Policy"),
            "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  EXPECT_EQ(Header(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Header(r, "Referrer-Policy"), "no-referrer");
  EXPECT_TRUE(r.body.starts_with("<!doctype html>")) << r.body.substr(0, 80);
  EXPECT_NE(r.body.find(R"(<script src="/admin/preview.js" defer></script>)"), std::string::npos);
  EXPECT_NE(r.body.find(R"(<link rel="stylesheet" href="/admin/preview.css">)"), std::string::npos);
  // The same page with a query or a fragment-carrying link's query part.
  EXPECT_EQ(Call(service, "GET", "/admin/?tenant=ACME").body, r.body);
  EXPECT_EQ(Call(service, "GET", "/admin/index.html").body, r.body);
}

TEST(AdminServiceTest, PreviewFilesHaveTheirTypesAndThePolicy) {
  const AdminService service(AdminHooks{});
  const http::Response css = Call(service, "GET", "/admin/preview.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(Header(css, "Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(Header(css, "Cache-Control"), "no-store");
  const http::Response js = Call(service, "GET", "/admin/preview.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(Header(js, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(Header(js, "Content-Security-Policy"), "");
  const http::Response icon = Call(service, "GET", "/admin/favicon.svg");
  EXPECT_EQ(icon.status, 200);
  EXPECT_EQ(Header(icon, "Content-Type"), "image/svg+xml");
}

TEST(AdminServiceTest, AdminRedirectsToThePage) {
  const AdminService service(AdminHooks{});
  const http::Response r = Call(service, "GET", "/admin");
  EXPECT_EQ(r.status, 308);
  EXPECT_EQ(Header(r, "Location"), "/admin/");
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  EXPECT_EQ(Call(service, "GET", "/admin?tenant=ACME").status, 308);
}

// The binary holds the files of src/admin/preview/ byte for byte: an edit there is what the
// next build serves.
TEST(AdminServiceTest, PreviewFilesAreTheSourceFilesByteForByte) {
  const AdminService service(AdminHooks{});
  ASSERT_EQ(PreviewAssets().size(), 4u);
  for (const PreviewAsset& asset : PreviewAssets()) {
    SCOPED_TRACE(std::string(asset.name));
    const std::string source = ReadSourceFile("src/admin/preview/" + std::string(asset.name));
    ASSERT_FALSE(source.empty());
    EXPECT_EQ(asset.body, source);
    const std::string path =
        asset.name == "index.html" ? "/admin/" : "/admin/" + std::string(asset.name);
    EXPECT_EQ(Call(service, "GET", path).body, source);
  }
}

// The page loads nothing from elsewhere and runs no inline script or style (the policy would
// refuse them anyway), and it never parses data as HTML: the content it shows is the CMS's.
TEST(AdminServiceTest, PreviewFilesFetchNothingOutsideAndWriteNoHtml) {
  for (const PreviewAsset& asset : PreviewAssets()) {
    SCOPED_TRACE(std::string(asset.name));
    // An XML namespace is a name, not an address the browser fetches.
    std::string body(asset.body);
    constexpr std::string_view kSvgNamespace = "http://www.w3.org/2000/svg";
    for (size_t at; (at = body.find(kSvgNamespace)) != std::string::npos;) {
      body.erase(at, kSvgNamespace.size());
    }
    for (std::string_view forbidden :
         {"http://", "https://", "//cdn", "@import", "innerHTML", "outerHTML", "insertAdjacentHTML",
          "document.write", "eval(", "new Function", "style=\"", "onclick=", "onload="}) {
      EXPECT_EQ(body.find(forbidden), std::string::npos) << forbidden;
    }
  }
  const AdminService service(AdminHooks{});
  const std::string html = Call(service, "GET", "/admin/").body;
  size_t at = 0;
  while ((at = html.find("<script", at)) != std::string::npos) {
    EXPECT_EQ(html.compare(at, 12, "<script src="), 0) << html.substr(at, 40);
    ++at;
  }
}

TEST(AdminServiceTest, AddedAdminRoutesAreNotShadowedByThePage) {
  AdminHooks hooks;
  hooks.routes.push_back({"GET", "/admin/explain", [](const http::Request&, http::Response* r) {
                            r->status = 200;
                            r->body = "explained";
                          }});
  const AdminService service(std::move(hooks));
  EXPECT_EQ(Call(service, "GET", "/admin/explain?tenant=ACME").body, "explained");
}

TEST(AdminServiceTest, HandleReplacesWhateverTheResponseHeld) {
  const AdminService service(FullHooks());
  http::Response response;
  response.status = 418;
  response.headers.emplace_back("X-Stale", "1");
  response.body = "stale";
  service.Handle({"GET", "/livez", ""}, &response);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok\n");
  EXPECT_EQ(Header(response, "X-Stale"), "");
}

// One request over a fresh connection with "Connection: close"; the whole answer is read
// until the server closes. A receive timeout bounds every read.
struct RawReply {
  int status = 0;
  std::string head;
  std::string body;
};

std::optional<RawReply> Fetch(uint16_t port, std::string_view target) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string raw;
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (ok) {
    const std::string request =
        "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    ok = send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(request.size());
  }
  char buf[4096];
  ssize_t n = 0;
  while (ok && (n = recv(fd, buf, sizeof buf, 0)) > 0) raw.append(buf, static_cast<size_t>(n));
  close(fd);
  if (!ok || n < 0) return std::nullopt;  // n < 0: error or timeout, not a clean close
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos || !raw.starts_with("HTTP/1.1 ")) return std::nullopt;
  return RawReply{std::stoi(raw.substr(9, 3)), raw.substr(0, end), raw.substr(end + 4)};
}

TEST(AdminServiceTest, ServesOverARealHttpServer) {
  std::atomic<bool> ready{false};
  AdminHooks hooks = FullHooks();
  hooks.ready = [&ready](std::string* reason) {
    *reason = "origin unreachable";
    return ready.load();
  };
  const AdminService service(std::move(hooks));
  http::ServerOptions options;
  options.threads = 1;
  auto server = http::Server::Start(
      options, [&service](const http::Request& q, http::Response* r) { service.Handle(q, r); });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const uint16_t port = (*server)->port();
  ASSERT_NE(port, 0);

  std::optional<RawReply> reply = Fetch(port, "/readyz");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->body, R"({"error":{"code":"not_ready","message":"origin unreachable"}})");

  ready = true;
  reply = Fetch(port, "/readyz");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "ready\n");
  EXPECT_NE(reply->head.find("Cache-Control: no-store"), std::string::npos) << reply->head;

  reply = Fetch(port, "/metrics");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_NE(reply->head.find("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
            std::string::npos)
      << reply->head;
  EXPECT_EQ(reply->body,
            "# HELP tempo_requests_total Requests.\n"
            "# TYPE tempo_requests_total counter\n"
            "tempo_requests_total{code=\"200\"} 3\n");

  reply = Fetch(port, "/admin/");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_NE(reply->head.find("Content-Type: text/html; charset=utf-8"), std::string::npos)
      << reply->head;
  EXPECT_NE(reply->head.find("Content-Security-Policy: default-src 'self'"), std::string::npos)
      << reply->head;
  EXPECT_TRUE(reply->body.starts_with("<!doctype html>"));

  reply = Fetch(port, "/admin");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 308);
  EXPECT_NE(reply->head.find("Location: /admin/"), std::string::npos) << reply->head;

  (*server)->Stop();
  (*server)->Wait();
}

}  // namespace
}  // namespace tempo::admin
