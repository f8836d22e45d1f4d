// OpenStore: --store argument → Origin.
#include "serve/store_uri.h"

#include <string_view>
#include <vector>

#include "origin/pg_origin.h"
#include "origin/rocks_origin.h"

namespace tempo::serve {
namespace {

bool IsPostgres(const std::string& uri) {
  return uri.starts_with("postgres://") || uri.starts_with("postgresql://");
}

// The directory of a RocksDB store URI.
Result<std::string> RocksPath(const std::string& uri) {
  constexpr std::string_view kRocks = "rocksdb://";
  std::string path = uri;
  if (uri.starts_with(kRocks)) {
    path = uri.substr(kRocks.size());
  } else if (uri.find("://") != std::string::npos) {
    return Status::InvalidArgument(
        "unsupported store URI (use a directory, rocksdb:///path or postgres://...): " +
        uri.substr(0, uri.find("://") + 3) + "...");
  }
  if (path.empty()) return Status::InvalidArgument("empty store path");
  return path;
}

constexpr std::string_view kHidden = "***";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `s` with %XX sequences decoded (malformed ones kept as they are).
std::string PercentDecoded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// RedactStoreUri; each secret removed, as written and decoded, goes to *secrets.
std::string Redact(const std::string& uri, std::vector<std::string>* secrets) {
  if (!IsPostgres(uri)) return uri;
  auto keep = [secrets](std::string_view secret) {
    if (secret.empty()) return;
    secrets->emplace_back(secret);
    secrets->push_back(PercentDecoded(secret));
  };
  const size_t authority = uri.find("://") + 3;
  size_t authority_end = uri.find_first_of("/?", authority);
  if (authority_end == std::string::npos) authority_end = uri.size();
  std::string out;
  const size_t at = uri.rfind('@', authority_end);
  const size_t colon = uri.find(':', authority);
  if (at != std::string::npos && at >= authority && colon < at) {
    keep(std::string_view(uri).substr(colon + 1, at - colon - 1));
    out = uri.substr(0, colon + 1) + std::string(kHidden);
    out += uri.substr(at, authority_end - at);
  } else {
    out = uri.substr(0, authority_end);
  }
  const size_t query = uri.find('?', authority_end);
  out += uri.substr(authority_end,
                    (query == std::string::npos ? uri.size() : query + 1) - authority_end);
  if (query == std::string::npos) return out;
  std::string_view rest = std::string_view(uri).substr(query + 1);
  for (bool first = true; !rest.empty() || first; first = false) {
    const size_t amp = rest.find('&');
    const std::string_view param = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (!first) out += '&';
    const size_t eq = param.find('=');
    const std::string key = PercentDecoded(param.substr(0, eq));
    if (eq != std::string_view::npos && (key == "password" || key == "sslpassword")) {
      keep(param.substr(eq + 1));
      out.append(param.substr(0, eq + 1)).append(kHidden);
    } else {
      out.append(param);
    }
    if (amp == std::string_view::npos) break;
  }
  return out;
}

// `status` with every secret of `uri` in its message replaced by "***".
Status Redacted(const Status& status, const std::string& uri) {
  std::vector<std::string> secrets;
  Redact(uri, &secrets);
  std::string message = status.message();
  for (const std::string& secret : secrets) {
    for (size_t at = message.find(secret); at != std::string::npos;
         at = message.find(secret, at + kHidden.size())) {
      message.replace(at, secret.size(), kHidden);
    }
  }
  return status.WithMessage(std::move(message));
}

// The PostgreSQL origin at `uri`, with no secret of the URI in its errors.
Result<std::unique_ptr<origin::Origin>> OpenPostgres(const std::string& uri,
                                                     const origin::PostgresOptions& options) {
  auto opened = origin::OpenPostgresOrigin(uri, options);
  if (!opened.ok()) return Redacted(opened.status(), uri);
  return opened;
}

}  // namespace

std::string RedactStoreUri(const std::string& uri) {
  std::vector<std::string> ignored;
  return Redact(uri, &ignored);
}

Result<std::unique_ptr<origin::Origin>> OpenStore(const std::string& uri) {
  if (IsPostgres(uri)) return OpenPostgres(uri, origin::PostgresOptions());
  auto path = RocksPath(uri);
  if (!path.ok()) return path.status();
  return origin::OpenRocksOrigin(*path);
}

Result<std::unique_ptr<origin::Origin>> OpenStoreReadOnly(const std::string& uri) {
  if (IsPostgres(uri)) {
    origin::PostgresOptions pg;
    pg.create_schema = false;  // a reader does not own the schema
    return OpenPostgres(uri, pg);
  }
  auto path = RocksPath(uri);
  if (!path.ok()) return path.status();
  return origin::OpenRocksReadOnly(*path);
}

Result<std::unique_ptr<origin::Origin>> OpenStoreForReading(const std::string& uri,
                                                            const std::string& scratch_dir,
                                                            const ReadingOptions& options) {
  if (IsPostgres(uri)) {  // every reader sees the latest: nothing to catch up
    origin::PostgresOptions pg;
    pg.pool_size = options.connections;
    pg.statement_timeout_ms = static_cast<int>(options.statement_timeout.count());
    pg.create_schema = false;  // a reader does not own the schema
    pg.connect_all = true;
    return OpenPostgres(uri, pg);
  }
  auto path = RocksPath(uri);
  if (!path.ok()) return path.status();
  return origin::OpenRocksSecondary(*path, scratch_dir);
}

}  // namespace tempo::serve
