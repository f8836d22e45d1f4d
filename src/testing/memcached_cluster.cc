// MemcachedCluster: fork/exec of memcached processes on loopback ports.
#include "testing/memcached_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "testing/ports.h"

namespace tempo::testing {
namespace {

constexpr const char* kMemcachedBinary = "/usr/bin/memcached";
// Attempts at picking a free port: another process may take the port between
// our probe and memcached's bind, and then memcached exits at once.
constexpr int kPortAttempts = 5;
constexpr auto kStartupTimeout = std::chrono::seconds(5);
constexpr auto kStartupPoll = std::chrono::milliseconds(5);

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

void KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<std::unique_ptr<MemcachedCluster>> MemcachedCluster::Start(int nodes) {
  if (nodes < 1 || nodes > kMaxNodes) {
    return Status::InvalidArgument("MemcachedCluster: nodes must be 1.." +
                                   std::to_string(kMaxNodes));
  }
  if (access(kMemcachedBinary, X_OK) != 0) {
    return Status::Unavailable(std::string(kMemcachedBinary) + " is not installed");
  }
  std::unique_ptr<MemcachedCluster> cluster(new MemcachedCluster());
  cluster->nodes_.resize(nodes);
  for (int i = 0; i < nodes; ++i) {
    Status last;
    for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
      Result<int> port = PickFreePort();
      if (!port.ok()) return port.status();
      cluster->nodes_[i].port = *port;
      last = cluster->Launch(i);
      if (last.ok()) break;
    }
    if (!last.ok()) return last;  // the destructor stops the nodes already up
  }
  return cluster;
}

Status MemcachedCluster::Launch(int i) {
  Node& node = nodes_[i];
  const std::string port = std::to_string(node.port);
  // Built before fork: the child of a threaded process may only make
  // async-signal-safe calls until exec.
  std::vector<const char*> argv = {
      kMemcachedBinary, "-l", "127.0.0.1", "-p", port.c_str(), "-U", "0", "-m", "64", "-t", "2"};
  if (geteuid() == 0) {  // memcached refuses to run as root unless told which user to be
    argv.push_back("-u");
    argv.push_back("root");
  }
  argv.push_back(nullptr);
  const pid_t parent = getpid();

  pid_t pid = fork();
  if (pid < 0) return Status::IOError(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, STDIN_FILENO);
      dup2(devnull, STDOUT_FILENO);
    }
    // Sockets the test holds (client connections to other nodes) must not
    // stay open in the server.
    close_range(3, ~0U, 0);
    execv(kMemcachedBinary, const_cast<char* const*>(argv.data()));
    _exit(127);
  }
  node.pid = pid;

  const auto deadline = std::chrono::steady_clock::now() + kStartupTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int wstatus = 0;
    if (waitpid(pid, &wstatus, WNOHANG) == pid) {
      node.pid = -1;
      return Status::Unavailable("memcached on port " + port + " exited during startup");
    }
    if (Accepts(node.port)) return Status::OK();
    std::this_thread::sleep_for(kStartupPoll);
  }
  KillAndReap(pid);
  node.pid = -1;
  return Status::Unavailable("memcached on port " + port + " did not accept connections in time");
}

MemcachedCluster::~MemcachedCluster() {
  for (int i = 0; i < size(); ++i) Kill(i);
}

std::vector<std::string> MemcachedCluster::servers() const {
  std::vector<std::string> out;
  for (const Node& node : nodes_) out.push_back("127.0.0.1:" + std::to_string(node.port));
  return out;
}

void MemcachedCluster::Kill(int i) {
  if (nodes_[i].pid < 0) return;
  KillAndReap(nodes_[i].pid);
  nodes_[i].pid = -1;
}

void MemcachedCluster::Pause(int i) {
  if (nodes_[i].pid < 0 || kill(nodes_[i].pid, SIGSTOP) != 0) return;
  // SIGSTOP takes effect asynchronously: wait (bounded) until every thread of
  // the node has stopped, so that no request is answered after Pause returns.
  for (auto deadline = std::chrono::steady_clock::now() + kStartupTimeout;
       std::chrono::steady_clock::now() < deadline;) {
    int status = 0;
    if (waitpid(nodes_[i].pid, &status, WUNTRACED | WNOHANG) == nodes_[i].pid &&
        WIFSTOPPED(status)) {
      return;
    }
    std::this_thread::sleep_for(kStartupPoll);
  }
}

void MemcachedCluster::Resume(int i) {
  if (nodes_[i].pid >= 0) kill(nodes_[i].pid, SIGCONT);
}

Status MemcachedCluster::Restart(int i) {
  Kill(i);
  return Launch(i);
}

}  // namespace tempo::testing
