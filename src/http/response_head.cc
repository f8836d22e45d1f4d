// Response serialization: status line, header block, JSON error responses.
#include "http/response_head.h"

#include <boost/beast/http/status.hpp>
#include <charconv>
#include <ostream>  // before Beast's status.hpp, which uses std::ostream without including it

#include "common/json.h"

namespace tempo::http {
namespace {

// Appends the decimal form of `v`.
void AppendSize(size_t v, std::string* out) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
  out->append(digits, end);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Headers the server writes itself; a handler's copy would duplicate or
// contradict them (a second Content-Length breaks framing).
bool IsServerOwnedHeader(std::string_view name) {
  switch (name.size()) {  // cheap first filter: most handler headers match no length
    case 4:
      return EqualsIgnoreCase(name, "date");
    case 6:
      return EqualsIgnoreCase(name, "server");
    case 10:
      return EqualsIgnoreCase(name, "connection");
    case 11:
      return EqualsIgnoreCase(name, "traceparent");
    case 12:
      return EqualsIgnoreCase(name, "x-request-id");
    case 14:
      return EqualsIgnoreCase(name, "content-length");
    case 17:
      return EqualsIgnoreCase(name, "transfer-encoding");
    default:
      return false;
  }
}

// CR or LF in a header would let a value inject headers or a whole response.
bool HasLineBreak(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

std::string_view ReasonPhrase(int status) {
  namespace bh = boost::beast::http;
  const bh::status known = bh::int_to_status(static_cast<unsigned>(status));
  if (known == bh::status::unknown) return "Unknown";
  const auto reason = bh::obsolete_reason(known);
  return std::string_view(reason.data(), reason.size());
}

}  // namespace

std::string FormatHttpDate(std::time_t t) {
  std::tm parts;
  gmtime_r(&t, &parts);
  char text[kHttpDateBytes + 1];
  const size_t n = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
  return std::string(text, n);
}

bool StatusForbidsBody(int status) { return status < 200 || status == 204 || status == 304; }

void AppendResponseHead(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                        size_t content_length, std::string_view date, Persistence persistence,
                        std::string* out, const RequestIds& ids) {
  out->append("HTTP/1.1 ");
  AppendSize(static_cast<size_t>(status), out);
  out->push_back(' ');
  out->append(ReasonPhrase(status));
  out->append("\r\nServer: tempo\r\nDate: ");
  out->append(date);
  out->append("\r\n");
  for (const auto& [name, value] : headers) {
    if (name.empty() || IsServerOwnedHeader(name) || HasLineBreak(name) || HasLineBreak(value)) {
      continue;
    }
    out->append(name);
    out->append(": ");
    out->append(value);
    out->append("\r\n");
  }
  if (!ids.request_id.empty()) {
    out->append("X-Request-Id: ");
    out->append(ids.request_id);
    out->append("\r\n");
  }
  if (!ids.traceparent.empty()) {
    out->append("traceparent: ");
    out->append(ids.traceparent);
    out->append("\r\n");
  }
  if (!StatusForbidsBody(status)) {
    out->append("Content-Length: ");
    AppendSize(content_length, out);
    out->append("\r\n");
  }
  switch (persistence) {
    case Persistence::kKeepAlive:
      break;
    case Persistence::kKeepAliveHttp10:
      out->append("Connection: keep-alive\r\n");
      break;
    case Persistence::kClose:
      out->append("Connection: close\r\n");
      break;
  }
  out->append("\r\n");
}

size_t AppendErrorResponse(int status, std::string_view code, std::string_view message,
                           std::string_view date, Persistence persistence, std::string* out,
                           const std::vector<std::pair<std::string, std::string>>& extra_headers,
                           const RequestIds& ids) {
  std::string body = "{\"error\":{\"code\":";
  AppendJsonString(code, &body);
  body.append(",\"message\":");
  AppendJsonString(message, &body);
  body.append("}}");
  static const std::vector<std::pair<std::string, std::string>> kErrorHeaders = {
      {"Content-Type", "application/json"}, {"Cache-Control", "no-store"}};
  if (extra_headers.empty()) {
    AppendResponseHead(status, kErrorHeaders, body.size(), date, persistence, out, ids);
  } else {
    std::vector<std::pair<std::string, std::string>> headers = kErrorHeaders;
    headers.insert(headers.end(), extra_headers.begin(), extra_headers.end());
    AppendResponseHead(status, headers, body.size(), date, persistence, out, ids);
  }
  out->append(body);
  return body.size();
}

}  // namespace tempo::http
