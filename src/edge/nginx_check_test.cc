// Every combination of the edge's options passes `nginx -t` of Debian's
// nginx (a test dependency: it fails where /usr/sbin/nginx is missing). Certificates are made
// with openssl at test time.
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>
#include <string>

#include "config/tenant_groups.h"
#include "edge/edge.h"
#include "testing/temp_dir.h"

namespace tempo::edge {
namespace {

constexpr char kNginx[] = "/usr/sbin/nginx";

// Runs `command` in a shell; its exit status, and what it printed in *output.
int RunShell(const std::string& dir, const std::string& command, std::string* output) {
  const std::string log = dir + "/command.log";
  const int status = std::system((command + " >'" + log + "' 2>&1").c_str());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  *output = text.str();
  return status;
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

class NginxCheckTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("tempo_edge_nginx");
    // One self-signed certificate serves as listener certificate, CA and
    // client certificate: nginx -t loads each file, it checks no chain.
    std::string output;
    const int status =
        RunShell(dir_->path(),
                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                 "-nodes -days 2 -subj /CN=tempo.test -keyout '" +
                     dir_->path() + "/key.pem' -out '" + dir_->path() + "/cert.pem'",
                 &output);
    ASSERT_EQ(status, 0) << output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    // nginx is a dependency of the test suite (scripts/install-deps.sh).
    ASSERT_EQ(access(kNginx, X_OK), 0) << kNginx << " is not installed";
  }

  static testing::TempDir* dir_;
};
testing::TempDir* NginxCheckTest::dir_ = nullptr;

// A minimal nginx.conf around a snippet: all its files under the prefix.
std::string WrapSnippet(const std::string& snippet_path) {
  return "pid nginx.pid;\n"
         "error_log stderr;\n"
         "events {}\n"
         "http {\n"
         "    client_body_temp_path client_body_temp;\n"
         "    proxy_temp_path proxy_temp;\n"
         "    fastcgi_temp_path fastcgi_temp;\n"
         "    uwsgi_temp_path uwsgi_temp;\n"
         "    scgi_temp_path scgi_temp;\n"
         "    include " +
         snippet_path +
         ";\n"
         "}\n";
}

TEST_F(NginxCheckTest, EveryCombinationOfOptionsPasses) {
  const std::string& dir = dir_->path();
  const std::string cert = dir + "/cert.pem";
  const std::string key = dir + "/key.pem";
  int checked = 0;
  for (bool snippet : {false, true}) {
    for (bool tls : {false, true}) {
      for (int upstream_tls : {0, 1, 2}) {  // none, verified, verified with a client certificate
        for (bool wildcard : {false, true}) {
          for (bool several : {false, true}) {
            SCOPED_TRACE(::testing::Message()
                         << "snippet=" << snippet << " tls=" << tls << " upstream_tls="
                         << upstream_tls << " wildcard=" << wildcard << " several=" << several);
            const std::string yaml = wildcard ? "tenant_groups: {TG1: [WM_GLASS], TG2: [ACME, "
                                                "Globex], TG3: [\"*\"]}"
                                              : "tenant_groups: {TG1: [WM_GLASS], TG2: [ACME, "
                                                "Globex, a.b-c_d]}";
            auto groups =
                config::TenantGroups::Parse(YAML::Load(yaml)["tenant_groups"], "groups.yaml");
            ASSERT_TRUE(groups.ok()) << groups.status().ToString();
            EdgeOptions options;
            options.snippet = snippet;
            options.listen = "127.0.0.1:18443";
            for (const auto& [name, tenants] : groups->groups()) {
              Upstream u{name, {"127.0.0.1:19001"}};
              if (several) u.servers = {"127.0.0.1:19001", "localhost:19002", "[::1]:19003"};
              options.upstreams.push_back(u);
            }
            if (tls) {
              options.tls_cert = cert;
              options.tls_key = key;
              options.server_name = "edge.tempo.test";
            }
            if (upstream_tls > 0) options.upstream_ca = cert;
            if (upstream_tls > 1) {
              options.upstream_tls_cert = cert;
              options.upstream_tls_key = key;
            }
            auto text = GenerateNginxConfig(*groups, options);
            ASSERT_TRUE(text.ok()) << text.status().ToString();
            const std::string generated = dir + "/generated.conf";
            Write(generated, *text);
            std::string conf = generated;
            if (snippet) {
              conf = dir + "/nginx.conf";
              Write(conf, WrapSnippet(generated));
            }
            std::string output;
            const int status = RunShell(
                dir, std::string(kNginx) + " -t -q -e stderr -p '" + dir + "' -c '" + conf + "'",
                &output);
            ASSERT_EQ(status, 0) << output << "\n--- " << generated << ":\n" << *text;
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 48);
}

}  // namespace
}  // namespace tempo::edge
