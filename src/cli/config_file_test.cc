#include "cli/config_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace tempo::cli {
namespace {

// A `serve`-like subcommand with one option of each kind, and its config file.
class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tempo-config-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
    cmd_ = app_.add_subcommand("serve");
    cmd_->add_option("--l1-mb", l1_mb_)->check(CLI::Range(0, 1024));
    cmd_->add_option("--listen", listen_);
    cmd_->add_option("--l2", l2_)->delimiter(',');
    cmd_->add_flag("--allow-preview", preview_);
    AddConfigOption(cmd_, &config_);
  }
  void TearDown() override { unlink(path_.c_str()); }

  // Parses `args` (after "tempo serve") with `yaml` as the config file.
  Status Run(const std::string& yaml, std::vector<std::string> args = {}) {
    std::ofstream(path_) << yaml;
    args.insert(args.begin(), {"serve", "--config", path_});
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app_.parse(reversed);
    return ApplyConfigFile(cmd_, config_);
  }

  CLI::App app_;
  CLI::App* cmd_ = nullptr;
  std::string path_;
  std::string config_;
  int l1_mb_ = 256;
  std::string listen_ = "127.0.0.1:8080";
  std::vector<std::string> l2_;
  bool preview_ = false;
};

TEST_F(ConfigFileTest, SetsEveryKindOfOption) {
  Status s = Run("l1-mb: 64\nlisten: 0.0.0.0:80\nl2: [a:1, b:2]\nallow-preview: true\n");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(l1_mb_, 64);
  EXPECT_EQ(listen_, "0.0.0.0:80");
  EXPECT_EQ(l2_, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_TRUE(preview_);
}

TEST_F(ConfigFileTest, CommaSeparatedListAsOnTheCommandLine) {
  ASSERT_TRUE(Run("l2: a:1,b:2,c:3\n").ok());
  EXPECT_EQ(l2_, (std::vector<std::string>{"a:1", "b:2", "c:3"}));
}

TEST_F(ConfigFileTest, CommandLineWins) {
  ASSERT_TRUE(Run("l1-mb: 64\nlisten: 0.0.0.0:80\n", {"--l1-mb", "32"}).ok());
  EXPECT_EQ(l1_mb_, 32);
  EXPECT_EQ(listen_, "0.0.0.0:80");
}

TEST_F(ConfigFileTest, EmptyFileSetsNothing) {
  ASSERT_TRUE(Run("").ok());
  EXPECT_EQ(l1_mb_, 256);
}

TEST_F(ConfigFileTest, UnknownKeyNamesLineAndKey) {
  Status s = Run("l1-mb: 64\n\nl1_mb: 32\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find(path_ + ":3: l1_mb: unknown setting"), std::string::npos)
      << s.message();
}

TEST_F(ConfigFileTest, FailedCheckNamesLineAndKey) {
  Status s = Run("listen: x:1\nl1-mb: 4096\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":2: l1-mb: "), std::string::npos) << s.message();
  s = Run("l1-mb: lots\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":1: l1-mb: "), std::string::npos) << s.message();
}

TEST_F(ConfigFileTest, MalformedYamlNamesLine) {
  Status s = Run("listen: a\nl2: [a:1,\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path_ + ":"), std::string::npos) << s.message();
}

TEST_F(ConfigFileTest, NestedMapsAndNonMapsAreRejected) {
  Status s = Run("- listen\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("must be a map"), std::string::npos) << s.message();
  s = Run("listen: {host: a}\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":1: listen: must be a value"), std::string::npos) << s.message();
}

TEST_F(ConfigFileTest, ConfigKeyItselfIsNotASetting) {
  Status s = Run("config: other.yaml\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("config: unknown setting"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace tempo::cli
