// HungServer: accept(2) on a thread, never a read or a write.
#include "testing/hung_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "testing/ports.h"

namespace tempo::testing {
namespace {

// Enough for every connection a client pool opens at once.
constexpr int kListenBacklog = 128;
// With a backlog of 0 Linux queues one connection; a few more connects make
// sure the queue is full, whatever the kernel's rounding.
constexpr int kQueueFillers = 3;

Status SocketError(const char* what) {
  return Status::IOError(std::string("HungServer: ") + what + ": " + strerror(errno));
}

}  // namespace

Result<std::unique_ptr<HungServer>> HungServer::Start(Mode mode) {
  Result<LoopbackListener> listener =
      ListenOnLoopback(mode == Mode::kNeverAccept ? 0 : kListenBacklog, "HungServer");
  if (!listener.ok()) return listener.status();
  const int fd = listener->fd;
  const int wake = eventfd(0, EFD_CLOEXEC);
  if (wake < 0) {
    Status s = SocketError("eventfd");
    close(fd);
    return s;
  }
  std::unique_ptr<HungServer> server(new HungServer(fd, wake, listener->port));
  if (mode == Mode::kAcceptAndIgnore) {
    server->thread_ = std::thread([s = server.get()] { s->AcceptLoop(); });
    return server;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(listener->port));
  for (int i = 0; i < kQueueFillers; ++i) {
    const int filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (filler < 0) return SocketError("socket");
    server->connections_.push_back(filler);
    // Completes at once while the queue has room, stays pending once it is full.
    if (connect(filler, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 &&
        errno != EINPROGRESS) {
      return SocketError("connect to fill the accept queue");
    }
  }
  return server;
}

HungServer::HungServer(int listen_fd, int wake_fd, int port)
    : listen_fd_(listen_fd), wake_fd_(wake_fd), port_(port) {}

HungServer::~HungServer() {
  const uint64_t one = 1;
  while (write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : connections_) close(fd);
  close(listen_fd_);
  close(wake_fd_);
}

void HungServer::AcceptLoop() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      // A client that gave up, or a signal: keep listening. Anything else
      // (out of descriptors) would repeat at once: stop accepting.
      if (errno == ECONNABORTED || errno == EINTR || errno == EAGAIN) continue;
      return;
    }
    connections_.push_back(fd);
    accepted_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace tempo::testing
