#include "cli/config_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

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
    cmd_->add_option("--l1-mb", l1_mb_)->check(CLI::Range(size_t{0}, size_t{1024}));
    cmd_->add_option("--listen", listen_);
    cmd_->add_option("--l2", l2_)->delimiter(',');
    cmd_->add_flag("--allow-preview", preview_);
    cmd_->add_option("--store", store_);
    cmd_->add_flag("--embedded", embedded_)->excludes("--store");
    cmd_->add_option("--deadline-ms", deadline_ms_)->check(CLI::Range(1, 60'000));
    cmd_->add_option("--ratio", ratio_);
    cmd_->add_option("--requests-out", requests_out_);
    cmd_->add_option("--requests", requests_)->needs("--requests-out");
    AddConfigOption(cmd_, &config_);
  }
  void TearDown() override { unlink(path_.c_str()); }

  // Parses `args` (after "tempo serve") with `yaml` as the config file.
  Status Run(const std::string& yaml, std::vector<std::string> args = {}) {
    std::ofstream(path_) << yaml;
    args.insert(args.begin(), {"serve", "--config", path_});
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app_.parse(reversed);
    return ApplyConfigFile(cmd_, config_, sections_);
  }

  CLI::App app_;
  CLI::App* cmd_ = nullptr;
  std::vector<ConfigSection> sections_;
  std::string path_;
  std::string config_;
  size_t l1_mb_ = 256;
  std::string listen_ = "127.0.0.1:8080";
  std::vector<std::string> l2_;
  bool preview_ = false;
  std::string store_;
  bool embedded_ = false;
  int deadline_ms_ = 50;
  double ratio_ = 0.5;
  std::string requests_out_;
  int requests_ = 0;
};

TEST_F(ConfigFileTest, SetsEveryKindOfOption) {
  Status s = Run("l1-mb: 64\nlisten: 0.0.0.0:80\nl2: [a:1, b:2]\nallow-preview: true\n");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(l1_mb_, 64u);
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
  EXPECT_EQ(l1_mb_, 32u);
  EXPECT_EQ(listen_, "0.0.0.0:80");
}

TEST_F(ConfigFileTest, EmptyFileSetsNothing) {
  ASSERT_TRUE(Run("").ok());
  EXPECT_EQ(l1_mb_, 256u);
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

TEST_F(ConfigFileTest, SectionsGetTheirValueAndTheirErrorsStop) {
  std::vector<std::string> seen;
  sections_.push_back({"groups", [&seen](const YAML::Node& value, const std::string& path) {
                         if (!value.IsMap()) {
                           return Status::InvalidArgument(path + ":" +
                                                          std::to_string(value.Mark().line + 1) +
                                                          ": groups: must be a map");
                         }
                         for (const auto& entry : value) seen.push_back(entry.first.Scalar());
                         return Status::OK();
                       }});
  ASSERT_TRUE(Run("l1-mb: 64\ngroups:\n  TG1: [A]\n  TG2: [B]\n").ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"TG1", "TG2"}));
  EXPECT_EQ(l1_mb_, 64u);
  const Status s = Run("groups: [A]\n");
  EXPECT_EQ(s.message(), path_ + ":1: groups: must be a map");
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

TEST_F(ConfigFileTest, DuplicateKeyNamesBothLines) {
  Status s = Run("l1-mb: 64\nlisten: a:1\nl1-mb: 32\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find(path_ + ":3: l1-mb: given twice (first on line 1)"), std::string::npos)
      << s.message();
  // Also when the command line sets the key: the file is wrong either way.
  s = Run("listen: a:1\nlisten: b:2\n", {"--listen", "c:3"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":2: listen: given twice (first on line 1)"), std::string::npos)
      << s.message();
}

TEST_F(ConfigFileTest, WrongTypeSaysWhatWasExpected) {
  Status s = Run("listen: a:1\n\nl1-mb: lots\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path_ + ":3: l1-mb: expected a non-negative integer, got \"lots\""),
            std::string::npos)
      << s.message();
  s = Run("l1-mb: -1\n");
  EXPECT_NE(s.message().find(":1: l1-mb: expected a non-negative integer, got \"-1\""),
            std::string::npos)
      << s.message();
  s = Run("deadline-ms: 1.5\n");
  EXPECT_NE(s.message().find(":1: deadline-ms: expected an integer, got \"1.5\""),
            std::string::npos)
      << s.message();
  s = Run("ratio: half\n");
  EXPECT_NE(s.message().find(":1: ratio: expected a number, got \"half\""), std::string::npos)
      << s.message();
  s = Run("allow-preview: maybe\n");
  EXPECT_NE(s.message().find(":1: allow-preview: expected true or false, got \"maybe\""),
            std::string::npos)
      << s.message();
  // A value of the right type that fails the option's check keeps CLI11's reason.
  s = Run("deadline-ms: 0\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":1: deadline-ms: "), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("expected"), std::string::npos) << s.message();
}

TEST_F(ConfigFileTest, ExcludedPairInTheFileNamesBothKeys) {
  Status s = Run("store: /var/lib/tempo/store\nembedded: true\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find(path_ + ":1: store: cannot be combined with embedded (line 2)"),
            std::string::npos)
      << s.message();
}

TEST_F(ConfigFileTest, ExcludedPairAcrossFileAndCommandLine) {
  Status s = Run("store: /var/lib/tempo/store\n", {"--embedded"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":1: store: cannot be combined with --embedded (on the command line)"),
            std::string::npos)
      << s.message();
  s = Run("listen: a:1\nembedded: true\n", {"--store", "/tmp/x"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":2: embedded: cannot be combined with --store (on the command line)"),
            std::string::npos)
      << s.message();
}

TEST_F(ConfigFileTest, NeedsHoldsForTheFile) {
  Status s = Run("requests: 10\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":1: requests: needs requests-out"), std::string::npos) << s.message();
  ASSERT_TRUE(Run("requests: 10\n", {"--requests-out", "r.txt"}).ok());
  EXPECT_EQ(requests_, 10);
}

TEST_F(ConfigFileTest, CompatibleSettingsStillApply) {
  Status s = Run("embedded: true\nl1-mb: 64\n");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(embedded_);
  EXPECT_EQ(l1_mb_, 64u);
  // The command line's own setting wins and is no conflict with itself.
  s = Run("store: /a\n", {"--store", "/b"});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(store_, "/b");
}

// The environment, between the command line and the file.
class EnvironmentTest : public ConfigFileTest {
 protected:
  void SetUp() override {
    ConfigFileTest::SetUp();
    BindEnvironment(cmd_);
  }
  void TearDown() override {
    for (const char* name : {"TEMPO_L1_MB", "TEMPO_LISTEN", "TEMPO_L2", "TEMPO_ALLOW_PREVIEW",
                             "TEMPO_DEADLINE_MS", "TEMPO_CONFIG"}) {
      unsetenv(name);
    }
    ConfigFileTest::TearDown();
  }
};

TEST(EnvironmentName, UpperCaseWithUnderscores) {
  EXPECT_EQ(EnvironmentName("l1-mb"), "TEMPO_L1_MB");
  EXPECT_EQ(EnvironmentName("admin-tls-cert"), "TEMPO_ADMIN_TLS_CERT");
}

TEST_F(EnvironmentTest, FlagThenEnvironmentThenFileThenDefault) {
  setenv("TEMPO_L1_MB", "32", 1);
  setenv("TEMPO_LISTEN", "0.0.0.0:9000", 1);
  setenv("TEMPO_L2", "a:1,b:2", 1);
  setenv("TEMPO_ALLOW_PREVIEW", "true", 1);
  Status s = Run("l1-mb: 64\nlisten: 0.0.0.0:80\ndeadline-ms: 70\n", {"--listen", "1.2.3.4:5"});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(listen_, "1.2.3.4:5");  // the flag
  EXPECT_EQ(l1_mb_, 32u);           // the environment over the file
  EXPECT_EQ(l2_, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_TRUE(preview_);
  EXPECT_EQ(deadline_ms_, 70);  // the file
  EXPECT_EQ(ratio_, 0.5);       // the default
}

TEST_F(EnvironmentTest, ABadValueIsRejectedAsOnTheCommandLine) {
  setenv("TEMPO_DEADLINE_MS", "0", 1);
  EXPECT_THROW((void)Run(""), CLI::ValidationError);
}

TEST_F(EnvironmentTest, TheConfigFlagItselfIsNotBound) {
  setenv("TEMPO_CONFIG", "/nonexistent", 1);
  EXPECT_TRUE(Run("l1-mb: 64\n").ok());
  EXPECT_EQ(l1_mb_, 64u);
}

TEST_F(EnvironmentTest, DescribeSettingsShowsWhatIsInEffectMasked) {
  setenv("TEMPO_L1_MB", "32", 1);
  ASSERT_TRUE(Run("store: postgres://u:secret@h/db\n", {"--allow-preview"}).ok());
  const std::string text =
      DescribeSettings(*cmd_, [](const std::string& key, const std::string& value) {
        return key == "store" ? std::string("postgres://u:***@h/db") : value;
      });
  EXPECT_NE(text.find("l1-mb: 32\n"), std::string::npos) << text;
  EXPECT_NE(text.find("allow-preview: true\n"), std::string::npos) << text;
  EXPECT_NE(text.find("store: postgres://u:***@h/db\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("secret"), std::string::npos) << text;
  EXPECT_NE(text.find("deadline-ms: 50\n"), std::string::npos) << text;  // a default
  EXPECT_EQ(text.find("config:"), std::string::npos) << text;
  // What it prints is a config file that gives the same settings.
  YAML::Node parsed = YAML::Load(text);
  EXPECT_EQ(parsed["l1-mb"].as<int>(), 32);
  EXPECT_EQ(parsed["listen"].as<std::string>(), "127.0.0.1:8080");
}

}  // namespace
}  // namespace tempo::cli
