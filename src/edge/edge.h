// The edge (SPEC §2, §9): an nginx configuration that exposes only GET and
// HEAD of /api/v1/tempo/layouts and /api/v2/tempo/layouts, routes each
// request to its tenant group's `tempo serve` instances by the `tenant`
// parameter, and answers everything else itself, with the API's JSON error
// bodies, so that no other path or method ever reaches an instance.
//
// Generation is a pure function of the tenant groups and the options: it
// reads no file, and the same input always gives the same text (`tempo
// edge-config` prints it). The text says in its comments what it does and
// why; the decisions that matter:
//  - Paths are matched on the raw request target ($request_uri), not on
//    nginx's normalised $uri, so an encoded, dotted, doubled-slash,
//    trailing-slash or upper-case spelling of an API path is 404 at the
//    edge (as the API itself would answer) and a passed request reaches the
//    instance byte for byte as the client sent it.
//  - The tenant is read from the raw query, name and value in any
//    percent-encoding (tenant=WM%5FGLASS is WM_GLASS), compared
//    case-sensitively, as the API reads it (SPEC §11.1).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/tenant_groups.h"

namespace tempo::edge {

// One group's instances: the value of `--upstream TG1=10.0.0.1:8080,10.0.0.2:8080`.
struct Upstream {
  std::string group;
  std::vector<std::string> servers;  // "HOST:PORT": a DNS name, an IPv4 or an [IPv6] address
};

// Parses the value of `--upstream`: GROUP=HOST:PORT[,HOST:PORT...], the
// group a name of [A-Za-z0-9_.-], each port 1..65535, no server twice.
// InvalidArgument quoting the value and saying what is wrong.
Result<Upstream> ParseUpstream(std::string_view value);

// Everything the configuration depends on besides the groups. File paths
// are written as given (nginx reads relative ones from its prefix), and
// must not hold '"', '\', '$' or control characters.
struct EdgeOptions {
  // Where each group's instances listen: exactly one entry per group of the
  // file, each naming a group of the file.
  std::vector<Upstream> upstreams;
  // The listener: ADDR:PORT (ADDR a name, IPv4, [IPv6] or *) or a port.
  // Default (empty): 0.0.0.0:80, or 0.0.0.0:443 with TLS.
  std::string listen;
  // nginx server_name; empty: none (the server answers any Host).
  std::string server_name;
  // TLS on the listener (TLS 1.2 and 1.3): PEM certificate chain and key,
  // both or neither.
  std::string tls_cert;
  std::string tls_key;
  // TLS to the instances, each verified against this PEM CA bundle; setting
  // it turns upstream TLS on. Default (empty): plain HTTP to the instances.
  std::string upstream_ca;
  // The edge's client certificate and key for the instances (mutual TLS):
  // both or neither, and only with upstream_ca.
  std::string upstream_tls_cert;
  std::string upstream_tls_key;
  // The name the instances' certificates must carry, also sent as SNI.
  // Default (empty): the host of each group's first server.
  std::string upstream_tls_name;
  // Idle keep-alive connections each nginx worker keeps open to each group.
  // Default: 32.
  int upstream_keepalive = 32;
  // Only the http-level blocks (maps, upstreams, the server), to include in
  // the `http {}` block of an existing nginx.conf; else a complete
  // nginx.conf. Default: false.
  bool snippet = false;
};

// The nginx configuration for `groups` and `options`. InvalidArgument
// naming the flag when they do not fit together: a group without an
// upstream, an upstream for no group (or one group twice), a TLS file
// without its pair, a client certificate without upstream_ca, a path nginx
// cannot take literally, or a malformed listen address, server name or
// keep-alive count.
Result<std::string> GenerateNginxConfig(const config::TenantGroups& groups,
                                        const EdgeOptions& options);

// A regular expression (PCRE, as nginx uses) without anchors that matches
// exactly the raw spellings of `literal` in a query string: each byte as
// itself or as %XX, either case of hex digit. "A_" gives "(?:A|%41)(?:_|%5[Ff])".
// REQUIRES: `literal` holds only [A-Za-z0-9_.-] (IsValidGroupName).
std::string RawSpellingsRegex(std::string_view literal);

}  // namespace tempo::edge
