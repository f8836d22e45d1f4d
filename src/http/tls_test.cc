// Tests of the HTTP server over TLS and mutual TLS, on 127.0.0.1, with a CA
// and certificates made by the openssl command at test time, and an OpenSSL
// client on a blocking socket with a receive timeout (a broken server fails
// the test instead of hanging it).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"
#include "http/test_client.h"
#include "testing/temp_dir.h"

namespace tempo::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Certificates for the tests: two CAs (A and B), server certificates
// "server-1" and "server-2" for 127.0.0.1 signed by A, and a client
// certificate from each CA.
class TestPki {
 public:
  TestPki() : dir_("tempo_tls_test") {
    ok_ = MakeCa("ca_a", "Test CA A") && MakeCa("ca_b", "Test CA B") &&
          MakeCert("server1", "server-1", "ca_a", "subjectAltName=IP:127.0.0.1\n") &&
          MakeCert("server2", "server-2", "ca_a", "subjectAltName=IP:127.0.0.1\n") &&
          MakeCert("client_a", "client-a", "ca_a", "extendedKeyUsage=clientAuth\n") &&
          MakeCert("client_b", "client-b", "ca_b", "extendedKeyUsage=clientAuth\n");
  }

  bool ok() const { return ok_; }
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  std::string Pem(const std::string& name) const { return Path(name + ".pem"); }
  std::string Key(const std::string& name) const { return Path(name + ".key"); }

 private:
  bool Run(const std::string& command) const {
    return std::system(("cd '" + dir_.path() + "' && " + command + " >/dev/null 2>&1").c_str()) ==
           0;
  }
  bool MakeCa(const std::string& name, const std::string& cn) const {
    return Run(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
        name + ".key -out " + name + ".pem -days 2 -subj '/CN=" + cn + "'");
  }
  bool MakeCert(const std::string& name, const std::string& cn, const std::string& ca,
                const std::string& extensions) const {
    std::ofstream(Path(name + ".ext")) << extensions;
    return Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
               name + ".key -out " + name + ".csr -subj '/CN=" + cn + "'") &&
           Run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
               ".key -CAcreateserial -days 2 -out " + name + ".pem -extfile " + name + ".ext");
  }

  testing::TempDir dir_;
  bool ok_ = false;
};

struct ClientOptions {
  std::string ca_file;    // verifies the server against it when set
  std::string cert_file;  // presents this client certificate when set
  std::string key_file;
  int version = 0;  // only this protocol version (e.g. TLS1_1_VERSION); 0: any
};

// A TLS client on one connection.
class TlsClient {
 public:
  struct Reply {
    int status = 0;
    std::string head;
    std::string body;
  };

  TlsClient(uint16_t port, const ClientOptions& options) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (options.version != 0) {
      if (options.version < TLS1_2_VERSION) {
        // Old protocols need the lowest security level to be offered at all.
        SSL_CTX_set_security_level(ctx_, 0);
        SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
      }
      SSL_CTX_set_min_proto_version(ctx_, options.version);
      SSL_CTX_set_max_proto_version(ctx_, options.version);
    }
    if (!options.ca_file.empty()) {
      SSL_CTX_load_verify_locations(ctx_, options.ca_file.c_str(), nullptr);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    if (!options.cert_file.empty()) {
      SSL_CTX_use_certificate_chain_file(ctx_, options.cert_file.c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, options.key_file.c_str(), SSL_FILETYPE_PEM);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (!options.ca_file.empty()) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    handshake_ok_ = SSL_connect(ssl_) == 1;
    ERR_clear_error();
  }
  ~TlsClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    close(fd_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // The client's side of the handshake completed. (With TLS 1.3 the server
  // may still refuse the client's certificate after this: see Get.)
  bool handshake_ok() const { return handshake_ok_; }

  // The protocol version agreed (TLS1_3_VERSION...).
  int version() const { return SSL_version(ssl_); }

  // The server certificate's common name.
  std::string PeerName() const {
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (cert == nullptr) return "";
    char name[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
    X509_free(cert);
    return name;
  }

  bool Send(const std::string& bytes) {
    if (!handshake_ok_) return false;
    const bool ok = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) ==
                    static_cast<int>(bytes.size());
    ERR_clear_error();
    return ok;
  }

  // Reads one response (with Content-Length), or nullopt on a close or error.
  std::optional<Reply> Read() {
    size_t end;
    while ((end = buffered_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    Reply reply;
    reply.head = buffered_.substr(0, end + 2);
    buffered_.erase(0, end + 4);
    if (!reply.head.starts_with("HTTP/1.1 ")) return std::nullopt;
    reply.status = std::stoi(reply.head.substr(9, 3));
    const size_t at = reply.head.find("Content-Length: ");
    if (at == std::string::npos) return std::nullopt;
    const size_t length = std::stoul(reply.head.substr(at + 16));
    while (buffered_.size() < length) {
      if (!Fill()) return std::nullopt;
    }
    reply.body = buffered_.substr(0, length);
    buffered_.erase(0, length);
    return reply;
  }

  std::optional<Reply> Get(const std::string& target, const std::string& extra = "") {
    if (!Send("GET " + target + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n")) return std::nullopt;
    return Read();
  }

  // True when the server ended the stream with a close_notify.
  bool ClosedCleanly() {
    char c;
    const int n = SSL_read(ssl_, &c, 1);
    const bool clean = n <= 0 && SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN;
    ERR_clear_error();
    return clean;
  }

 private:
  bool Fill() {
    char chunk[16384];
    const int n = SSL_read(ssl_, chunk, sizeof chunk);
    ERR_clear_error();
    if (n <= 0) return false;
    buffered_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool handshake_ok_ = false;
  std::string buffered_;
};

// A plain TCP client, for bytes that are not TLS.
using RawClient = test::Client;

void Echo(const Request& request, Response* response) {
  response->headers.emplace_back("Content-Type", "text/plain");
  response->body = "echo " + std::string(request.target);
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The client's OpenSSL writes with write(2): a closed connection must
    // fail the write, not kill the test.
    signal(SIGPIPE, SIG_IGN);
    ASSERT_TRUE(pki_.ok()) << "openssl could not make the certificates";
  }

  ServerOptions Options(const std::string& server = "server1", const std::string& client_ca = "") {
    ServerOptions options;
    options.threads = 2;
    options.tls.cert_file = pki_.Pem(server);
    options.tls.key_file = pki_.Key(server);
    if (!client_ca.empty()) options.tls.client_ca_file = pki_.Pem(client_ca);
    return options;
  }

  std::unique_ptr<Server> Start(const ServerOptions& options, Handler handler = Echo) {
    auto server = Server::Start(options, std::move(handler));
    EXPECT_TRUE(server.ok()) << server.status().message();
    return server.ok() ? std::move(server).value() : nullptr;
  }

  ClientOptions Verifying(const std::string& client = "") const {
    ClientOptions options;
    options.ca_file = pki_.Pem("ca_a");
    if (!client.empty()) {
      options.cert_file = pki_.Pem(client);
      options.key_file = pki_.Key(client);
    }
    return options;
  }

  // Polls (bounded) until the server has counted `n` failed handshakes.
  static uint64_t WaitForFailures(Server* server, uint64_t n) {
    for (int i = 0; i < 500 && server->Stats().tls_handshake_failures < n; ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    return server->Stats().tls_handshake_failures;
  }

  static void Copy(const std::string& from, const std::string& to) {
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  }

  TestPki pki_;
};

TEST_F(TlsTest, ServesOverTlsWithKeepAliveAndPipelining) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  TlsClient client(server->port(), Verifying());
  ASSERT_TRUE(client.handshake_ok());
  EXPECT_EQ(client.PeerName(), "server-1");
  for (int i = 0; i < 3; ++i) {
    auto reply = client.Get("/a" + std::to_string(i));
    ASSERT_TRUE(reply.has_value()) << i;
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, "echo /a" + std::to_string(i));
    EXPECT_EQ(reply->head.find("Connection: close"), std::string::npos) << reply->head;
  }
  // Three requests in one write come back in order.
  std::string pipeline;
  for (int i = 0; i < 3; ++i)
    pipeline += "GET /p" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_TRUE(client.Send(pipeline));
  for (int i = 0; i < 3; ++i) {
    auto reply = client.Read();
    ASSERT_TRUE(reply.has_value()) << i;
    EXPECT_EQ(reply->body, "echo /p" + std::to_string(i));
  }
  const ServerStats stats = server->Stats();
  EXPECT_EQ(stats.tls_handshakes, 1u);
  EXPECT_EQ(stats.tls_handshake_failures, 0u);
}

TEST_F(TlsTest, LargeBodiesAndConnectionCloseEndWithCloseNotify) {
  const std::string big(200'000, 'b');
  auto server = Start(Options(), [&big](const Request& request, Response* response) {
    response->body = request.target == "/big" ? big : "small";
  });
  ASSERT_NE(server, nullptr);
  TlsClient client(server->port(), Verifying());
  ASSERT_TRUE(client.handshake_ok());
  auto reply = client.Get("/big");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->body, big);
  reply = client.Get("/small", "Connection: close\r\n");
  ASSERT_TRUE(reply.has_value());
  EXPECT_NE(reply->head.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(client.ClosedCleanly());
}

TEST_F(TlsTest, OnlyTls12AndTls13AreAccepted) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    ClientOptions options = Verifying();
    options.version = version;
    TlsClient client(server->port(), options);
    ASSERT_TRUE(client.handshake_ok()) << version;
    EXPECT_EQ(client.version(), version);
    ASSERT_TRUE(client.Get("/").has_value()) << version;
  }
  for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    ClientOptions options = Verifying();
    options.version = version;
    TlsClient client(server->port(), options);
    EXPECT_FALSE(client.handshake_ok()) << version;
  }
  EXPECT_EQ(WaitForFailures(server.get(), 2), 2u);
}

TEST_F(TlsTest, MutualTlsNeedsACertificateTheClientCaSigned) {
  auto server = Start(Options("server1", "ca_a"));
  ASSERT_NE(server, nullptr);
  {
    TlsClient client(server->port(), Verifying("client_a"));
    ASSERT_TRUE(client.handshake_ok());
    auto reply = client.Get("/");
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 200);
  }
  // Without a certificate, or with one another CA signed, no request is
  // answered (with TLS 1.3 the client learns it on its first read).
  for (const std::string client_name : {"", "client_b"}) {
    TlsClient client(server->port(), Verifying(client_name));
    EXPECT_FALSE(client.Get("/").has_value()) << client_name;
  }
  EXPECT_EQ(WaitForFailures(server.get(), 2), 2u);
  EXPECT_EQ(server->Stats().tls_handshakes, 1u);
}

TEST_F(TlsTest, PlainHttpToATlsPortIsClosedUnanswered) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  RawClient client(server->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::string received;
  EXPECT_TRUE(client.ReadUntilClosed(&received));
  EXPECT_EQ(received.find("HTTP/"), std::string::npos);
  EXPECT_EQ(WaitForFailures(server.get(), 1), 1u);
  // Garbage of any kind, too; the server goes on serving.
  RawClient garbage(server->port());
  ASSERT_TRUE(garbage.Send(std::string(5000, '\x16')));
  EXPECT_TRUE(garbage.ReadUntilClosed(&received));
  TlsClient good(server->port(), Verifying());
  ASSERT_TRUE(good.Get("/").has_value());
}

TEST_F(TlsTest, AClientThatNeverHandshakesIsClosedAtTheHeaderTimeout) {
  ServerOptions options = Options();
  options.header_timeout_ms = 200;
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  RawClient silent(server->port());
  RawClient partial(server->port());  // a ClientHello's first bytes only
  ASSERT_TRUE(partial.Send(std::string("\x16\x03\x01\x02\x00\x01", 6)));
  const auto start = steady_clock::now();
  std::string received;
  EXPECT_TRUE(silent.ReadUntilClosed(&received));
  EXPECT_TRUE(partial.ReadUntilClosed(&received));
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(4));
  EXPECT_EQ(WaitForFailures(server.get(), 2), 2u);
  // The count comes just before the connection is removed.
  for (int i = 0; i < 500 && server->Stats().connections_open != 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(server->Stats().connections_open, 0);
}

TEST_F(TlsTest, ReloadServesNewCertificatesToNewConnectionsOnly) {
  const std::string cert = pki_.Path("live.pem"), key = pki_.Path("live.key");
  Copy(pki_.Pem("server1"), cert);
  Copy(pki_.Key("server1"), key);
  ServerOptions options = Options();
  options.tls.cert_file = cert;
  options.tls.key_file = key;
  auto server = Start(options);
  ASSERT_NE(server, nullptr);

  TlsClient old_client(server->port(), Verifying());
  ASSERT_TRUE(old_client.Get("/before").has_value());
  EXPECT_EQ(old_client.PeerName(), "server-1");

  Copy(pki_.Pem("server2"), cert);
  Copy(pki_.Key("server2"), key);
  ASSERT_TRUE(server->ReloadTls().ok());
  TlsClient new_client(server->port(), Verifying());
  ASSERT_TRUE(new_client.Get("/after").has_value());
  EXPECT_EQ(new_client.PeerName(), "server-2");
  // The open keep-alive connection goes on.
  auto reply = old_client.Get("/still");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->body, "echo /still");

  // A bad file: the error names it, and the previous certificate stays.
  std::ofstream(cert, std::ios::trunc) << "not a certificate\n";
  Status bad = server->ReloadTls();
  EXPECT_EQ(bad.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(bad.message().find(cert), std::string::npos) << bad.message();
  // A key that does not match the certificate is refused too.
  Copy(pki_.Pem("server1"), cert);
  EXPECT_EQ(server->ReloadTls().code(), Status::Code::kInvalidArgument);
  TlsClient after_bad(server->port(), Verifying());
  ASSERT_TRUE(after_bad.Get("/").has_value());
  EXPECT_EQ(after_bad.PeerName(), "server-2");
}

TEST_F(TlsTest, ReloadChangesTheClientCaForNewConnections) {
  const std::string ca = pki_.Path("live_ca.pem");
  Copy(pki_.Pem("ca_a"), ca);
  ServerOptions options = Options();
  options.tls.client_ca_file = ca;
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  TlsClient a(server->port(), Verifying("client_a"));
  ASSERT_TRUE(a.Get("/").has_value());
  Copy(pki_.Pem("ca_b"), ca);
  ASSERT_TRUE(server->ReloadTls().ok());
  TlsClient b(server->port(), Verifying("client_b"));
  EXPECT_TRUE(b.Get("/").has_value());
  TlsClient a_again(server->port(), Verifying("client_a"));
  EXPECT_FALSE(a_again.Get("/").has_value());
  EXPECT_TRUE(a.Get("/open").has_value());  // accepted before the reload
}

TEST_F(TlsTest, BadFilesAreRefusedAtStart) {
  ServerOptions options = Options();
  options.tls.cert_file = pki_.Path("missing.pem");
  auto missing = Server::Start(options, Echo);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("missing.pem"), std::string::npos);

  options = Options();
  options.tls.key_file = pki_.Key("server2");  // not server1's key
  auto mismatch = Server::Start(options, Echo);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("does not match"), std::string::npos);

  options = Options();
  options.tls.key_file.clear();
  EXPECT_EQ(Server::Start(options, Echo).status().code(), Status::Code::kInvalidArgument);

  options = ServerOptions();
  options.tls.client_ca_file = pki_.Pem("ca_a");  // a client CA without a certificate
  EXPECT_EQ(Server::Start(options, Echo).status().code(), Status::Code::kInvalidArgument);

  options = Options();
  options.tls.client_ca_file = pki_.Key("ca_a");  // a key is no CA
  EXPECT_EQ(Server::Start(options, Echo).status().code(), Status::Code::kInvalidArgument);
}

TEST_F(TlsTest, StopAnswersTheRequestInFlightAndClosesTheRest) {
  std::mutex mu;
  std::vector<std::thread> senders;
  auto server = Start(Options(), [&](const Request& request, Response* response) {
    if (request.target != "/slow") {
      response->body = "fast";
      return;
    }
    Response fallback;
    fallback.status = 503;
    auto pending =
        request.responder->Defer(steady_clock::now() + std::chrono::seconds(5), fallback);
    std::lock_guard<std::mutex> lock(mu);
    senders.emplace_back([pending] {
      std::this_thread::sleep_for(milliseconds(300));
      Response answer;
      answer.body = "slow";
      pending->Send(std::move(answer));
    });
  });
  ASSERT_NE(server, nullptr);
  TlsClient idle(server->port(), Verifying());
  ASSERT_TRUE(idle.Get("/").has_value());
  TlsClient busy(server->port(), Verifying());
  ASSERT_TRUE(busy.handshake_ok());
  ASSERT_TRUE(busy.Send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(50));
  std::thread stopper([&] { server->Stop(); });
  auto reply = busy.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->body, "slow");
  EXPECT_NE(reply->head.find("Connection: close"), std::string::npos);
  EXPECT_FALSE(idle.Get("/").has_value());
  stopper.join();
  std::lock_guard<std::mutex> lock(mu);
  for (std::thread& t : senders) t.join();
}

}  // namespace
}  // namespace tempo::http
