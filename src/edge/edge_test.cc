// The edge's configuration as text: what it holds and what it refuses.
#include "edge/edge.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <regex>
#include <string>

#include "config/tenant_groups.h"

namespace tempo::edge {
namespace {

config::TenantGroups Groups(const std::string& yaml) {
  auto groups = config::TenantGroups::Parse(YAML::Load(yaml)["tenant_groups"], "groups.yaml");
  EXPECT_TRUE(groups.ok()) << groups.status().ToString();
  return *groups;
}

constexpr char kTwoGroups[] = "tenant_groups: {TG1: [WM_GLASS], TG2: [ACME, Globex]}";
constexpr char kWithWildcard[] = "tenant_groups: {TG1: [WM_GLASS], TG2: [\"*\"]}";

EdgeOptions Options(std::vector<std::string> upstreams) {
  EdgeOptions options;
  for (const std::string& u : upstreams) {
    auto parsed = ParseUpstream(u);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    options.upstreams.push_back(*parsed);
  }
  return options;
}

std::string Generate(const std::string& yaml, const EdgeOptions& options) {
  auto text = GenerateNginxConfig(Groups(yaml), options);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : std::string();
}

std::string ErrorOf(const std::string& yaml, const EdgeOptions& options) {
  auto text = GenerateNginxConfig(Groups(yaml), options);
  EXPECT_FALSE(text.ok());
  return text.ok() ? std::string() : text.status().message();
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(RawSpellingsRegex, EachByteAsItselfOrPercentEncodedInEitherCase) {
  EXPECT_EQ(RawSpellingsRegex("A_"), "(?:A|%41)(?:_|%5[Ff])");
  EXPECT_EQ(RawSpellingsRegex("a.-9"), "(?:a|%61)(?:[.]|%2[Ee])(?:-|%2[Dd])(?:9|%39)");
  const std::regex re("^" + RawSpellingsRegex("WM_GLASS") + "$");
  for (const char* yes :
       {"WM_GLASS", "WM%5FGLASS", "WM%5fGLASS", "%57%4D%5F%47%4C%41%53%53", "%57%4d_GLASS"}) {
    EXPECT_TRUE(std::regex_match(yes, re)) << yes;
  }
  for (const char* no : {"wm_glass", "WM_GLAS", "WM_GLASSX", "WM%5F%5FGLASS", "WM+GLASS",
                         "WM%20GLASS", "WMXGLASS", "%77M_GLASS"}) {
    EXPECT_FALSE(std::regex_match(no, re)) << no;
  }
}

TEST(ParseUpstream, GroupAndServers) {
  auto u = ParseUpstream("TG1=10.0.0.1:8080,tempo-2.internal:8081,[::1]:9000");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->group, "TG1");
  EXPECT_EQ(u->servers,
            (std::vector<std::string>{"10.0.0.1:8080", "tempo-2.internal:8081", "[::1]:9000"}));
}

TEST(ParseUpstream, MalformedValuesAreRefusedWithTheValueQuoted) {
  for (const char* bad :
       {"TG1", "=1.2.3.4:80", "TG 1=1.2.3.4:80", "TG1=", "TG1=1.2.3.4", "TG1=1.2.3.4:0",
        "TG1=1.2.3.4:65536", "TG1=1.2.3.4:08", "TG1=1.2.3.4:80,", "TG1=::1:80", "TG1=[zz]:80",
        "TG1=*:80", "TG1=a;b:80", "TG1=1.2.3.4:80,1.2.3.4:80", "TG1=-x:80"}) {
    auto u = ParseUpstream(bad);
    ASSERT_FALSE(u.ok()) << bad;
    EXPECT_NE(u.status().message().find(std::string("\"") + bad + "\""), std::string::npos)
        << u.status().message();
  }
}

TEST(GenerateNginxConfig, RoutesEachListedTenantToItsGroupWithCase) {
  const std::string text =
      Generate(kTwoGroups, Options({"TG1=127.0.0.1:8001", "TG2=127.0.0.1:8002,127.0.0.1:8003"}));
  EXPECT_TRUE(Has(text, "upstream tempo_group_TG1 {\n        server 127.0.0.1:8001;"));
  EXPECT_TRUE(Has(text, "server 127.0.0.1:8002;\n        server 127.0.0.1:8003;"));
  EXPECT_TRUE(Has(text, "\"~^" + RawSpellingsRegex("WM_GLASS") + "$\" tempo_group_TG1;"));
  EXPECT_TRUE(Has(text, "\"~^" + RawSpellingsRegex("ACME") + "$\" tempo_group_TG2;"));
  EXPECT_TRUE(Has(text, "\"~^" + RawSpellingsRegex("Globex") + "$\" tempo_group_TG2;"));
  // No "*" group: a well-formed unlisted tenant is refused here, anything
  // else goes to the first group, which answers the API's 400.
  EXPECT_TRUE(Has(text, "{1,64}$\" \"\";"));
  EXPECT_TRUE(Has(text, "default tempo_group_TG1;"));
  EXPECT_TRUE(Has(text,
                  "return 404 '{\"error\":{\"code\":\"unknown_tenant\","
                  "\"message\":\"No content exists for this tenant.\"}}';"));
  // The tenant comes from the raw query, never from $arg_tenant.
  EXPECT_FALSE(Has(text, "$arg_tenant;"));
  EXPECT_TRUE(Has(text, "map $args $tempo_edge_tenant"));
}

TEST(GenerateNginxConfig, TheWildcardGroupTakesEveryOtherTenant) {
  const std::string text =
      Generate(kWithWildcard, Options({"TG1=127.0.0.1:8001", "TG2=127.0.0.1:8002"}));
  EXPECT_TRUE(Has(text, "default tempo_group_TG2;"));
  EXPECT_FALSE(Has(text, "{1,64}$\" \"\";"));
  EXPECT_FALSE(Has(text, RawSpellingsRegex("*")));
}

TEST(GenerateNginxConfig, OnlyTheRawApiPathsAndGetAndHeadPass) {
  const std::string text = Generate(kTwoGroups, Options({"TG1=a:1", "TG2=b:2"}));
  EXPECT_TRUE(Has(text, "map $request_uri $tempo_edge_path_ok"));
  EXPECT_TRUE(Has(text, "\"~^/api/v[12]/tempo/layouts(?:[?]|$)\" 1;"));
  EXPECT_TRUE(Has(text, "\"~^(?:GET|HEAD)$\" 1;"));
  EXPECT_TRUE(Has(text, "\"~^.{8193}\" 1;"));
  EXPECT_TRUE(Has(text,
                  "return 404 '{\"error\":{\"code\":\"not_found\","
                  "\"message\":\"No such path.\"}}';"));
  EXPECT_TRUE(Has(text,
                  "return 405 '{\"error\":{\"code\":\"method_not_allowed\","
                  "\"message\":\"Only GET is allowed here.\"}}';"));
  EXPECT_TRUE(Has(text, "method_not_allowed \"GET, HEAD\";"));
  // The request goes upstream as sent: proxy_pass without a URI part.
  EXPECT_TRUE(Has(text, "proxy_pass http://$tempo_edge_upstream;\n"));
  EXPECT_TRUE(Has(text, "proxy_http_version 1.1;"));
  EXPECT_TRUE(Has(text, "proxy_set_header Connection \"\";"));
  EXPECT_TRUE(Has(text, "keepalive 32;"));
  EXPECT_TRUE(Has(text, "server_tokens off;"));
  EXPECT_TRUE(Has(text, "large_client_header_buffers 4 16k;"));
  EXPECT_TRUE(Has(text, "client_max_body_size 1024;"));
  EXPECT_FALSE(Has(text, "ssl"));
}

TEST(GenerateNginxConfig, CompleteFileOrSnippet) {
  EdgeOptions options = Options({"TG1=a:1", "TG2=b:2"});
  const std::string full = Generate(kTwoGroups, options);
  EXPECT_TRUE(Has(full, "\nevents {\n"));
  EXPECT_TRUE(Has(full, "\nhttp {\n"));
  EXPECT_TRUE(Has(full, "\n    server {\n        listen 0.0.0.0:80;\n"));
  EXPECT_EQ(full.substr(full.size() - 2), "}\n");
  options.snippet = true;
  const std::string snippet = Generate(kTwoGroups, options);
  EXPECT_FALSE(Has(snippet, "events {"));
  EXPECT_FALSE(Has(snippet, "\nhttp {"));
  EXPECT_TRUE(Has(snippet, "\nserver {\n    listen 0.0.0.0:80;\n"));
}

TEST(GenerateNginxConfig, TlsOnTheListenerAndMutualTlsToTheUpstreams) {
  EdgeOptions options = Options({"TG1=tempo-1.internal:8443", "TG2=[::1]:8443"});
  options.tls_cert = "/etc/tempo/edge.pem";
  options.tls_key = "/etc/tempo/edge.key";
  options.upstream_ca = "/etc/tempo/ca.pem";
  options.upstream_tls_cert = "/etc/tempo/client.pem";
  options.upstream_tls_key = "/etc/tempo/client.key";
  options.server_name = "edge.example.com";
  std::string text = Generate(kTwoGroups, options);
  EXPECT_TRUE(Has(text, "listen 0.0.0.0:443 ssl;"));
  EXPECT_TRUE(Has(text, "server_name edge.example.com;"));
  EXPECT_TRUE(Has(text, "ssl_certificate \"/etc/tempo/edge.pem\";"));
  EXPECT_TRUE(Has(text, "ssl_protocols TLSv1.2 TLSv1.3;"));
  EXPECT_TRUE(Has(text, "proxy_pass https://$tempo_edge_upstream;"));
  EXPECT_TRUE(Has(text, "proxy_ssl_verify on;"));
  EXPECT_TRUE(Has(text, "proxy_ssl_trusted_certificate \"/etc/tempo/ca.pem\";"));
  EXPECT_TRUE(Has(text, "proxy_ssl_certificate \"/etc/tempo/client.pem\";"));
  EXPECT_TRUE(Has(text, "proxy_ssl_certificate_key \"/etc/tempo/client.key\";"));
  EXPECT_TRUE(Has(text, "proxy_ssl_name $tempo_edge_upstream_tls_name;"));
  EXPECT_TRUE(Has(text, "\"~^tempo_group_TG1$\" \"tempo-1.internal\";"));
  EXPECT_TRUE(Has(text, "\"~^tempo_group_TG2$\" \"::1\";"));
  options.upstream_tls_name = "tempo.internal";
  options.listen = "[::]:8443";
  text = Generate(kTwoGroups, options);
  EXPECT_TRUE(Has(text, "proxy_ssl_name tempo.internal;"));
  EXPECT_TRUE(Has(text, "listen [::]:8443 ssl;"));
  EXPECT_FALSE(Has(text, "$tempo_edge_upstream_tls_name"));
}

TEST(GenerateNginxConfig, UpstreamNamesDifferingOnlyInCaseStayApart) {
  const std::string text =
      Generate("tenant_groups: {tg: [A], TG: [B]}", Options({"TG=b:2", "tg=a:1"}));
  EXPECT_TRUE(Has(text, "upstream tempo_group_tg {\n        server a:1;"));
  EXPECT_TRUE(Has(text, "upstream tempo_group_TG_2 {\n        server b:2;"));
}

TEST(GenerateNginxConfig, TheSameInputGivesTheSameText) {
  const EdgeOptions options = Options({"TG2=b:2", "TG1=a:1"});
  EXPECT_EQ(Generate(kTwoGroups, options), Generate(kTwoGroups, options));
}

TEST(GenerateNginxConfig, EveryGroupNeedsAnUpstreamAndEveryUpstreamAGroup) {
  EXPECT_EQ(ErrorOf(kTwoGroups, Options({"TG1=a:1"})),
            "tenant group TG2 has no --upstream (give --upstream TG2=HOST:PORT[,HOST:PORT...])");
  EXPECT_EQ(ErrorOf(kTwoGroups, Options({"TG1=a:1", "TG2=b:2", "TG3=c:3"})),
            "--upstream TG3=...: the tenant groups have no group TG3 (they are TG1, TG2)");
  EXPECT_NE(ErrorOf(kTwoGroups, Options({"TG1=a:1", "TG2=b:2", "TG1=c:3"})).find("given twice"),
            std::string::npos);
}

TEST(GenerateNginxConfig, InconsistentOptionsAreRefusedNamingTheFlag) {
  const auto with = [](auto change) {
    EdgeOptions options = Options({"TG1=a:1", "TG2=b:2"});
    change(options);
    return ErrorOf(kTwoGroups, options);
  };
  EXPECT_EQ(with([](EdgeOptions& o) { o.tls_cert = "/c.pem"; }), "--tls-cert needs --tls-key");
  EXPECT_EQ(with([](EdgeOptions& o) { o.tls_key = "/k.pem"; }), "--tls-key needs --tls-cert");
  EXPECT_EQ(with([](EdgeOptions& o) {
              o.upstream_ca = "/ca.pem";
              o.upstream_tls_key = "/k.pem";
            }),
            "--upstream-tls-key needs --upstream-tls-cert");
  EXPECT_NE(with([](EdgeOptions& o) {
              o.upstream_tls_cert = "/c.pem";
              o.upstream_tls_key = "/k.pem";
            }).find("--upstream-tls-cert needs --upstream-ca"),
            std::string::npos);
  EXPECT_EQ(with([](EdgeOptions& o) { o.upstream_tls_name = "x"; }),
            "--upstream-tls-name needs --upstream-ca");
  for (const char* path : {"/a\"b", "/a$b", "/a\\b", "/a\nb"}) {
    EXPECT_NE(with([&](EdgeOptions& o) {
                o.tls_cert = path;
                o.tls_key = "/k";
              }).find("--tls-cert"),
              std::string::npos);
  }
  for (const char* listen : {"80x", "1.2.3.4", "1.2.3.4:0", "::1:80", "a b:80", "0"}) {
    EXPECT_NE(with([&](EdgeOptions& o) { o.listen = listen; }).find("--listen"), std::string::npos)
        << listen;
  }
  EXPECT_NE(with([](EdgeOptions& o) { o.server_name = "a;b"; }).find("--server-name"),
            std::string::npos);
  EXPECT_NE(with([](EdgeOptions& o) { o.upstream_keepalive = 0; }).find("--upstream-keepalive"),
            std::string::npos);
}

TEST(GenerateNginxConfig, ListenTakesAPortAloneOrAnyAddress) {
  for (const char* listen : {"8080", "127.0.0.1:8080", "*:8080", "[::]:8080", "edge:8080"}) {
    EdgeOptions options = Options({"TG1=a:1", "TG2=b:2"});
    options.listen = listen;
    EXPECT_TRUE(Has(Generate(kTwoGroups, options), std::string("listen ") + listen + ";"));
  }
}

}  // namespace
}  // namespace tempo::edge
