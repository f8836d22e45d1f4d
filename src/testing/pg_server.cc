// PgServer: initdb, fork/exec of `postgres`, readiness polling, teardown.
#include "testing/pg_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "testing/ports.h"

namespace tempo::testing {
namespace {

using Clock = std::chrono::steady_clock;

// initdb takes ~1.5 s on an idle 2-core box; allow for a loaded CI machine.
constexpr auto kToolTimeout = std::chrono::seconds(60);
// Startup includes crash recovery after Stop().
constexpr auto kStartupTimeout = std::chrono::seconds(30);
constexpr auto kShutdownTimeout = std::chrono::seconds(10);
constexpr auto kPoll = std::chrono::milliseconds(20);
// Attempts at picking a free port: another process may take it between our
// probe and the server's bind, and then the server exits at once.
constexpr int kPortAttempts = 3;
// How much of the server log an error message quotes.
constexpr size_t kLogTailBytes = 2000;

constexpr char kUser[] = "tempo";
constexpr char kDatabase[] = "tempo";
// The unprivileged account the server runs as when the test runs as root.
constexpr char kUnprivilegedUser[] = "nobody";

// The server's TLS files in its data directory (names relative to it, as
// postgresql.conf takes them).
constexpr char kServerCert[] = "server.crt";
constexpr char kServerKey[] = "server.key";
constexpr char kCaCert[] = "ca.crt";
// Certificates are made for this long: a test needs minutes.
constexpr char kCertDays[] = "2";

// `name` in a directory of PATH, or "" if none has it.
std::string FindInPath(const std::string& name) {
  const char* path = getenv("PATH");
  std::stringstream dirs(path == nullptr ? "" : path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  }
  return "";
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::IOError("PgServer: cannot write " + path);
  return Status::OK();
}

// The bin directory of the newest installed PostgreSQL, or "" if none.
std::string FindBinDir() {
  std::vector<std::pair<int, std::string>> found;
  glob_t g{};
  if (glob("/usr/lib/postgresql/*/bin/initdb", 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::filesystem::path bin = std::filesystem::path(g.gl_pathv[i]).parent_path();
      found.emplace_back(atoi(bin.parent_path().filename().c_str()), bin.string());
    }
  }
  globfree(&g);
  if (!found.empty()) return std::max_element(found.begin(), found.end())->second;
  const char* path = getenv("PATH");
  std::stringstream dirs(path == nullptr ? "" : path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && access((dir + "/initdb").c_str(), X_OK) == 0) return dir;
  }
  return "";
}

std::string LogTail(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return log.size() > kLogTailBytes ? log.substr(log.size() - kLogTailBytes) : log;
}

// How a child process is started: output appended to `log_path`, running as
// (uid, gid) when `drop_root`, killed with SIGQUIT if the starting thread dies.
struct SpawnSpec {
  std::vector<std::string> argv;
  std::string log_path;
  std::string work_dir;
  bool drop_root = false;
  uid_t uid = 0;
  gid_t gid = 0;
  // NAME=VALUE entries added to (or replacing those of) this process's environment.
  std::vector<std::string> env = {};
};

Result<pid_t> Spawn(const SpawnSpec& spec) {
  // Built before fork: the child of a threaded process may only make
  // async-signal-safe calls until exec.
  std::vector<char*> argv;
  for (const std::string& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const bool replaced = std::any_of(spec.env.begin(), spec.env.end(), [&](const std::string& s) {
      return entry.substr(0, entry.find('=') + 1) == s.substr(0, s.find('=') + 1);
    });
    if (!replaced) envp.push_back(*e);
  }
  for (const std::string& entry : spec.env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  int log_fd = open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Status::IOError("open " + spec.log_path + ": " + strerror(errno));
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return Status::IOError(std::string("fork: ") + strerror(errno));
  }
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    // Sockets the test holds (client connections) must not stay open in the server.
    close_range(3, ~0U, 0);
    if (spec.drop_root &&
        (setgroups(0, nullptr) != 0 || setgid(spec.gid) != 0 || setuid(spec.uid) != 0)) {
      _exit(126);
    }
    // After setuid, which clears it. SIGQUIT is PostgreSQL's immediate shutdown.
    prctl(PR_SET_PDEATHSIG, SIGQUIT);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    if (chdir(spec.work_dir.c_str()) != 0) _exit(126);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(log_fd);
  return pid;
}

// Waits up to `timeout` for `pid` to exit; its exit status, or nullopt.
std::optional<int> WaitExit(pid_t pid, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int wstatus = 0;
    pid_t r = waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) return wstatus;
    if (r < 0 && errno != EINTR) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPoll);
  }
}

void KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<std::unique_ptr<PgServer>> PgServer::Start() {
  auto server = Create(nullptr);
  if (!server.ok()) return server.status();
  if (Status s = (*server)->LaunchAndCreateDatabase(); !s.ok()) return s;
  return server;
}

Result<std::unique_ptr<PgServer>> PgServer::StartWithTls(const PgTlsOptions& tls) {
  auto server = Create(&tls);
  if (!server.ok()) return server.status();
  if (Status s = (*server)->LaunchAndCreateDatabase(); !s.ok()) return s;
  return server;
}

Result<std::unique_ptr<PgServer>> PgServer::Create(const PgTlsOptions* tls) {
  std::unique_ptr<PgServer> server(new PgServer());
  server->bin_dir_ = FindBinDir();
  if (server->bin_dir_.empty()) {
    return Status::Unavailable("PgServer: no PostgreSQL binaries (initdb) found");
  }
  // PostgreSQL refuses to run as root: run it as an unprivileged user, in a
  // directory that user owns and can reach (so under /tmp, not $TMPDIR).
  server->drop_root_ = geteuid() == 0;
  std::string base = "/tmp";
  if (server->drop_root_) {
    const passwd* pw = getpwnam(kUnprivilegedUser);
    if (pw == nullptr) return Status::Unavailable("PgServer: running as root and no user nobody");
    server->run_uid_ = pw->pw_uid;
    server->run_gid_ = pw->pw_gid;
  } else if (const char* tmp = getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') {
    base = tmp;
  }
  std::string pattern = base + "/tempo_pg.XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::IOError("PgServer: mkdtemp " + pattern + ": " + strerror(errno));
  }
  server->dir_ = pattern;
  if (server->drop_root_ && chown(server->dir_.c_str(), server->run_uid_, server->run_gid_) != 0) {
    return Status::IOError("PgServer: chown " + server->dir_ + ": " + strerror(errno));
  }
  if (Status s = server->Run("initdb", {"-D", server->dir_ + "/data", "-A", "trust", "-U", kUser,
                                        "--no-sync", "-E", "UTF8", "--locale=C"});
      !s.ok()) {
    return s;
  }
  if (tls != nullptr) {
    if (Status s = server->SetUpTls(*tls); !s.ok()) return s;
  }
  return server;
}

Status PgServer::LaunchAndCreateDatabase() {
  Status launched;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    Result<int> port = PickFreePort();
    if (!port.ok()) return port.status();
    port_ = *port;
    launched = Launch();
    if (launched.ok()) break;
  }
  if (!launched.ok()) return launched;
  return Run("createdb", {"-h", "127.0.0.1", "-p", std::to_string(port_), "-U", kUser, kDatabase});
}

Status PgServer::OpenSsl(const std::string& dir, const std::vector<std::string>& args) const {
  const std::string openssl = FindInPath("openssl");
  if (openssl.empty()) return Status::Unavailable("PgServer: no openssl command found");
  SpawnSpec spec{{openssl}, dir_ + "/tools.log", dir};  // as this process's user
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  Result<pid_t> pid = Spawn(spec);
  if (!pid.ok()) return pid.status();
  std::optional<int> exited = WaitExit(*pid, kToolTimeout);
  if (!exited) {
    KillAndReap(*pid);
    return Status::Unavailable("PgServer: openssl did not finish in time");
  }
  if (!WIFEXITED(*exited) || WEXITSTATUS(*exited) != 0) {
    return Status::Unavailable("PgServer: openssl failed: " + LogTail(spec.log_path));
  }
  return Status::OK();
}

Status PgServer::SetUpTls(const PgTlsOptions& tls) {
  const std::string certs = dir_ + "/certs";
  std::error_code ec;
  std::filesystem::create_directory(certs, ec);
  if (ec) return Status::IOError("PgServer: mkdir " + certs + ": " + ec.message());
  const std::vector<std::string> new_key = {"-newkey", "ec", "-pkeyopt",
                                            "ec_paramgen_curve:prime256v1", "-nodes"};
  // Two CAs: the one that signs everything, and one that signs nothing.
  for (const char* ca : {"ca", "other-ca"}) {
    std::vector<std::string> args = {"req", "-x509"};
    args.insert(args.end(), new_key.begin(), new_key.end());
    args.insert(args.end(), {"-keyout", std::string(ca) + ".key", "-out", std::string(ca) + ".crt",
                             "-days", kCertDays, "-subj", "/CN=Tempo test " + std::string(ca),
                             "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                             "keyUsage=critical,keyCertSign,cRLSign"});
    if (Status s = OpenSsl(certs, args); !s.ok()) return s;
  }
  // name, subject, extensions
  const std::tuple<std::string, std::string, std::string> leaves[] = {
      {"server", "/CN=127.0.0.1",
       "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"},
      {"client", std::string("/CN=") + kUser, "extendedKeyUsage=clientAuth\n"},
  };
  int serial = 1;
  for (const auto& [name, subject, extensions] : leaves) {
    if (Status s =
            WriteFile(certs + "/" + name + ".ext", "basicConstraints=CA:FALSE\n" + extensions);
        !s.ok()) {
      return s;
    }
    std::vector<std::string> args = {"req", "-new"};
    args.insert(args.end(), new_key.begin(), new_key.end());
    args.insert(args.end(), {"-keyout", name + ".key", "-out", name + ".csr", "-subj", subject});
    if (Status s = OpenSsl(certs, args); !s.ok()) return s;
    if (Status s = OpenSsl(certs, {"x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey",
                                   "ca.key", "-set_serial", std::to_string(++serial), "-days",
                                   kCertDays, "-out", name + ".crt", "-extfile", name + ".ext"});
        !s.ok()) {
      return s;
    }
  }
  ca_file_ = certs + "/ca.crt";
  other_ca_file_ = certs + "/other-ca.crt";
  client_cert_file_ = certs + "/client.crt";
  client_key_file_ = certs + "/client.key";
  if (chmod(client_key_file_.c_str(), 0600) != 0) {
    return Status::IOError("PgServer: chmod " + client_key_file_ + ": " + strerror(errno));
  }

  // The server's copies, owned by the user it runs as; its key private.
  const std::string data = dir_ + "/data/";
  const std::pair<std::string, std::string> copies[] = {
      {"server.crt", kServerCert}, {"server.key", kServerKey}, {"ca.crt", kCaCert}};
  for (const auto& [from, to] : copies) {
    std::filesystem::copy_file(certs + "/" + from, data + to,
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) return Status::IOError("PgServer: copy " + from + ": " + ec.message());
    if (chmod((data + to).c_str(), 0600) != 0 ||
        (drop_root_ && chown((data + to).c_str(), run_uid_, run_gid_) != 0)) {
      return Status::IOError("PgServer: chmod/chown " + data + to + ": " + strerror(errno));
    }
  }
  // First match wins: no plain TCP at all; the maintenance database for the
  // harness's own tools; everything else as asked.
  const std::string method =
      tls.client_auth == PgTlsOptions::ClientAuth::kCertificate ? "cert" : "trust";
  const std::string hba =
      "# Written by tempo::testing::PgServer: TLS only.\n"
      "hostnossl all      all 0.0.0.0/0    reject\n"
      "hostssl   postgres all 127.0.0.1/32 trust\n"
      "hostssl   all      all 127.0.0.1/32 " +
      method + "\n";
  if (Status s = WriteFile(data + "pg_hba.conf", hba); !s.ok()) return s;
  tls_ = true;
  return Status::OK();
}

std::string PgServer::TlsUri(bool client_certificate) const {
  std::string uri = this->uri() + "?sslmode=verify-full&sslrootcert=" + ca_file_;
  if (client_certificate) uri += "&sslcert=" + client_cert_file_ + "&sslkey=" + client_key_file_;
  return uri;
}

PgServer::~PgServer() {
  (void)Stop();  // a destructor cannot report; Stop SIGKILLs as a last resort
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string PgServer::UriOf(std::string_view database) const {
  return "postgres://" + std::string(kUser) + "@127.0.0.1:" + std::to_string(port_) + "/" +
         std::string(database);
}

Result<std::string> PgServer::CreateDatabase(std::string_view name) {
  if (name.empty() ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string_view::npos) {
    return Status::InvalidArgument("PgServer: database names are [a-z0-9_]+");
  }
  if (Status s = Run("createdb", {"-h", "127.0.0.1", "-p", std::to_string(port_), "-U", kUser,
                                  std::string(name)});
      !s.ok()) {
    return s;
  }
  return UriOf(name);
}

Status PgServer::Run(const std::string& tool, const std::vector<std::string>& args) const {
  SpawnSpec spec{
      {bin_dir_ + "/" + tool}, dir_ + "/tools.log", dir_, drop_root_, run_uid_, run_gid_};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  if (tls_) {
    // TLS without a client certificate: libpq's default one is under $HOME,
    // which the user the tools run as may not be allowed to look into.
    spec.env = {"PGSSLMODE=require", "PGSSLCERT=" + dir_ + "/no-client.crt",
                "PGSSLKEY=" + dir_ + "/no-client.key"};
  }
  Result<pid_t> pid = Spawn(spec);
  if (!pid.ok()) return pid.status();
  std::optional<int> exited = WaitExit(*pid, kToolTimeout);
  if (!exited) {
    KillAndReap(*pid);
    return Status::Unavailable("PgServer: " + tool + " did not finish in time");
  }
  if (!WIFEXITED(*exited) || WEXITSTATUS(*exited) != 0) {
    return Status::Unavailable("PgServer: " + tool + " failed: " + LogTail(spec.log_path));
  }
  return Status::OK();
}

Status PgServer::Launch() {
  const std::string log = dir_ + "/server.log";
  // TCP on loopback only (no Unix socket: its path length is limited), no
  // fsync: test data need not survive a power loss.
  SpawnSpec spec{{bin_dir_ + "/postgres", "-D", dir_ + "/data", "-p", std::to_string(port_), "-c",
                  "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off",
                  "-c", "full_page_writes=off"},
                 log,
                 dir_,
                 drop_root_,
                 run_uid_,
                 run_gid_};
  if (tls_) {
    spec.argv.insert(
        spec.argv.end(),
        {"-c", "ssl=on", "-c", std::string("ssl_cert_file=") + kServerCert, "-c",
         std::string("ssl_key_file=") + kServerKey, "-c", std::string("ssl_ca_file=") + kCaCert});
  }
  Result<pid_t> pid = Spawn(spec);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  const auto deadline = Clock::now() + kStartupTimeout;
  while (Clock::now() < deadline) {
    if (WaitExit(pid_, std::chrono::seconds(0))) {
      pid_ = -1;
      return Status::Unavailable("PgServer: postgres exited during startup: " + LogTail(log));
    }
    // pg_isready exits 0 once the server accepts connections (not while it
    // is still starting up or recovering).
    if (Run("pg_isready",
            {"-q", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", kUser, "-d", "postgres"})
            .ok()) {
      return Status::OK();
    }
    std::this_thread::sleep_for(kPoll);
  }
  KillAndReap(pid_);
  pid_ = -1;
  return Status::Unavailable("PgServer: postgres did not accept connections in time: " +
                             LogTail(log));
}

Status PgServer::Stop() {
  if (pid_ < 0) return Status::OK();
  kill(pid_, SIGQUIT);  // immediate shutdown: children exit, no checkpoint
  Status s;
  if (!WaitExit(pid_, kShutdownTimeout)) {
    KillAndReap(pid_);
    s = Status::Unavailable("PgServer: postgres ignored SIGQUIT; killed it");
  }
  pid_ = -1;
  return s;
}

Status PgServer::Restart() {
  if (Status s = Stop(); !s.ok()) return s;
  return Launch();
}

}  // namespace tempo::testing
