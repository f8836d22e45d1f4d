// What `tempo bench` sends: the URL it is given, or the lines of a request log (the format
// `tempo gen --requests-out` writes, gen/requests.h), as ready-made GET requests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tempo::loadgen {

// A parsed http:// URL.
struct HttpUrl {
  std::string host;  // a name or an address (an IPv6 one without brackets)
  uint16_t port = 80;
  std::string target;  // origin form: "/path?query", "/" when the URL has no path
};

// Parses "http://HOST[:PORT][/path[?query]]" (an IPv6 host in brackets; port 80 when none).
// InvalidArgument saying what is wrong for anything else: another scheme (https is not
// supported), user information, a fragment, a space or control character, a bad host or port.
Result<HttpUrl> ParseHttpUrl(std::string_view url);

// The most lines and bytes a request log may have: it is held in memory.
inline constexpr uint64_t kMaxRequestLogLines = 10'000'000;
inline constexpr uint64_t kMaxRequestLogBytes = 1ull << 30;

// The request targets of a request log: one "/path?query" a line; empty lines are skipped.
// IOError when the file cannot be read; InvalidArgument (with the line number) for a line that
// does not start with '/' or holds a space or control character, for a log with no line, or
// one beyond kMaxRequestLogLines or kMaxRequestLogBytes.
Result<std::vector<std::string>> ReadRequestLog(const std::string& path);

// The bytes of "GET target HTTP/1.1" with the Host header for host and port: what each
// request of `target` sends, made once before the run.
std::string RenderGet(std::string_view target, std::string_view host, uint16_t port);

}  // namespace tempo::loadgen
