// PgServer: a throwaway PostgreSQL server on loopback for tests and benchmarks.
//
// Start() runs initdb into a fresh temporary directory (trust auth, user
// "tempo", no fsync), launches `postgres` on 127.0.0.1 and a free port (TCP
// only, no Unix socket), waits until it accepts connections and creates the
// database "tempo". The binaries come from the newest
// /usr/lib/postgresql/<version>/bin, else from PATH. PostgreSQL refuses to
// run as root, so when the process is root they run as the user "nobody",
// which then owns the directory.
//
// Stop() kills the server the way a crash would (SIGQUIT: immediate shutdown,
// no checkpoint); Restart() starts it again on the same port and data, so a
// client's URI stays valid and crash recovery runs. The destructor stops the
// server and removes the directory; the server also dies with the thread
// that started it (PR_SET_PDEATHSIG), so a crashed test leaves nothing behind.
//
// StartWithTls() starts one that accepts only TLS (ssl=on, a `hostnossl ...
// reject` line first in pg_hba.conf), with a test CA, a server certificate
// for 127.0.0.1 and localhost and a client certificate for the user, all made
// with the `openssl` command at start. Clients reach the database "postgres"
// (the harness's own tools) with any TLS; the others as PgTlsOptions says.
//
// Not thread-safe: drive one server from one thread, and keep that thread
// alive as long as the server.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tempo::testing {

// How a server started with PgServer::StartWithTls authenticates clients.
struct PgTlsOptions {
  enum class ClientAuth {
    kTrust,        // any client over TLS (pg_hba `hostssl ... trust`)
    kCertificate,  // a client certificate the test CA signed, its CN the user
                   // (pg_hba `hostssl ... cert`, i.e. clientcert=verify-full)
  };
  ClientAuth client_auth = ClientAuth::kTrust;
};

class PgServer {
 public:
  // Creates, starts and waits for a server (bounded: about a minute at worst
  // on a loaded machine). Unavailable when no PostgreSQL binaries are found
  // or the server does not come up; nothing is left running then.
  static Result<std::unique_ptr<PgServer>> Start();

  // As Start(), but TLS only (see above). Unavailable also when `openssl`
  // is not found or fails.
  static Result<std::unique_ptr<PgServer>> StartWithTls(const PgTlsOptions& tls = {});

  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;
  ~PgServer();

  // postgres://tempo@127.0.0.1:<port>/tempo
  std::string uri() const { return UriOf("tempo"); }
  int port() const { return port_; }

  // With TLS: PEM files, readable by this process. The CA that signed the
  // server's and the client's certificates; a second CA that signed neither
  // (a wrong sslrootcert); the client certificate (CN "tempo") and its key
  // (mode 0600, as libpq wants it). Empty without TLS.
  const std::string& ca_file() const { return ca_file_; }
  const std::string& other_ca_file() const { return other_ca_file_; }
  const std::string& client_cert_file() const { return client_cert_file_; }
  const std::string& client_key_file() const { return client_key_file_; }

  // uri() with ?sslmode=verify-full&sslrootcert=ca_file() and, when
  // `client_certificate`, &sslcert=...&sslkey=...
  std::string TlsUri(bool client_certificate = true) const;

  // Creates an empty database `name` ([a-z0-9_]+) and returns its URI: a
  // fresh store for one test without a new server.
  Result<std::string> CreateDatabase(std::string_view name);

  // Kills the server like a crash (immediate shutdown) and waits for it to
  // exit. No-op when it is not running.
  Status Stop();
  // Stops the server if running, then starts it again on the same port and
  // data directory, and waits until it accepts connections.
  Status Restart();

 private:
  PgServer() = default;
  // Everything but Launch: the directory, initdb, and with `tls` the
  // certificates and TLS-only configuration.
  static Result<std::unique_ptr<PgServer>> Create(const PgTlsOptions* tls);
  // Makes the CA and certificates and configures TLS-only access.
  Status SetUpTls(const PgTlsOptions& tls);
  // Runs `openssl` with `args` in `dir` (bounded).
  Status OpenSsl(const std::string& dir, const std::vector<std::string>& args) const;
  std::string UriOf(std::string_view database) const;
  // Launches `postgres` on a free port and creates the database "tempo".
  Status LaunchAndCreateDatabase();
  // Launches `postgres` and waits until it accepts connections.
  Status Launch();
  // Runs one of the PostgreSQL binaries to completion (bounded).
  Status Run(const std::string& tool, const std::vector<std::string>& args) const;

  std::string bin_dir_;
  std::string dir_;  // temporary directory: data/ and server.log
  int port_ = 0;
  pid_t pid_ = -1;  // the postmaster; -1 when not running
  bool tls_ = false;
  std::string ca_file_, other_ca_file_, client_cert_file_, client_key_file_;
  bool drop_root_ = false;
  uid_t run_uid_ = 0;  // the user the binaries run as when dropping root
  gid_t run_gid_ = 0;
};

}  // namespace tempo::testing
