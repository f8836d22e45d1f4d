// TlsContext: loading a server's certificate, key and client CA into an
// OpenSSL context, and swapping it on reload.
#include "http/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

namespace tempo::http {
namespace {

namespace ssl = boost::asio::ssl;

// The session id context for TLS 1.2 resumption: with client certificates
// OpenSSL refuses to resume a session without one.
constexpr unsigned char kSessionIdContext[] = "tempo";

// OpenSSL's reason for the failure (its first error: the cause; the later
// ones only say which layer passed it on), and clears its error queue (which
// is per thread: a later, unrelated call must not find this one there).
std::string TakeSslError(const char* what) {
  const unsigned long code = ERR_peek_error();
  std::string reason;
  if (code == 0) {
    reason = "unknown error";
  } else if (ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
    reason = std::string("no PEM ") + what + " in it (no BEGIN line)";
  } else if (ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH) {
    reason = "does not match the certificate";
  } else {
    const char* text = ERR_reason_error_string(code);
    reason = text != nullptr ? text : "OpenSSL error " + std::to_string(code);
  }
  ERR_clear_error();
  return reason;
}

// A clear message for a file that cannot be opened at all (OpenSSL's own
// would say "system lib").
Status CheckReadable(const char* what, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Status::InvalidArgument(std::string("TLS ") + what + " " + path + ": " +
                                   std::strerror(errno));
  }
  std::fclose(f);
  return Status::OK();
}

Status Failed(const char* what, const std::string& path) {
  return Status::InvalidArgument(std::string("TLS ") + what + " " + path + ": " +
                                 TakeSslError(what));
}

// An encrypted key must not make OpenSSL prompt on the terminal: no password.
int NoPassword(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

}  // namespace

Result<std::shared_ptr<ssl::context>> MakeServerSslContext(const TlsFiles& files) {
  if (files.cert_file.empty()) {
    return Status::InvalidArgument(files.client_ca_file.empty() && files.key_file.empty()
                                       ? "TLS needs a certificate"
                                       : "TLS needs a certificate (the key or client CA was "
                                         "given without one)");
  }
  if (files.key_file.empty()) {
    return Status::InvalidArgument("TLS certificate " + files.cert_file + " needs its key");
  }
  std::shared_ptr<ssl::context> context;
  try {
    context = std::make_shared<ssl::context>(ssl::context::tls_server);
  } catch (const std::exception& e) {
    ERR_clear_error();
    return Status::Internal(std::string("cannot create a TLS context: ") + e.what());
  }
  SSL_CTX* const handle = context->native_handle();
  // TLS 1.2 and 1.3 only; no compression (CRIME), no renegotiation.
  SSL_CTX_set_min_proto_version(handle, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(handle, TLS1_3_VERSION);
  SSL_CTX_set_options(
      handle, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_default_passwd_cb(handle, NoPassword);

  if (Status s = CheckReadable("certificate", files.cert_file); !s.ok()) return s;
  if (SSL_CTX_use_certificate_chain_file(handle, files.cert_file.c_str()) != 1) {
    return Failed("certificate", files.cert_file);
  }
  if (Status s = CheckReadable("key", files.key_file); !s.ok()) return s;
  if (SSL_CTX_use_PrivateKey_file(handle, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Failed("key", files.key_file);
  }
  if (SSL_CTX_check_private_key(handle) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("TLS key " + files.key_file +
                                   " does not match the certificate " + files.cert_file);
  }
  if (!files.client_ca_file.empty()) {
    if (Status s = CheckReadable("client CA", files.client_ca_file); !s.ok()) return s;
    if (SSL_CTX_load_verify_locations(handle, files.client_ca_file.c_str(), nullptr) != 1) {
      return Failed("client CA", files.client_ca_file);
    }
    // The names the server asks for, so a client with several certificates
    // picks the right one.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca_file.c_str());
    if (names == nullptr) return Failed("client CA", files.client_ca_file);
    SSL_CTX_set_client_CA_list(handle, names);  // takes ownership
    SSL_CTX_set_verify(handle, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  SSL_CTX_set_session_id_context(handle, kSessionIdContext, sizeof kSessionIdContext - 1);
  ERR_clear_error();
  return context;
}

Result<std::unique_ptr<TlsContext>> TlsContext::Load(const TlsFiles& files) {
  auto context = MakeServerSslContext(files);
  if (!context.ok()) return context.status();
  std::unique_ptr<TlsContext> tls(new TlsContext(files));
  {
    MutexLock lock(&tls->mu_);
    tls->current_ = std::move(context).value();
  }
  return tls;
}

Status TlsContext::Reload() {
  auto context = MakeServerSslContext(files_);
  if (!context.ok()) return context.status();
  {
    MutexLock lock(&mu_);
    current_ = std::move(context).value();
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return Status::OK();
}

std::shared_ptr<ssl::context> TlsContext::Current() const {
  MutexLock lock(&mu_);
  return current_;
}

}  // namespace tempo::http
