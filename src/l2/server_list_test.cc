#include <gtest/gtest.h>

#include "l2/l2.h"

namespace tempo::l2 {
namespace {

TEST(ServerListTest, ParsesHostsPortsAndIpv6) {
  Result<std::vector<std::string>> list =
      ParseServerList(" 10.0.0.1:11211, cache-b.internal:11212 ,[::1]:11213");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(*list,
            (std::vector<std::string>{"10.0.0.1:11211", "cache-b.internal:11212", "[::1]:11213"}));
  Result<ServerAddress> v6 = ParseServer("[::1]:11213");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 11213);
  Result<ServerAddress> v4 = ParseServer("127.0.0.1:1");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 1);
}

TEST(ServerListTest, RejectsBadListsWithAReason) {
  struct Case {
    const char* input;
    const char* reason;
  };
  const Case cases[] = {
      {"", "empty"},
      {"  ", "empty"},
      {"a:1,", "empty entry"},
      {"a:1,,b:2", "empty entry"},
      {"localhost", "expected host:port"},
      {":11211", "empty host"},
      {"a:", "port must be"},
      {"a:0", "port must be"},
      {"a:65536", "port must be"},
      {"a:12x", "port must be"},
      {"a:-1", "port must be"},
      {"::1:11211", "brackets"},
      {"[::1:11211", "missing ']'"},
      {"[::1]11211", "':port'"},
      {"a b:1", "space"},
      {"a:1,a:1", "listed twice"},
  };
  for (const Case& c : cases) {
    Result<std::vector<std::string>> list = ParseServerList(c.input);
    ASSERT_FALSE(list.ok()) << c.input;
    EXPECT_EQ(list.status().code(), Status::Code::kInvalidArgument) << c.input;
    EXPECT_NE(list.status().message().find(c.reason), std::string::npos)
        << c.input << " -> " << list.status().message();
  }
}

}  // namespace
}  // namespace tempo::l2
