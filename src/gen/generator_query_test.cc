// Every generated request goes through the real query validation (src/api):
// the lines built to fail get exactly the error the generator meant, and all
// the others parse.
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <variant>

#include "api/query.h"
#include "gen/generator.h"
#include "gen/manifest.h"

namespace tempo::gen {
namespace {

constexpr std::string_view kV1 = "/api/v1/tempo/layouts?";
constexpr std::string_view kV2 = "/api/v2/tempo/layouts?";
constexpr size_t kMaxUriBytes = 8192;

void CheckRequests(const GenOptions& options) {
  std::ostringstream events, requests;
  Manifest manifest;
  ASSERT_TRUE(GenerateWithManifest(options, events, &requests, nullptr, &manifest).ok());
  std::map<uint64_t, FailingRequest> failing;
  for (const auto& f : manifest.failing_requests) failing[f.line] = f;

  const std::string text = requests.str();
  std::map<std::string, int> checked;  // code -> lines checked against the parser
  uint64_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    const std::string_view line(text.data() + start, end - start);
    start = end + 1;
    const auto it = failing.find(line_no++);
    const std::string code = it == failing.end() ? "" : it->second.code;
    const bool v1 = line.starts_with(kV1);
    if (!v1 && !line.starts_with(kV2)) {
      EXPECT_EQ(code, "not_found") << line;  // the router answers before the parser
      continue;
    }
    if (line.size() > kMaxUriBytes) {
      EXPECT_EQ(code, "uri_too_long") << line.substr(0, 200);
      continue;
    }
    const auto parsed = api::ParseLayoutQuery(line.substr(kV1.size()), v1 ? 1 : 2,
                                              api::QueryOptions{.allow_preview = false});
    if (code.empty() || code == "unknown_tenant") {
      // Valid; an unknown tenant is found only by the origin lookup after parsing.
      const auto* error = std::get_if<api::ApiError>(&parsed);
      EXPECT_EQ(error, nullptr) << (error ? error->code : "") << ": " << line;
    } else {
      const auto* error = std::get_if<api::ApiError>(&parsed);
      ASSERT_NE(error, nullptr) << "meant " << code << ": " << line;
      EXPECT_EQ(error->code, code) << line;
      EXPECT_EQ(error->status, it->second.status) << line;
    }
    ++checked[code];
  }
  EXPECT_EQ(line_no, manifest.request_lines);
  for (const char* code : {"", "missing_parameter", "invalid_parameter", "value_too_long",
                           "too_many_attributes", "unknown_tenant"}) {
    EXPECT_GT(checked[code], 0) << code;
  }
}

TEST(GenerateQuery, FailingRequestsFailAsMeantAndTheRestParse) {
  GenOptions options;
  options.seed = 1;
  options.tenants = 5;
  options.modules = 500;
  options.requests = 30000;
  CheckRequests(options);
}

TEST(GenerateQuery, OtherSeedsToo) {
  for (uint64_t seed : {7, 8}) {
    GenOptions options;
    options.seed = seed;
    options.tenants = 2;
    options.modules = 100;
    options.requests = 10000;
    CheckRequests(options);
  }
}

}  // namespace
}  // namespace tempo::gen
