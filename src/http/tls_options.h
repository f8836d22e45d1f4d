// TLS settings of a listener (SPEC §10: the admin listener, optionally with
// mutual TLS; the public one too).
#pragma once

#include <string>

namespace tempo::http {

// Files in PEM. Without a certificate the listener speaks plain HTTP.
struct TlsFiles {
  std::string cert_file;       // the server's certificate chain
  std::string key_file;        // its private key
  std::string client_ca_file;  // with it, clients must present a certificate this CA signed

  bool enabled() const { return !cert_file.empty(); }
};

}  // namespace tempo::http
