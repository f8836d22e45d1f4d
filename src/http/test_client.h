// A plain TCP client for the HTTP server's tests: sends raw bytes and reads
// responses (or whatever comes back) with a 5 s receive timeout.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tempo::http::test {

class Client {
 public:
  struct Reply {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    bool Has(const std::string& name) const { return headers.count(name) > 0; }
    std::string Header(const std::string& name) const {
      auto it = headers.find(name);
      return it == headers.end() ? "" : it->second;
    }
  };

  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() {
    if (fd_ >= 0) close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  // Closes with a reset (SO_LINGER 0) instead of a FIN.
  void Reset() {
    linger hard{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    close(fd_);
    fd_ = -1;
  }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response. `no_body`: the response has no content whatever its
  // Content-Length says (an answer to HEAD).
  std::optional<Reply> Read(bool no_body = false) {
    size_t end;
    while ((end = buffered_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    Reply reply;
    const std::string head = buffered_.substr(0, end + 2);
    buffered_.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.1 ", 0) != 0) return std::nullopt;
    reply.status = std::stoi(status_line.substr(9, 3));
    for (size_t pos = line_end + 2; pos < head.size();) {
      const size_t next = head.find("\r\n", pos);
      const std::string line = head.substr(pos, next - pos);
      const size_t colon = line.find(": ");
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(tolower(c));
      reply.headers[name] = line.substr(colon + 2);
      pos = next + 2;
    }
    if (no_body || reply.status == 304 || reply.status == 204) return reply;
    if (!reply.Has("content-length")) return std::nullopt;
    const size_t length = std::stoul(reply.Header("content-length"));
    while (buffered_.size() < length) {
      if (!Fill()) return std::nullopt;
    }
    reply.body = buffered_.substr(0, length);
    buffered_.erase(0, length);
    return reply;
  }

  // True when the server has closed the connection (after any bytes that
  // were still to be read, which must be none).
  bool ClosedByServer() {
    char c;
    const ssize_t n = recv(fd_, &c, 1, 0);
    return buffered_.empty() && (n == 0 || (n < 0 && errno == ECONNRESET));
  }

  // Reads until the server closes: true when it did (within the receive
  // timeout), with everything it sent (and what Read left) in *received.
  bool ReadUntilClosed(std::string* received) {
    received->append(buffered_);
    buffered_.clear();
    for (int i = 0; i < 1000; ++i) {
      char chunk[4096];
      const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      if (n < 0) return false;  // timed out
      received->append(chunk, static_cast<size_t>(n));
    }
    return false;
  }

  // Bytes received and not yet consumed by Read.
  const std::string& buffered() const { return buffered_; }

 private:
  bool Fill() {
    char chunk[16384];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffered_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  bool connected_ = false;
  std::string buffered_;
};

}  // namespace tempo::http::test
