// GenerateNginxConfig: the edge's nginx configuration as text.
//
// The text is meant to be read by whoever deploys it, so it explains itself
// in comments; the comments below say why the generator is shaped this way.
#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <utility>

#include "edge/address.h"
#include "edge/edge.h"
#include "http/server.h"

namespace tempo::edge {
namespace {

// Upstream blocks are named this plus the group's name. nginx compares
// upstream names without regard to case, so names that differ only in case
// get a number after them (see UpstreamNames).
constexpr std::string_view kUpstreamPrefix = "tempo_group_";

// Bounds the generated configuration gives nginx (SPEC §11.5: a request
// target of 8192 bytes is allowed, so the request line needs more than
// 8 KiB; four such buffers also bound the whole header at 64 KiB, the limit
// of `tempo serve` itself).
constexpr int kClientHeaderBufferBytes = 1024;
constexpr int kLargeHeaderBuffers = 4;
constexpr int kLargeHeaderBufferKib = 16;
// Every passed method is GET or HEAD: a body is never needed.
constexpr int kClientMaxBodyBytes = 1024;
constexpr int kClientTimeoutS = 10;
constexpr int kClientKeepaliveTimeoutS = 60;
constexpr int kClientKeepaliveRequests = 1000;
constexpr int kUpstreamConnectTimeoutS = 2;
constexpr int kUpstreamReadTimeoutS = 10;
// Below the 60 s after which `tempo serve` closes an idle connection, so
// that nginx never reuses one the instance is closing.
constexpr int kUpstreamKeepaliveTimeoutS = 50;
constexpr int kUpstreamKeepaliveRequests = 10000;
constexpr int kMaxUpstreamKeepalive = 10000;
constexpr int kWorkerConnections = 4096;
// The tenant pattern of the API (SPEC §2): [A-Za-z0-9_-]{1,64}.
constexpr int kMaxTenantBytes = 64;

// An answer the edge gives itself, with the API's status, code and message
// (src/api/service.cc, src/http/connection.cc), so that a client cannot tell
// the edge's refusals from an instance's. None may hold ', $ or \ (they go
// verbatim into nginx `return` strings).
struct EdgeError {
  std::string_view name;  // the value of $tempo_edge_deny, or the named location's suffix
  int status;
  std::string_view code;
  std::string_view message;
};
constexpr EdgeError kNotFound{"not_found", 404, "not_found", "No such path."};
constexpr EdgeError kMethodNotAllowed{"method_not_allowed", 405, "method_not_allowed",
                                      "Only GET is allowed here."};
constexpr EdgeError kUriTooLong{"uri_too_long", 400, "uri_too_long", http::kUriTooLongMessage};
constexpr EdgeError kUnknownTenant{"unknown_tenant", 404, "unknown_tenant",
                                   "No content exists for this tenant."};
// nginx's own refusals, answered as `tempo serve` answers the same ones.
constexpr EdgeError kBadRequest{"bad_request", 400, "bad_request", "malformed HTTP request"};
constexpr EdgeError kHeaderTooLarge{"header_too_large", 431, "header_too_large",
                                    "the request header is over the size limit"};
constexpr EdgeError kPayloadTooLarge{"payload_too_large", 413, "payload_too_large",
                                     "the request body is larger than 1024 bytes"};
constexpr EdgeError kUnavailable{"unavailable", 503, "unavailable",
                                 "No server of this tenant group can answer now."};

// Which of nginx's own error statuses become which of the API's errors.
// 494 is nginx's "request header too large", 497 plain HTTP sent to a TLS
// port; 405 is nginx refusing TRACE.
struct ErrorPage {
  std::string_view nginx_codes;
  const EdgeError* error;
};
constexpr ErrorPage kErrorPages[] = {
    {"400 497", &kBadRequest},   {"414", &kUriTooLong},      {"494", &kHeaderTooLarge},
    {"405", &kMethodNotAllowed}, {"413", &kPayloadTooLarge}, {"500 502 503 504", &kUnavailable},
};

// Where an error page lives: internal locations that the refusals answer
// (404) should a client ask for one.
std::string ErrorPageUri(const EdgeError& e) { return "/tempo_edge_error/" + std::string(e.name); }

std::string ErrorBody(const EdgeError& e) {
  std::string body = "{\"error\":{\"code\":\"";
  body.append(e.code).append("\",\"message\":\"").append(e.message).append("\"}}");
  return body;
}

// Lines with indentation: four spaces a level, as nginx's own examples.
class Text {
 public:
  explicit Text(int indent) : indent_(indent) {}

  void Line(std::string_view s = {}) {
    if (!s.empty()) out_.append(static_cast<size_t>(indent_) * 4, ' ').append(s);
    out_ += '\n';
  }
  // Each line of `text` as a comment.
  void Comment(std::string_view text) {
    while (!text.empty()) {
      const size_t nl = text.find('\n');
      const std::string_view line = text.substr(0, nl);
      Line(line.empty() ? std::string("#") : "# " + std::string(line));
      if (nl == std::string_view::npos) break;
      text.remove_prefix(nl + 1);
    }
  }
  void Open(std::string_view head) {
    Line(std::string(head) + " {");
    ++indent_;
  }
  void Close() {
    --indent_;
    Line("}");
  }
  std::string Take() { return std::move(out_); }

 private:
  int indent_;
  std::string out_;
};

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// nginx reads '"' and '\' as quoting, '$' as a variable in the directives
// that take variables, and control characters as the end of a token: a path
// holding one is refused rather than escaped.
Status CheckPath(std::string_view flag, std::string_view path) {
  if (path.empty()) return Status::InvalidArgument(std::string(flag) + " is empty");
  for (char c : path) {
    if (c == '"' || c == '\\' || c == '$' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::InvalidArgument(std::string(flag) + " \"" + std::string(path) +
                                     "\": nginx cannot take a path holding '\"', '\\', '$' or a "
                                     "control character");
    }
  }
  return Status::OK();
}

Status CheckPair(std::string_view flag_a, const std::string& a, std::string_view flag_b,
                 const std::string& b) {
  if (a.empty() != b.empty()) {
    return Status::InvalidArgument(std::string(a.empty() ? flag_b : flag_a) + " needs " +
                                   std::string(a.empty() ? flag_a : flag_b));
  }
  if (a.empty()) return Status::OK();
  if (Status s = CheckPath(flag_a, a); !s.ok()) return s;
  return CheckPath(flag_b, b);
}

bool IsValidServerName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '*';
    if (!ok) return false;
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// An anchored regex for a name of [A-Za-z0-9_.-]: '.' is its only
// metacharacter.
std::string ExactRegex(std::string_view name) {
  std::string out = "~^";
  for (char c : name) {
    if (c == '.') {
      out += "[.]";
    } else {
      out += c;
    }
  }
  return out + "$";
}

// The checked options with what the text needs of them.
struct Plan {
  const config::TenantGroups* groups;
  const EdgeOptions* options;
  std::vector<const Upstream*> upstream_of;  // by index in groups->groups()
  std::vector<std::string> upstream_name;    // by index in groups->groups()
  std::string listen;
  bool tls = false;
  bool upstream_tls = false;
};

Status CheckUpstreams(const config::TenantGroups& groups, const EdgeOptions& options, Plan* plan) {
  const auto& list = groups.groups();
  plan->upstream_of.assign(list.size(), nullptr);
  for (const Upstream& u : options.upstreams) {
    const auto it =
        std::find_if(list.begin(), list.end(), [&](const auto& g) { return g.first == u.group; });
    if (it == list.end()) {
      std::string names;
      for (const auto& g : list) names += (names.empty() ? "" : ", ") + g.first;
      return Status::InvalidArgument("--upstream " + u.group + "=...: the tenant groups have no " +
                                     "group " + u.group + " (they are " + names + ")");
    }
    const size_t index = static_cast<size_t>(it - list.begin());
    if (plan->upstream_of[index] != nullptr) {
      return Status::InvalidArgument("--upstream " + u.group +
                                     "=... given twice: list all of a group's servers in one, "
                                     "comma-separated");
    }
    if (u.servers.empty()) {
      return Status::InvalidArgument("--upstream " + u.group + "=...: no server");
    }
    for (const std::string& server : u.servers) {
      auto parsed = ParseHostPort(server, /*wildcard_ok=*/false);
      if (!parsed.ok()) {
        return Status::InvalidArgument("--upstream " + u.group + "=" + server + ": " +
                                       parsed.status().message());
      }
    }
    plan->upstream_of[index] = &u;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    if (plan->upstream_of[i] == nullptr) {
      return Status::InvalidArgument("tenant group " + list[i].first +
                                     " has no --upstream (give --upstream " + list[i].first +
                                     "=HOST:PORT[,HOST:PORT...])");
    }
  }
  return Status::OK();
}

// One upstream name per group, unique without regard to case.
std::vector<std::string> UpstreamNames(const config::TenantGroups& groups) {
  std::vector<std::string> names;
  std::set<std::string> taken;  // lower case
  for (const auto& group : groups.groups()) {
    std::string name = std::string(kUpstreamPrefix) + group.first;
    for (int n = 2; taken.contains(Lower(name)); ++n) {
      name = std::string(kUpstreamPrefix) + group.first + "_" + std::to_string(n);
    }
    taken.insert(Lower(name));
    names.push_back(std::move(name));
  }
  return names;
}

Result<Plan> Check(const config::TenantGroups& groups, const EdgeOptions& options) {
  if (groups.groups().empty()) return Status::InvalidArgument("the tenant groups are empty");
  Plan plan{&groups, &options, {}, {}, {}, false, false};
  if (Status s = CheckUpstreams(groups, options, &plan); !s.ok()) return s;
  plan.upstream_name = UpstreamNames(groups);

  if (Status s = CheckPair("--tls-cert", options.tls_cert, "--tls-key", options.tls_key); !s.ok()) {
    return s;
  }
  plan.tls = !options.tls_cert.empty();
  if (Status s = CheckPair("--upstream-tls-cert", options.upstream_tls_cert, "--upstream-tls-key",
                           options.upstream_tls_key);
      !s.ok()) {
    return s;
  }
  plan.upstream_tls = !options.upstream_ca.empty();
  if (plan.upstream_tls) {
    if (Status s = CheckPath("--upstream-ca", options.upstream_ca); !s.ok()) return s;
  } else if (!options.upstream_tls_cert.empty()) {
    return Status::InvalidArgument(
        "--upstream-tls-cert needs --upstream-ca: the edge verifies the servers it sends its "
        "client certificate to");
  } else if (!options.upstream_tls_name.empty()) {
    return Status::InvalidArgument("--upstream-tls-name needs --upstream-ca");
  }
  if (!options.upstream_tls_name.empty() &&
      (options.upstream_tls_name.find('*') != std::string::npos ||
       !IsValidServerName(options.upstream_tls_name))) {
    return Status::InvalidArgument("--upstream-tls-name \"" + options.upstream_tls_name +
                                   "\": expected a DNS name");
  }

  if (options.listen.empty()) {
    plan.listen = plan.tls ? "0.0.0.0:443" : "0.0.0.0:80";
  } else if (IsValidPort(options.listen)) {
    plan.listen = options.listen;
  } else {
    auto parsed = ParseHostPort(options.listen, /*wildcard_ok=*/true);
    if (!parsed.ok()) {
      return Status::InvalidArgument("--listen \"" + options.listen +
                                     "\": " + parsed.status().message());
    }
    plan.listen = options.listen;
  }
  if (!options.server_name.empty() && !IsValidServerName(options.server_name)) {
    return Status::InvalidArgument(
        "--server-name \"" + options.server_name +
        "\": expected a host name (letters, digits, '.', '-', '_', '*')");
  }
  if (options.upstream_keepalive < 1 || options.upstream_keepalive > kMaxUpstreamKeepalive) {
    return Status::InvalidArgument("--upstream-keepalive must be 1.." +
                                   std::to_string(kMaxUpstreamKeepalive));
  }
  return plan;
}

// The host of "HOST:PORT" without IPv6 brackets: the default name an
// upstream's certificate is checked against.
std::string_view HostOf(std::string_view server) {
  std::string_view host = server.substr(0, server.rfind(':'));
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

// A well-formed tenant value in any spelling: one to 64 bytes of
// [A-Za-z0-9_-], each as itself or %XX (2D, 30-39, 41-5A, 5F, 61-7A).
constexpr std::string_view kWellFormedTenantRegex =
    "(?:[A-Za-z0-9_-]|%(?:2[Dd]|3[0-9]|4[1-9A-Fa-f]|5[0-9Aa]|5[Ff]|6[1-9A-Fa-f]|7[0-9Aa]))";

void WriteHeader(const Plan& plan, Text* t) {
  t->Comment(
      "nginx configuration of the Tempo Runtime edge, generated by `tempo edge-config`.\n"
      "Generate it again, rather than editing it, when the groups or their servers change.\n"
      "\n"
      "Tenant groups and their instances:");
  const auto& groups = plan.groups->groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    std::string tenants;
    for (const std::string& tenant : groups[i].second) {
      tenants +=
          (tenants.empty() ? "" : ", ") +
          (tenant == "*" ? std::string("\"*\" (every tenant no other group lists)") : tenant);
    }
    std::string servers;
    for (const std::string& s : plan.upstream_of[i]->servers) {
      servers += (servers.empty() ? "" : ", ") + s;
    }
    t->Comment("  " + groups[i].first + ": " + tenants + "\n      -> " + servers + " (upstream " +
               plan.upstream_name[i] + ")");
  }
  t->Comment(
      "\n"
      "Only GET and HEAD of exactly /api/v1/tempo/layouts and /api/v2/tempo/layouts pass, the\n"
      "query string unchanged, to the instances of the tenant's group. nginx answers every\n"
      "other request itself, with the API's JSON error body, and no instance ever sees it:\n"
      "any other path is 404 not_found, any other method on those paths 405\n"
      "method_not_allowed (Allow: GET, HEAD), a request target over 8192 bytes 400\n"
      "uri_too_long, a tenant no group serves 404 unknown_tenant.\n"
      "\n"
      "Paths are compared on the raw request target ($request_uri), not on nginx's $uri,\n"
      "which decodes %XX, resolves \".\" and \"..\" and merges slashes. So every other\n"
      "spelling of an API path is 404 here, as the API itself answers it (it compares the\n"
      "raw path too), and is never passed as something else: /api/v2/tempo/%6cayouts,\n"
      "/api/v2/tempo/layouts/../layouts, //api/v2/tempo/layouts, /api/v2/tempo/layouts/,\n"
      "/API/V2/TEMPO/LAYOUTS. A passed request reaches the instance byte for byte as the\n"
      "client sent it (proxy_pass without a URI part).\n"
      "\n"
      "The tenant is read as the API reads it (SPEC §11.1): the first non-empty `tenant`\n"
      "parameter of the raw query, its name and value in any percent-encoding\n"
      "(tenant=WM%5FGLASS is WM_GLASS, %74enant=ACME is tenant=ACME), compared with case.\n"
      "$arg_tenant is not used: nginx neither decodes it nor compares parameter names with\n"
      "case, and nginx `map` compares plain strings without case, hence the regexes.\n"
      "A request the API refuses whatever its group (no tenant, a malformed one, `tenant`\n"
      "given twice) goes to one group, whose instance answers the API's 400.");
  t->Line();
}

void WriteMaps(const Plan& plan, Text* t) {
  t->Comment(
      "1 when the raw path is exactly one of the two API paths; \"e\" when there is none,\n"
      "which is nginx showing an error page for a request line it could not read.");
  t->Open("map $request_uri $tempo_edge_path_ok");
  t->Line("default 0;");
  t->Line("\"\" e;");
  t->Line("\"~^/api/v[12]/tempo/layouts(?:[?]|$)\" 1;");
  t->Close();
  t->Comment("1 for GET and HEAD, with case (the API refuses \"get\").");
  t->Open("map $request_method $tempo_edge_method_ok");
  t->Line("default 0;");
  t->Line("\"~^(?:GET|HEAD)$\" 1;");
  t->Close();
  t->Comment("1 when the request target is over 8192 bytes (SPEC §11.5: 8192 are allowed).");
  t->Open("map $request_uri $tempo_edge_target_too_long");
  t->Line("default 0;");
  t->Line("\"~^.{" + std::to_string(http::kMaxUriBytes + 1) + "}\" 1;");
  t->Close();
  t->Comment(
      "The raw value of the first non-empty `tenant` parameter (its name in any spelling);\n"
      "empty when there is none.");
  t->Open("map $args $tempo_edge_tenant");
  t->Line("default \"\";");
  t->Line(Quoted("~(?:^|&)" + RawSpellingsRegex("tenant") + "=([^&]+)") + " $1;");
  t->Close();

  const auto& groups = plan.groups->groups();
  const std::string& wildcard = plan.groups->wildcard_group();
  size_t wildcard_index = groups.size();
  for (size_t i = 0; i < groups.size(); ++i) {
    if (groups[i].first == wildcard) wildcard_index = i;
  }
  t->Comment(
      "The upstream of the tenant's group: each listed tenant in every spelling of its\n"
      "name, with case.");
  t->Open("map $tempo_edge_tenant $tempo_edge_upstream");
  for (size_t i = 0; i < groups.size(); ++i) {
    if (i == wildcard_index) continue;
    t->Comment("group " + groups[i].first);
    for (const std::string& tenant : groups[i].second) {
      t->Line(Quoted("~^" + RawSpellingsRegex(tenant) + "$") + " " + plan.upstream_name[i] +
              ";  # " + tenant);
    }
  }
  if (wildcard_index < groups.size()) {
    t->Comment("Any other tenant, well-formed or not: the \"*\" group " + wildcard + ".");
    t->Line("default " + plan.upstream_name[wildcard_index] + ";");
  } else {
    t->Comment(
        "A well-formed tenant no group lists: no group serves it (404 unknown_tenant here).");
    t->Line(Quoted("~^" + std::string(kWellFormedTenantRegex) + "{1," +
                   std::to_string(kMaxTenantBytes) + "}$") +
            " \"\";");
    t->Comment(
        "No tenant, or a malformed one: every instance refuses the request alike (400), so\n"
        "the first group answers it.");
    t->Line("default " + plan.upstream_name[0] + ";");
  }
  t->Close();

  t->Comment(
      "What the edge answers itself, checked in the API's order (SPEC §11.6): path, method,\n"
      "length of the target, tenant. Empty: the request passes (or is an error page).");
  t->Open(
      "map "
      "\"$tempo_edge_path_ok$tempo_edge_method_ok$tempo_edge_target_too_long:$tempo_edge_"
      "upstream\" $tempo_edge_deny");
  t->Line("default \"\";");
  t->Line("\"~^0\" " + std::string(kNotFound.name) + ";");
  t->Line("\"~^10\" " + std::string(kMethodNotAllowed.name) + ";");
  t->Line("\"~^111\" " + std::string(kUriTooLong.name) + ";");
  t->Line("\"~^110:$\" " + std::string(kUnknownTenant.name) + ";");
  t->Close();
  t->Comment("Headers of the edge's own answers (an empty value adds no header).");
  t->Open("map $tempo_edge_deny $tempo_edge_allow");
  t->Line("default \"\";");
  t->Line(std::string(kMethodNotAllowed.name) + " \"GET, HEAD\";");
  t->Close();
  t->Open("map $tempo_edge_deny $tempo_edge_cache_control");
  t->Line("default no-store;");
  t->Line("\"\" \"\";");
  t->Close();

  if (plan.upstream_tls && plan.options->upstream_tls_name.empty()) {
    t->Comment(
        "The name each group's certificates are checked against (and sent as SNI): the host\n"
        "of its first server.");
    t->Open("map $tempo_edge_upstream $tempo_edge_upstream_tls_name");
    t->Line("default \"\";");
    for (size_t i = 0; i < groups.size(); ++i) {
      t->Line(Quoted(ExactRegex(plan.upstream_name[i])) + " " +
              Quoted(HostOf(plan.upstream_of[i]->servers.front())) + ";");
    }
    t->Close();
  }
  t->Line();
}

void WriteUpstreams(const Plan& plan, Text* t) {
  const auto& groups = plan.groups->groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    t->Comment("Tenant group " + groups[i].first + ".");
    t->Open("upstream " + plan.upstream_name[i]);
    for (const std::string& server : plan.upstream_of[i]->servers) {
      t->Line("server " + server + ";");
    }
    t->Line("keepalive " + std::to_string(plan.options->upstream_keepalive) + ";");
    t->Comment(
        "Below the 60 s after which tempo serve closes an idle connection, so that nginx\n"
        "never reuses one the instance is closing.");
    t->Line("keepalive_timeout " + std::to_string(kUpstreamKeepaliveTimeoutS) + "s;");
    t->Line("keepalive_requests " + std::to_string(kUpstreamKeepaliveRequests) + ";");
    t->Close();
  }
  t->Line();
}

void WriteReturn(const EdgeError& e, Text* t) {
  t->Line("return " + std::to_string(e.status) + " '" + ErrorBody(e) + "';");
}

void WriteServer(const Plan& plan, Text* t) {
  const EdgeOptions& o = *plan.options;
  t->Open("server");
  t->Line("listen " + plan.listen + (plan.tls ? " ssl;" : ";"));
  if (!o.server_name.empty()) t->Line("server_name " + o.server_name + ";");
  t->Line("server_tokens off;");
  if (plan.tls) {
    t->Line();
    t->Line("ssl_certificate " + Quoted(o.tls_cert) + ";");
    t->Line("ssl_certificate_key " + Quoted(o.tls_key) + ";");
    t->Line("ssl_protocols TLSv1.2 TLSv1.3;");
    t->Line(
        "ssl_ciphers "
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;");
    t->Line("ssl_prefer_server_ciphers off;");
    t->Line("ssl_session_cache shared:tempo_edge_tls:10m;");
    t->Line("ssl_session_timeout 1h;");
    t->Line("ssl_session_tickets off;");
  }
  t->Line();
  t->Comment(
      "Bounded requests: a request line takes one large buffer, so a target of 8192 bytes\n"
      "(allowed, SPEC §11.5) fits and a longer one up to the buffer is the API's 400\n"
      "uri_too_long; the whole header is at most 4 x 16 KiB. No passed method has a body.");
  t->Line("client_header_buffer_size " + std::to_string(kClientHeaderBufferBytes) + ";");
  t->Line("large_client_header_buffers " + std::to_string(kLargeHeaderBuffers) + " " +
          std::to_string(kLargeHeaderBufferKib) + "k;");
  t->Line("client_max_body_size " + std::to_string(kClientMaxBodyBytes) + ";");
  t->Line("client_header_timeout " + std::to_string(kClientTimeoutS) + "s;");
  t->Line("client_body_timeout " + std::to_string(kClientTimeoutS) + "s;");
  t->Line("send_timeout " + std::to_string(kClientTimeoutS) + "s;");
  t->Line("keepalive_timeout " + std::to_string(kClientKeepaliveTimeoutS) + "s;");
  t->Line("keepalive_requests " + std::to_string(kClientKeepaliveRequests) + ";");
  t->Line();
  t->Comment("The edge's own answers are JSON, whatever the path looks like.");
  t->Line("types { }");
  t->Line("default_type application/json;");
  t->Line("add_header Allow $tempo_edge_allow always;");
  t->Line("add_header Cache-Control $tempo_edge_cache_control always;");
  t->Line();
  t->Comment(
      "Refusals, at server level: before a location is chosen, a body is read or an\n"
      "upstream is picked.");
  for (const EdgeError* e : {&kNotFound, &kMethodNotAllowed, &kUriTooLong, &kUnknownTenant}) {
    t->Open("if ($tempo_edge_deny = " + std::string(e->name) + ")");
    WriteReturn(*e, t);
    t->Close();
  }
  t->Line();
  t->Comment(
      "nginx's own refusals, as tempo serve words them. The pages are URIs, not named\n"
      "locations: a request whose request line failed has no URI to carry to a named one.");
  for (const ErrorPage& page : kErrorPages) {
    t->Line("error_page " + std::string(page.nginx_codes) + " =" +
            std::to_string(page.error->status) + " " + ErrorPageUri(*page.error) + ";");
  }
  t->Line();
  t->Open("location ~ ^/api/v[12]/tempo/layouts$");
  t->Line(std::string("proxy_pass ") + (plan.upstream_tls ? "https" : "http") +
          "://$tempo_edge_upstream;");
  t->Line("proxy_http_version 1.1;");
  t->Line("proxy_set_header Connection \"\";");
  t->Line("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;");
  t->Line("proxy_connect_timeout " + std::to_string(kUpstreamConnectTimeoutS) + "s;");
  t->Line("proxy_send_timeout " + std::to_string(kUpstreamReadTimeoutS) + "s;");
  t->Line("proxy_read_timeout " + std::to_string(kUpstreamReadTimeoutS) + "s;");
  t->Line("proxy_next_upstream error timeout;");
  if (plan.upstream_tls) {
    t->Line("proxy_ssl_protocols TLSv1.2 TLSv1.3;");
    t->Line("proxy_ssl_trusted_certificate " + Quoted(o.upstream_ca) + ";");
    t->Line("proxy_ssl_verify on;");
    t->Line("proxy_ssl_verify_depth 4;");
    t->Line("proxy_ssl_name " +
            (o.upstream_tls_name.empty() ? std::string("$tempo_edge_upstream_tls_name")
                                         : o.upstream_tls_name) +
            ";");
    t->Line("proxy_ssl_server_name on;");
    t->Line("proxy_ssl_session_reuse on;");
    if (!o.upstream_tls_cert.empty()) {
      t->Line("proxy_ssl_certificate " + Quoted(o.upstream_tls_cert) + ";");
      t->Line("proxy_ssl_certificate_key " + Quoted(o.upstream_tls_key) + ";");
    }
  }
  t->Close();
  t->Comment("Every other path (a second guard: the refusals above already answered it).");
  t->Open("location /");
  WriteReturn(kNotFound, t);
  t->Close();
  for (const ErrorPage& page : kErrorPages) {
    const EdgeError& e = *page.error;
    t->Open("location = " + ErrorPageUri(e));
    t->Line("internal;");
    if (&e == &kMethodNotAllowed) t->Line("add_header Allow \"GET, HEAD\" always;");
    t->Line("add_header Cache-Control no-store always;");
    WriteReturn(e, t);
    t->Close();
  }
  t->Close();
}

}  // namespace

std::string RawSpellingsRegex(std::string_view literal) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : literal) {
    const auto byte = static_cast<unsigned char>(c);
    out += "(?:";
    if (c == '.') {
      out += "[.]";
    } else {
      out += c;
    }
    out += "|%";
    out += kHex[byte >> 4];
    const char low = kHex[byte & 0xF];
    if (low >= 'A') {
      out += '[';
      out += low;
      out += static_cast<char>(std::tolower(low));
      out += ']';
    } else {
      out += low;
    }
    out += ')';
  }
  return out;
}

Result<std::string> GenerateNginxConfig(const config::TenantGroups& groups,
                                        const EdgeOptions& options) {
  auto plan = Check(groups, options);
  if (!plan.ok()) return plan.status();
  Text t(0);
  WriteHeader(*plan, &t);
  if (options.snippet) {
    t.Comment(
        "The http-level blocks only: include this file inside the http {} block of an\n"
        "nginx.conf. The request-line buffer of the listen address's default server\n"
        "applies before this server is chosen: keep it at least 16k there.");
    t.Line();
    WriteMaps(*plan, &t);
    WriteUpstreams(*plan, &t);
    WriteServer(*plan, &t);
    return t.Take();
  }
  t.Comment(
      "A complete nginx.conf. Its pid file, logs and temporary files are relative to the\n"
      "prefix: run it as nginx -p DIR -c FILE, DIR a directory of its own.");
  t.Line();
  t.Line("worker_processes auto;");
  t.Line("pid nginx.pid;");
  t.Line("error_log error.log warn;");
  t.Line("pcre_jit on;");
  t.Line();
  t.Open("events");
  t.Line("worker_connections " + std::to_string(kWorkerConnections) + ";");
  t.Close();
  t.Line();
  t.Open("http");
  t.Line(
      "log_format tempo_edge '$remote_addr [$time_local] \"$request\" $status "
      "$body_bytes_sent $request_time upstream=$upstream_addr deny=$tempo_edge_deny';");
  t.Line("access_log access.log tempo_edge;");
  t.Line("client_body_temp_path client_body_temp;");
  t.Line("proxy_temp_path proxy_temp;");
  t.Line("fastcgi_temp_path fastcgi_temp;");
  t.Line("uwsgi_temp_path uwsgi_temp;");
  t.Line("scgi_temp_path scgi_temp;");
  t.Line();
  std::string text = t.Take();
  Text body(1);
  WriteMaps(*plan, &body);
  WriteUpstreams(*plan, &body);
  WriteServer(*plan, &body);
  text += body.Take();
  text += "}\n";
  return text;
}

}  // namespace tempo::edge
