// Operator-given Kafka properties: parsing, files, ${env:NAME}, librdkafka's
// checks, redaction of secrets, and the properties reaching the clients that
// talk to librdkafka's mock cluster.
#include "kafka/properties.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <string>

#include "kafka/client_config.h"
#include "kafka/mock_cluster.h"
#include "testing/temp_dir.h"

namespace tempo::kafka {
namespace {

using namespace std::chrono_literals;

constexpr char kSecret[] = "hunter2-Sup3rSecret";

std::string Write(const testing::TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.path() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The value of `name` in the configuration of the live handle `rk`.
std::string ConfValue(rd_kafka_t* rk, const char* name) {
  char value[512];
  size_t size = sizeof(value);
  if (rd_kafka_conf_get(rd_kafka_conf(rk), name, value, &size) != RD_KAFKA_CONF_OK) return "?";
  return value;
}

TEST(KafkaPropertiesTest, SecretsAreRecognisedByName) {
  for (const char* name : {"sasl.password", "ssl.key.password", "ssl.keystore.password",
                           "sasl.oauthbearer.client.secret", "sasl.oauthbearer.config",
                           "ssl.key.pem", "SASL.PASSWORD"}) {
    EXPECT_TRUE(IsSecretProperty(name)) << name;
    EXPECT_EQ(ShownValue(name, kSecret), "***") << name;
  }
  for (const char* name : {"sasl.username", "security.protocol", "ssl.ca.location", "client.id"}) {
    EXPECT_FALSE(IsSecretProperty(name)) << name;
    EXPECT_EQ(ShownValue(name, "v"), "v") << name;
  }
}

TEST(KafkaPropertiesTest, AssignmentsSplitAtTheFirstEquals) {
  auto p = ParseAssignment("sasl.jaas.config=a=b c");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->first, "sasl.jaas.config");
  EXPECT_EQ(p->second, "a=b c");
  p = ParseAssignment("client.id=");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->second, "");
  for (const char* bad : {"sasl.password", "=x", "sasl password=x"}) {
    auto r = ParseAssignment(bad);
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
  }
  // A value is never echoed, even when the name is malformed.
  auto r = ParseAssignment(std::string("bad key=") + kSecret);
  EXPECT_EQ(r.status().message().find(kSecret), std::string::npos) << r.status().message();
}

TEST(KafkaPropertiesTest, EnvironmentReferencesAreExpanded) {
  setenv("TEMPO_TEST_KAFKA_PASSWORD", kSecret, 1);
  setenv("TEMPO_TEST_EMPTY", "", 1);
  unsetenv("TEMPO_TEST_UNSET");
  auto v = ExpandEnvironment("sasl.password", "${env:TEMPO_TEST_KAFKA_PASSWORD}");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, kSecret);
  v = ExpandEnvironment("k", "a-${env:TEMPO_TEST_EMPTY}-${env:TEMPO_TEST_KAFKA_PASSWORD}-z");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, std::string("a--") + kSecret + "-z");
  v = ExpandEnvironment("k", "no $ reference {here}");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "no $ reference {here}");

  v = ExpandEnvironment("sasl.password", "${env:TEMPO_TEST_UNSET}");
  EXPECT_EQ(v.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(v.status().message().find("sasl.password"), std::string::npos);
  EXPECT_NE(v.status().message().find("TEMPO_TEST_UNSET is not set"), std::string::npos);
  EXPECT_EQ(ExpandEnvironment("k", "${env:X").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ExpandEnvironment("k", "${env:}").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ExpandEnvironment("k", "${env:A-B}").status().code(), Status::Code::kInvalidArgument);
}

TEST(KafkaPropertiesTest, PropertiesFilesAreJavaStyle) {
  testing::TempDir dir;
  const std::string path = Write(dir, "kafka.properties",
                                 "# secrets for tempo\n"
                                 "\n"
                                 "  ! another comment\n"
                                 "security.protocol=SASL_SSL\r\n"
                                 "  sasl.mechanism =  SCRAM-SHA-512  \n"
                                 "sasl.password=" +
                                     std::string(kSecret) +
                                     "\n"
                                     "sasl.jaas.config=a=b\n"
                                     "empty=\n");
  auto props = ReadPropertiesFile(path);
  ASSERT_TRUE(props.ok()) << props.status().ToString();
  EXPECT_EQ(*props, (PropertyMap{{"security.protocol", "SASL_SSL"},
                                 {"sasl.mechanism", "SCRAM-SHA-512"},
                                 {"sasl.password", kSecret},
                                 {"sasl.jaas.config", "a=b"},
                                 {"empty", ""}}));

  auto twice = ReadPropertiesFile(Write(dir, "twice", "a=1\nb=2\na=" + std::string(kSecret)));
  EXPECT_EQ(twice.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(twice.status().message().find("twice:3: a given twice (also on line 1)"),
            std::string::npos)
      << twice.status().message();
  EXPECT_EQ(twice.status().message().find(kSecret), std::string::npos);

  auto no_eq = ReadPropertiesFile(Write(dir, "noeq", "a=1\n" + std::string(kSecret) + "\n"));
  EXPECT_EQ(no_eq.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(no_eq.status().message().find("noeq:2: expected key=value"), std::string::npos);
  EXPECT_EQ(no_eq.status().message().find(kSecret), std::string::npos);
  EXPECT_EQ(ReadPropertiesFile(Write(dir, "nokey", " = x\n")).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(ReadPropertiesFile(dir.path() + "/missing").status().code(), Status::Code::kIOError);
  EXPECT_EQ(ReadPropertiesFile(dir.path()).status().code(), Status::Code::kIOError);
  const std::string big(kMaxPropertiesFileBytes + 1, '#');
  EXPECT_EQ(ReadPropertiesFile(Write(dir, "big", big)).status().code(),
            Status::Code::kInvalidArgument);
}

TEST(KafkaPropertiesTest, TunablesGoToTheirFieldsAndTheRestToExtra) {
  KafkaOptions options;
  Status s = ApplyProperties({{"client.id", "shop-7"},
                              {"socket.timeout.ms", "30000"},
                              {"session.timeout.ms", "45000"},
                              {"linger.ms", "0"},
                              {"message.timeout.ms", "60000"},
                              {"security.protocol", "SASL_SSL"}},
                             &options);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(options.client_id, "shop-7");
  EXPECT_EQ(options.socket_timeout, 30s);
  EXPECT_EQ(options.session_timeout, 45s);
  EXPECT_EQ(options.linger, 0ms);
  EXPECT_EQ(options.delivery_timeout, 60s);
  EXPECT_EQ(options.extra, (std::map<std::string, std::string>{{"security.protocol", "SASL_SSL"}}));

  for (const char* bad : {"", "-1", "1.5", "10s", "99999999999999999999"}) {
    s = ApplyProperties({{"linger.ms", bad}}, &options);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("linger.ms"), std::string::npos);
  }
  s = ApplyProperties({{"bootstrap.servers", "h:1"}}, &options);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("--brokers"), std::string::npos);
}

TEST(KafkaPropertiesTest, LibrdkafkaJudgesEveryProperty) {
  EXPECT_TRUE(CheckProperties({}).ok());
  Status s = CheckProperties({{"security.protocol", "SASL_SSL"},
                              {"sasl.mechanism", "SCRAM-SHA-256"},
                              {"sasl.username", "tempo"},
                              {"sasl.password", kSecret},
                              {"client.id", "tempo-eu-1"},
                              {"socket.timeout.ms", "30000"}});
  EXPECT_TRUE(s.ok()) << s.ToString();

  s = CheckProperties({{"no.such.property", "1"}});
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("kafka property no.such.property: No such configuration property"),
            std::string::npos)
      << s.message();
  s = CheckProperties({{"security.protocol", "carrier-pigeon"}});
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("security.protocol"), std::string::npos) << s.message();
  s = CheckProperties({{"socket.timeout.ms", "1"}});  // librdkafka's range is 10..300000
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("socket.timeout.ms"), std::string::npos) << s.message();
  for (const char* fixed : {"acks", "enable.idempotence", "group.id", "enable.auto.commit"}) {
    s = CheckProperties({{fixed, "1"}});
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << fixed;
    EXPECT_NE(s.message().find("set by Tempo"), std::string::npos) << s.message();
  }
  // Checks librdkafka makes only when it creates a client.
  s = CheckProperties({{"max.in.flight", "50"}});  // idempotence allows at most 5
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  testing::TempDir dir;
  s = CheckProperties({{"security.protocol", "SSL"},
                       {"ssl.ca.location", dir.path() + "/no-such-ca.pem"},
                       {"ssl.key.password", kSecret}});
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("ssl.ca.location"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find(kSecret), std::string::npos) << s.message();
}

class KafkaPropertiesClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = MockCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
  }

  std::unique_ptr<MockCluster> cluster_;
};

TEST_F(KafkaPropertiesClusterTest, PropertiesReachTheProducerAndConsumerHandles) {
  KafkaOptions options;
  options.brokers = cluster_->bootstrap();
  ASSERT_TRUE(ApplyProperties({{"client.id", "shop-42"},
                               {"socket.timeout.ms", "12345"},
                               {"session.timeout.ms", "6000"},
                               {"linger.ms", "7"},
                               {"sasl.username", "tempo"},
                               {"fetch.wait.max.ms", "11"}},
                              &options)
                  .ok());
  auto conf = internal::MakeConf(options, internal::ProducerProperties(options));
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  auto producer = internal::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  EXPECT_EQ(ConfValue(producer->get(), "client.id"), "shop-42");
  EXPECT_EQ(ConfValue(producer->get(), "socket.timeout.ms"), "12345");
  EXPECT_EQ(ConfValue(producer->get(), "linger.ms"), "7");
  EXPECT_EQ(ConfValue(producer->get(), "sasl.username"), "tempo");
  EXPECT_EQ(ConfValue(producer->get(), "enable.idempotence"), "true");  // guarantees stay

  conf =
      internal::MakeConf(options, internal::ConsumerProperties(options, "g", StartAt::kEarliest));
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  auto consumer = internal::NewHandle(RD_KAFKA_CONSUMER, std::move(*conf));
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  EXPECT_EQ(ConfValue(consumer->get(), "client.id"), "shop-42");
  EXPECT_EQ(ConfValue(consumer->get(), "session.timeout.ms"), "6000");
  EXPECT_EQ(ConfValue(consumer->get(), "heartbeat.interval.ms"), "2000");
  EXPECT_EQ(ConfValue(consumer->get(), "fetch.wait.max.ms"), "11");
  EXPECT_EQ(ConfValue(consumer->get(), "enable.auto.commit"), "false");
}

// The mock cluster speaks no SASL: a consumer told to log in with SASL/PLAIN
// tries to, and reports the broker's refusal, not the password.
TEST_F(KafkaPropertiesClusterTest, SaslSettingsReachTheConsumer) {
  KafkaOptions options;
  options.brokers = cluster_->bootstrap();
  ASSERT_TRUE(ApplyProperties({{"security.protocol", "SASL_PLAINTEXT"},
                               {"sasl.mechanism", "PLAIN"},
                               {"sasl.username", "tempo"},
                               {"sasl.password", kSecret},
                               {"reconnect.backoff.ms", "10"},
                               {"log_level", "0"}},
                              &options)
                  .ok());
  auto consumer = OpenKafkaConsumer(options, "g", {"t"}, StartAt::kEarliest);
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  Status error;
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (error.ok() && std::chrono::steady_clock::now() < give_up) {
    auto polled = (*consumer)->Poll(10, 200ms);
    if (!polled.ok()) error = polled.status();
  }
  ASSERT_FALSE(error.ok()) << "no SASL error within 20 s";
  EXPECT_NE(error.message().find("SASL"), std::string::npos) << error.ToString();
  EXPECT_EQ(error.message().find(kSecret), std::string::npos) << error.ToString();
}

}  // namespace
}  // namespace tempo::kafka
