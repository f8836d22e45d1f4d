// Server: resolves the listen address, starts one Worker per thread, stops them.
#include "http/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "common/cpus.h"
#include "common/logging.h"
#include "common/mutex.h"
#include "http/tls_context.h"
#include "http/worker.h"

namespace tempo::http {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

class ServerImpl;

// The server whose worker runs on this thread, if any: Stop() called from a
// handler must not wait for its own thread to finish.
thread_local const ServerImpl* tls_serving_server = nullptr;

Result<tcp::endpoint> ResolveListenAddress(const ServerOptions& options) {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(options.host, ec);
  if (!ec) return tcp::endpoint(address, options.port);
  // Not a literal address: a name such as "localhost".
  asio::io_context io;
  tcp::resolver resolver(io);
  const auto results =
      resolver.resolve(options.host, std::to_string(options.port),
                       tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Status::InvalidArgument("cannot resolve listen host '" + options.host +
                                   "': " + (ec ? ec.message() : "no address"));
  }
  return results.begin()->endpoint();
}

// SO_REUSEPORT would let a second server (of the same user) share a port that
// is already in use and silently take half its connections. A socket bound
// without it fails on a port someone listens on, so probe with one first.
Status CheckPortFree(const tcp::endpoint& endpoint) {
  asio::io_context io;
  tcp::acceptor probe(io);
  boost::system::error_code ec;
  probe.open(endpoint.protocol(), ec);
  if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) probe.bind(endpoint, ec);
  if (ec) {
    return Status::IOError("cannot bind " + endpoint.address().to_string() + ":" +
                           std::to_string(endpoint.port()) + ": " + ec.message());
  }
  return Status::OK();
}

class ServerImpl final : public Server {
 public:
  ServerImpl(const ServerOptions& options, Handler handler)
      : options_(options), handler_(std::move(handler)) {}

  // REQUIRES: not called from one of this server's handlers.
  ~ServerImpl() override { Stop(); }

  // Loads the TLS files, creates the workers and binds every acceptor to
  // the same address.
  Status Listen() {
    if (options_.tls.enabled() || !options_.tls.key_file.empty() ||
        !options_.tls.client_ca_file.empty()) {
      auto tls = TlsContext::Load(options_.tls);
      if (!tls.ok()) return tls.status();
      tls_ = std::move(tls).value();
    }
    Result<tcp::endpoint> endpoint = ResolveListenAddress(options_);
    if (!endpoint.ok()) return endpoint.status();
    if (endpoint->port() != 0) {
      Status free = CheckPortFree(*endpoint);
      if (!free.ok()) return free;
    }
    int threads = options_.threads;
    if (threads <= 0) threads = AvailableCpus();  // the cgroup quota and affinity included
    for (int i = 0; i < threads; ++i) {
      workers_.push_back(std::make_unique<Worker>(options_, handler_, &counters_, tls_.get()));
      // With port 0 the first bind picks the port and the others share it.
      Status s = workers_.back()->Listen(*endpoint);
      if (!s.ok()) return s;
      if (i == 0) endpoint->port(workers_.back()->port());
    }
    port_ = endpoint->port();
    return Status::OK();
  }

  // Starts one thread per worker.
  Status Launch() {
    for (auto& worker : workers_) {
      Worker* w = worker.get();
      try {
        threads_.emplace_back([this, w] {
          tls_serving_server = this;
          w->Run();
        });
      } catch (const std::exception& e) {
        Stop();
        return Status::Unavailable(std::string("cannot start a server thread: ") + e.what());
      }
    }
    return Status::OK();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    {
      MutexLock lock(&stop_mu_);
      if (!stop_requested_) {
        stop_requested_ = true;
        for (auto& worker : workers_) worker->RequestStop();
      }
    }
    // A handler stopping its own server cannot wait for its own thread.
    if (tls_serving_server == this) return;
    Wait();
  }

  ServerStats Stats() const override { return counters_.Snapshot(); }

  Status ReloadTls() override {
    if (tls_ == nullptr) return Status::OK();
    Status s = tls_->Reload();
    const std::string where = options_.host + ":" + std::to_string(port_);
    if (s.ok()) {
      LogLine("http", "TLS certificate, key and client CA re-read for new connections on " + where +
                          " (" + options_.tls.cert_file + ")");
    } else {
      Log(LogLevel::kError, "http",
          "TLS reload failed on " + where +
              ", new connections keep the previous certificate: " + s.message());
    }
    return s;
  }

  void Wait() override {
    MutexLock lock(&join_mu_);
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  const ServerOptions options_;
  const Handler handler_;
  ServerCounters counters_;
  std::unique_ptr<TlsContext> tls_;  // null: plain HTTP
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  Mutex stop_mu_;
  bool stop_requested_ GUARDED_BY(stop_mu_) = false;
  Mutex join_mu_;  // one joiner at a time; later callers wait for it
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, Handler handler) {
  if (!handler) return Status::InvalidArgument("http::Server needs a handler");
  if (options.idle_timeout_ms <= 0) {
    return Status::InvalidArgument("idle_timeout_ms must be positive");
  }
  if (options.header_timeout_ms <= 0) {
    return Status::InvalidArgument("header_timeout_ms must be positive");
  }
  if (options.max_connections < 0) {
    return Status::InvalidArgument("max_connections must not be negative");
  }
  auto server = std::make_unique<ServerImpl>(options, std::move(handler));
  Status s = server->Listen();
  if (!s.ok()) return s;
  s = server->Launch();
  if (!s.ok()) return s;
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace tempo::http
