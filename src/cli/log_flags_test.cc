// The log flags: parsing and checks, and what ApplyLogFlags and OpenAccessLog do with them.
#include "cli/log_flags.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/logging.h"
#include "testing/temp_dir.h"

namespace tempo::cli {
namespace {

class LogFlagsTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(ConfigureLogging({}).ok()); }

  // Parses `args` (after "tempo serve"); false (with CLI11's message in
  // error_) when CLI11 rejects them.
  bool Parse(std::vector<std::string> args, bool with_access_log = true) {
    cmd_ = app_.add_subcommand("serve");
    AddLogFlags(cmd_, &flags_, with_access_log);
    args.insert(args.begin(), "serve");
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
      app_.parse(reversed);
    } catch (const CLI::ParseError& e) {
      error_ = e.what();
      return false;
    }
    return true;
  }

  CLI::App app_;
  CLI::App* cmd_ = nullptr;
  LogFlags flags_;
  std::string error_;
};

TEST_F(LogFlagsTest, Defaults) {
  ASSERT_TRUE(Parse({}));
  EXPECT_EQ(flags_.level, "info");
  EXPECT_EQ(flags_.format, "text");
  EXPECT_EQ(flags_.access_log, "off");
  EXPECT_EQ(flags_.access_log_sample, 1.0);
  ASSERT_TRUE(ApplyLogFlags(flags_).ok());
  EXPECT_EQ(CurrentLogOptions().level, LogLevel::kInfo);
  EXPECT_EQ(CurrentLogOptions().format, LogFormat::kText);
  auto access_log = OpenAccessLog(flags_);
  ASSERT_TRUE(access_log.ok());
  EXPECT_EQ(*access_log, nullptr);
}

TEST_F(LogFlagsTest, ValuesReachTheLogger) {
  ASSERT_TRUE(Parse({"--log-level", "warn", "--log-format", "json", "--access-log", "stderr",
                     "--access-log-sample", "0.1"}))
      << error_;
  EXPECT_EQ(flags_.access_log, "stderr");
  EXPECT_EQ(flags_.access_log_sample, 0.1);
  ASSERT_TRUE(ApplyLogFlags(flags_).ok());
  EXPECT_EQ(CurrentLogOptions().level, LogLevel::kWarn);
  EXPECT_EQ(CurrentLogOptions().format, LogFormat::kJson);
}

TEST_F(LogFlagsTest, AccessLogFileInTheLogFormat) {
  testing::TempDir dir("log_flags_test");
  flags_.access_log = dir.path() + "/access.log";
  flags_.format = "json";
  auto access_log = OpenAccessLog(flags_);
  ASSERT_TRUE(access_log.ok()) << access_log.status().ToString();
  ASSERT_NE(*access_log, nullptr);
  http::AccessRecord record;
  record.method = "GET";
  (*access_log)->Write(record);
  access_log->reset();  // flushes
  std::ifstream in(dir.path() + "/access.log");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line.front(), '{') << line;

  flags_.access_log = dir.path() + "/no/such/dir/access.log";
  EXPECT_EQ(OpenAccessLog(flags_).status().code(), Status::Code::kIOError);
}

TEST_F(LogFlagsTest, BadValuesNameTheAcceptedOnes) {
  EXPECT_FALSE(Parse({"--log-level", "verbose"}));
  EXPECT_NE(error_.find("expected debug, info, warn or error"), std::string::npos) << error_;
}

TEST_F(LogFlagsTest, BadFormatIsRejected) {
  EXPECT_FALSE(Parse({"--log-format", "xml"}));
  EXPECT_NE(error_.find("expected text or json"), std::string::npos) << error_;
}

TEST_F(LogFlagsTest, SampleOutsideZeroToOneIsRejected) {
  EXPECT_FALSE(Parse({"--access-log-sample", "1.5"}));
  EXPECT_NE(error_.find("access-log-sample"), std::string::npos) << error_;
}

TEST_F(LogFlagsTest, WithoutAccessLogThereAreNoAccessLogFlags) {
  EXPECT_FALSE(Parse({"--access-log", "stderr"}, /*with_access_log=*/false));
  EXPECT_EQ(cmd_->get_option_no_throw("--access-log-sample"), nullptr);
  EXPECT_NE(cmd_->get_option_no_throw("--log-level"), nullptr);
}

// Values that bypassed the parser's checks (set in code) are refused, and
// leave the logger as it was.
TEST_F(LogFlagsTest, ApplyRefusesUnknownValues) {
  LogFlags flags;
  flags.level = "loud";
  Status st = ApplyLogFlags(flags);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(st.message(), "log level \"loud\": expected debug, info, warn or error");
  flags = {};
  flags.format = "yaml";
  EXPECT_EQ(ApplyLogFlags(flags).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(OpenAccessLog(flags).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(CurrentLogOptions().format, LogFormat::kText);
}

}  // namespace
}  // namespace tempo::cli
