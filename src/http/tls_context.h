// TlsContext: a listener's OpenSSL server context, loaded from its TlsFiles
// and replaced on Reload while the listener serves.
//
// Every connection takes the current context when it is accepted and keeps
// it for its life, so a reload changes what new connections are offered
// (certificate, key, client CA) and never touches open ones. Only TLS 1.2
// and 1.3 are offered; with a client CA the handshake fails unless the
// client presents a certificate that CA signed.
#pragma once

#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>

#include "common/mutex.h"
#include "common/status.h"
#include "http/tls_options.h"

namespace tempo::http {

class TlsContext final {
 public:
  using SslContext = boost::asio::ssl::context;

  // Reads the files. InvalidArgument (naming the file and OpenSSL's reason)
  // when one is missing, unreadable or not PEM, when the key does not match
  // the certificate, or when a client CA is given without a certificate.
  static Result<std::unique_ptr<TlsContext>> Load(const TlsFiles& files);

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Re-reads the same files. On success new connections get the new context;
  // on failure the current one stays and the error (as Load's) is returned.
  // Thread-safe.
  Status Reload();

  // The context for a connection accepted now. Thread-safe; takes a lock, so
  // callers on a hot path keep a copy and refresh it when generation() moves.
  std::shared_ptr<SslContext> Current() const;

  // Goes up by one with every successful Reload. Lock-free.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  const TlsFiles& files() const { return files_; }

 private:
  explicit TlsContext(const TlsFiles& files) : files_(files) {}

  const TlsFiles files_;
  mutable Mutex mu_;
  std::shared_ptr<SslContext> current_ GUARDED_BY(mu_);
  std::atomic<uint64_t> generation_{0};
};

// Builds a server context from `files` (see TlsContext::Load).
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerSslContext(const TlsFiles& files);

}  // namespace tempo::http
