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

class PgServer {
 public:
  // Creates, starts and waits for a server (bounded: about a minute at worst
  // on a loaded machine). Unavailable when no PostgreSQL binaries are found
  // or the server does not come up; nothing is left running then.
  static Result<std::unique_ptr<PgServer>> Start();

  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;
  ~PgServer();

  // postgres://tempo@127.0.0.1:<port>/tempo
  std::string uri() const { return UriOf("tempo"); }
  int port() const { return port_; }

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
  std::string UriOf(std::string_view database) const;
  // Launches `postgres` and waits until it accepts connections.
  Status Launch();
  // Runs one of the PostgreSQL binaries to completion (bounded).
  Status Run(const std::string& tool, const std::vector<std::string>& args) const;

  std::string bin_dir_;
  std::string dir_;  // temporary directory: data/ and server.log
  int port_ = 0;
  pid_t pid_ = -1;  // the postmaster; -1 when not running
  bool drop_root_ = false;
  uid_t run_uid_ = 0;  // the user the binaries run as when dropping root
  gid_t run_gid_ = 0;
};

}  // namespace tempo::testing
