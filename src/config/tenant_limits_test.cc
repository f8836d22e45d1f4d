// Tests of per-tenant limits in YAML.
#include "config/tenant_limits.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace tempo::config {
namespace {

Result<std::map<std::string, TenantLimit>> ParseText(const std::string& yaml) {
  return ParseTenantLimits(YAML::Load(yaml)["tenant_limits"], "serve.yaml");
}

std::string ErrorOf(const std::string& yaml) {
  auto parsed = ParseText(yaml);
  EXPECT_FALSE(parsed.ok()) << yaml;
  return parsed.ok() ? "" : parsed.status().message();
}

TEST(TenantLimits, RatesAndBursts) {
  auto limits = ParseText("tenant_limits: {ACME: {rate: 5000, burst: 10000}, Globex: {rate: 2}}");
  ASSERT_TRUE(limits.ok()) << limits.status().ToString();
  ASSERT_EQ(limits->size(), 2u);
  EXPECT_EQ(limits->at("ACME").rate, 5000);
  EXPECT_EQ(limits->at("ACME").burst, 10000);
  EXPECT_EQ(limits->at("Globex").rate, 2);
  EXPECT_EQ(limits->at("Globex").burst, 0);  // the rate's
}

TEST(TenantLimits, ErrorsNameTheFileLineAndKey) {
  EXPECT_EQ(ErrorOf("tenant_limits:\n  ACME: {rate: lots}\n"),
            "serve.yaml:2: tenant_limits.ACME.rate: expected an integer from 1 to 1000000000, got "
            "\"lots\"");
  EXPECT_EQ(ErrorOf("tenant_limits:\n  ACME: {rate: 0}\n"),
            "serve.yaml:2: tenant_limits.ACME.rate: expected an integer from 1 to 1000000000, got "
            "\"0\"");
  EXPECT_EQ(ErrorOf("tenant_limits:\n  ACME:\n    rate: 5\n    burst: -1\n"),
            "serve.yaml:4: tenant_limits.ACME.burst: expected an integer from 1 to 1000000000, "
            "got \"-1\"");
  EXPECT_EQ(ErrorOf("tenant_limits:\n  ACME: {burst: 5}\n"),
            "serve.yaml:2: tenant_limits.ACME: needs a rate (requests per second)");
  EXPECT_EQ(ErrorOf("tenant_limits:\n  ACME: {rate: 5, speed: 1}\n"),
            "serve.yaml:2: tenant_limits.ACME: unknown key \"speed\": a limit has rate and burst");
  EXPECT_EQ(ErrorOf("tenant_limits:\n  ACME: {rate: 5}\n  ACME: {rate: 6}\n"),
            "serve.yaml:3: tenant_limits.ACME: tenant given twice (first on line 2)");
  EXPECT_EQ(ErrorOf("tenant_limits:\n  ACME: 5\n"),
            "serve.yaml:2: tenant_limits.ACME: must be a map such as {rate: 5000, burst: 10000}");
  EXPECT_EQ(ErrorOf("tenant_limits:\n  \"a b\": {rate: 5}\n"),
            "serve.yaml:2: tenant_limits: a tenant must be a name of letters, digits, '_', '.' or "
            "'-'");
  EXPECT_EQ(ErrorOf("tenant_limits: [ACME]\n"),
            "serve.yaml:1: tenant_limits: must be a map of tenant to {rate: N, burst: N}, such as "
            "{ACME: {rate: 5000, burst: 10000}}");
}

}  // namespace
}  // namespace tempo::config
