// tempo_http_example: answers every request with the same 1 KB JSON body, so
// the HTTP layer can be load-tested and profiled without the rest of Tempo.
//
// usage: tempo_http_example [PORT] [THREADS]   (defaults: 8080, 1)
// Stops on SIGINT or SIGTERM.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "http/server.h"

namespace {

constexpr size_t kBodyBytes = 1024;
constexpr int kDefaultPort = 8080;

std::string MakeBody() {
  std::string body = "{\"data\":\"";
  body.append(kBodyBytes - body.size() - 2, 'x');
  body.append("\"}");
  return body;
}

}  // namespace

int main(int argc, char** argv) {
  tempo::http::ServerOptions options;
  options.port = static_cast<uint16_t>(argc > 1 ? std::atoi(argv[1]) : kDefaultPort);
  options.threads = argc > 2 ? std::atoi(argv[2]) : 1;

  // Block the stop signals before any thread starts so that only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const std::string body = MakeBody();
  auto server = tempo::http::Server::Start(
      options, [&body](const tempo::http::Request&, tempo::http::Response* response) {
        response->headers.emplace_back("Content-Type", "application/json");
        response->body = body;
      });
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("listening on %s:%u\n", options.host.c_str(), (*server)->port());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  (*server)->Stop();
  return 0;
}
