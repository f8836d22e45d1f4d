// StallServer: poll(2) over the listener and the connections on one thread.
#include "testing/stall_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

#include "testing/ports.h"

namespace tempo::testing {
namespace {

constexpr int kListenBacklog = 1024;
constexpr size_t kReadBytes = 16 * 1024;
// A connection that sends more than this without finishing a request head is closed.
constexpr size_t kMaxRequestHeadBytes = 64 * 1024;
constexpr std::string_view kBody = "ok\n";

Status SocketError(const char* what) {
  return Status::IOError(std::string("StallServer: ") + what + ": " + strerror(errno));
}

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<StallServer>> StallServer::Start(StallServerOptions options) {
  Result<LoopbackListener> listener = ListenOnLoopback(kListenBacklog, "StallServer");
  if (!listener.ok()) return listener.status();
  const int fd = listener->fd;
  const int wake = eventfd(0, EFD_CLOEXEC);
  if (wake < 0) {
    Status s = SocketError("eventfd");
    close(fd);
    return s;
  }
  std::unique_ptr<StallServer> server(new StallServer(options, fd, wake, listener->port));
  server->thread_ = std::thread([s = server.get()] { s->Loop(); });
  return server;
}

StallServer::StallServer(StallServerOptions options, int listen_fd, int wake_fd, int port)
    : options_(options), listen_fd_(listen_fd), wake_fd_(wake_fd), port_(port) {}

StallServer::~StallServer() {
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) {
    // Only fails if the counter overflows; the thread still stops at its next wake-up.
  }
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  close(wake_fd_);
}

void StallServer::Loop() {
  std::vector<pollfd> fds = {{wake_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
  std::vector<std::string> buffers = {{}, {}};  // one per entry of fds
  char chunk[kReadBytes];
  for (;;) {
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) break;
    if (fds[1].revents & POLLIN) {
      const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        const int one = 1;
        setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fds.push_back({client, POLLIN, 0});
        buffers.emplace_back();
      }
    }
    for (size_t i = 2; i < fds.size();) {
      bool keep = true;
      if (fds[i].revents != 0) {
        const ssize_t n = recv(fds[i].fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
          keep = false;
        } else {
          buffers[i].append(chunk, static_cast<size_t>(n));
          keep = AnswerRequests(fds[i].fd, &buffers[i]);
        }
      }
      if (keep) {
        ++i;
        continue;
      }
      close(fds[i].fd);
      fds[i] = fds.back();
      fds.pop_back();
      buffers[i] = std::move(buffers.back());
      buffers.pop_back();
    }
  }
  for (size_t i = 2; i < fds.size(); ++i) close(fds[i].fd);
}

bool StallServer::AnswerRequests(int fd, std::string* buffer) {
  for (;;) {
    const size_t head_end = buffer->find("\r\n\r\n");
    if (head_end == std::string::npos) return buffer->size() <= kMaxRequestHeadBytes;
    // "GET /path HTTP/1.1": the target is between the first two spaces.
    const size_t first_space = buffer->find(' ');
    const size_t second_space = buffer->find(' ', first_space + 1);
    const std::string target = first_space < head_end && second_space < head_end
                                   ? buffer->substr(first_space + 1, second_space - first_space - 1)
                                   : std::string();
    buffer->erase(0, head_end + 4);

    const auto now = std::chrono::steady_clock::now();
    if (options_.stall.count() > 0 && (!stalled_once_ || now - last_stall_ >= options_.period)) {
      stalled_once_ = true;
      last_stall_ = now;
      stalls_.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(options_.stall);
    }
    int status = 200;
    if (target.starts_with("/status/")) status = std::atoi(target.c_str() + 8);
    if (status < 100 || status > 599) status = 500;
    const bool close_after = target == "/close";
    std::string answer = "HTTP/1.1 " + std::to_string(status) +
                         " X\r\nContent-Length: " + std::to_string(kBody.size()) + "\r\n" +
                         (close_after ? "Connection: close\r\n" : "") + "\r\n";
    answer += kBody;
    if (!SendAll(fd, answer)) return false;
    answered_.fetch_add(1, std::memory_order_relaxed);
    if (close_after) return false;
  }
}

}  // namespace tempo::testing
