// HungServer: a TCP server on loopback that never answers.
//
// Start() binds 127.0.0.1 on a port the kernel picks. By default it accepts
// every connection on a thread of its own and then never reads from or writes
// to it, like a hung process whose kernel still completes handshakes: a
// client's request sits unread and its wait for an answer runs out. With
// kNeverAccept it instead fills its accept queue itself and never accepts,
// so that the kernel drops new connection attempts and a client's connect
// runs out, like a host that vanished from the network. The destructor closes
// the listener and every connection.
//
// accepted() is safe to call from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace tempo::testing {

class HungServer {
 public:
  enum class Mode {
    kAcceptAndIgnore,  // connects succeed; nothing is ever answered
    kNeverAccept,      // connects time out
  };

  // Listens on 127.0.0.1 and a free port. IOError when a socket call fails.
  static Result<std::unique_ptr<HungServer>> Start(Mode mode = Mode::kAcceptAndIgnore);

  HungServer(const HungServer&) = delete;
  HungServer& operator=(const HungServer&) = delete;
  ~HungServer();

  int port() const { return port_; }
  // "127.0.0.1:<port>".
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Connections accepted so far.
  int accepted() const { return accepted_.load(std::memory_order_relaxed); }

 private:
  HungServer(int listen_fd, int wake_fd, int port);
  void AcceptLoop();

  const int listen_fd_;
  const int wake_fd_;  // eventfd: written by the destructor to stop AcceptLoop
  const int port_;
  std::atomic<int> accepted_{0};
  // Accepted connections (owned by the accept thread until it is joined), or
  // the client ends of the connections that fill the accept queue.
  std::vector<int> connections_;
  std::thread thread_;  // not started with kNeverAccept
};

}  // namespace tempo::testing
