// Tests for ParseHostPort.
#include "common/host_port.h"

#include <gtest/gtest.h>

namespace tempo {
namespace {

TEST(HostPortTest, ParsesNamesIpv4AndBracketedIpv6) {
  Result<HostPort> name = ParseHostPort("cache-b.internal:11212");
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(name->host, "cache-b.internal");
  EXPECT_EQ(name->port, 11212);
  Result<HostPort> v4 = ParseHostPort("127.0.0.1:0");
  ASSERT_TRUE(v4.ok()) << v4.status().ToString();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 0);
  Result<HostPort> v6 = ParseHostPort("[::1]:65535");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 65535);
}

TEST(HostPortTest, PortZeroOnlyWhenAllowed) {
  EXPECT_TRUE(ParseHostPort("a:0").ok());
  Result<HostPort> server = ParseHostPort("a:0", /*min_port=*/1);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().message(), "port must be a number from 1 to 65535");
  EXPECT_TRUE(ParseHostPort("a:1", /*min_port=*/1).ok());
}

TEST(HostPortTest, RejectsWithAReason) {
  struct Case {
    const char* input;
    const char* reason;
  };
  const Case cases[] = {
      {"", "expected host:port"},   {"localhost", "expected host:port"},
      {":8080", "empty host"},      {"[]:8080", "empty host"},
      {"a:", "port must be"},       {"a:65536", "port must be"},
      {"a:12x", "port must be"},    {"a:-1", "port must be"},
      {"a: 1", "port must be"},     {"::1:8080", "brackets"},
      {"[::1:8080", "missing ']'"}, {"[::1]8080", "':port'"},
      {"[::1]", "':port'"},         {"a b:1", "space"},
  };
  for (const Case& c : cases) {
    Result<HostPort> parsed = ParseHostPort(c.input);
    ASSERT_FALSE(parsed.ok()) << c.input;
    EXPECT_EQ(parsed.status().code(), Status::Code::kInvalidArgument) << c.input;
    EXPECT_NE(parsed.status().message().find(c.reason), std::string::npos)
        << c.input << " -> " << parsed.status().message();
  }
}

}  // namespace
}  // namespace tempo
