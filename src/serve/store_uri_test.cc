// Store URIs: PostgreSQL over TLS through libpq's own URI parameters
// (sslmode, sslrootcert, sslcert, sslkey) against throw-away TLS-only
// servers, and no password in any message. One process, two servers: each
// start costs initdb and the certificates.
#include "serve/store_uri.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "testing/pg_server.h"
#include "testing/temp_dir.h"

namespace tempo::serve {
namespace {

constexpr char kPassword[] = "Pa55-w0rd-Never-Shown";

TEST(RedactStoreUriTest, HidesPasswordsOnly) {
  EXPECT_EQ(RedactStoreUri("postgres://tempo:secret@db:5432/tempo"),
            "postgres://tempo:***@db:5432/tempo");
  EXPECT_EQ(RedactStoreUri("postgresql://tempo:s%40c@h1:1,h2:2/db?sslmode=verify-full"),
            "postgresql://tempo:***@h1:1,h2:2/db?sslmode=verify-full");
  EXPECT_EQ(RedactStoreUri("postgres://tempo@db/tempo?sslmode=require&password=x&sslpassword=y"
                           "&sslkey=/k"),
            "postgres://tempo@db/tempo?sslmode=require&password=***&sslpassword=***&sslkey=/k");
  EXPECT_EQ(RedactStoreUri("postgres://db?password"), "postgres://db?password");
  EXPECT_EQ(RedactStoreUri("postgres://tempo@db:5432/tempo"), "postgres://tempo@db:5432/tempo");
  EXPECT_EQ(RedactStoreUri("postgres://"), "postgres://");
  EXPECT_EQ(RedactStoreUri("/var/lib/tempo/store"), "/var/lib/tempo/store");
  EXPECT_EQ(RedactStoreUri("rocksdb:///a:b@c"), "rocksdb:///a:b@c");
}

TEST(StoreUriTest, UnsupportedSchemesDoNotEchoTheUri) {
  auto opened = OpenStore(std::string("mysql://root:") + kPassword + "@db/x");
  EXPECT_EQ(opened.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(opened.status().message().find(kPassword), std::string::npos)
      << opened.status().message();
}

class PgTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = testing::PgServer::StartWithTls();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // Opens `uri` for writing and runs one statement through it.
  static Status OpenAndQuery(const std::string& uri) {
    auto origin = OpenStore(uri);
    if (!origin.ok()) return origin.status();
    auto known = (*origin)->TenantKnown("ACME");
    return known.status();
  }

  static testing::PgServer* server_;
};

testing::PgServer* PgTlsTest::server_ = nullptr;

TEST_F(PgTlsTest, VerifyFullWithTheRightCaConnects) {
  ASSERT_NE(server_, nullptr);
  Status s = OpenAndQuery(server_->TlsUri(/*client_certificate=*/false));
  EXPECT_TRUE(s.ok()) << s.ToString();
  // The other two ways a store is opened take the same URI.
  auto reader = OpenStoreReadOnly(server_->TlsUri(false));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE((*reader)->TenantKnown("ACME").ok());
  testing::TempDir scratch;
  ReadingOptions reading;
  reading.connections = 2;  // all opened at once, each over TLS
  auto secondary = OpenStoreForReading(server_->TlsUri(false), scratch.path(), reading);
  ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
  EXPECT_TRUE((*secondary)->TenantKnown("ACME").ok());
  // The name checked by verify-full may also be the certificate's DNS name.
  std::string by_name = server_->TlsUri(false);
  by_name.replace(by_name.find("127.0.0.1"), 9, "localhost");
  s = OpenAndQuery(by_name);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(PgTlsTest, PlainConnectionsAreRefusedSoTheOthersWereTls) {
  ASSERT_NE(server_, nullptr);
  Status s = OpenAndQuery(server_->uri() + "?sslmode=disable");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no encryption"), std::string::npos) << s.message();
}

TEST_F(PgTlsTest, WrongCaFailsWithLibpqsReason) {
  ASSERT_NE(server_, nullptr);
  const std::string uri = server_->uri() +
                          "?sslmode=verify-full&sslrootcert=" + server_->other_ca_file() +
                          "&password=" + kPassword;
  Status s = OpenAndQuery(uri);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("certificate verify failed"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find(kPassword), std::string::npos) << s.message();

  s = OpenAndQuery(server_->uri() + "?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent/ca.pem"), std::string::npos) << s.message();
}

TEST_F(PgTlsTest, PasswordsNeverAppearInMessages) {
  ASSERT_NE(server_, nullptr);
  std::string uri = server_->uri();
  uri.replace(uri.find("tempo@"), 6, std::string("tempo:") + kPassword + "@");
  uri += "?sslmode=verify-full&sslrootcert=" + server_->other_ca_file();
  for (auto open : {&OpenStore, &OpenStoreReadOnly}) {
    auto opened = open(uri);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().message().find(kPassword), std::string::npos)
        << opened.status().message();
  }
  // libpq's URI parser quotes what it cannot decode: the password too.
  uri = "postgres://tempo:" + std::string(kPassword) + "%zz@127.0.0.1:1/tempo";
  auto opened = OpenStore(uri);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().message().find(kPassword), std::string::npos)
      << opened.status().message();
  EXPECT_EQ(RedactStoreUri(uri).find(kPassword), std::string::npos);
}

TEST(PgClientCertificateTest, AcceptedWhenTheServerRequiresOne) {
  testing::PgTlsOptions tls;
  tls.client_auth = testing::PgTlsOptions::ClientAuth::kCertificate;
  auto server = testing::PgServer::StartWithTls(tls);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto origin = OpenStore((*server)->TlsUri(/*client_certificate=*/true));
  ASSERT_TRUE(origin.ok()) << origin.status().ToString();
  EXPECT_TRUE((*origin)->TenantKnown("ACME").ok());

  auto refused = OpenStore((*server)->TlsUri(/*client_certificate=*/false));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("certificate"), std::string::npos)
      << refused.status().message();
}

}  // namespace
}  // namespace tempo::serve
