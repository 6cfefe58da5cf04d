#include "control/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

namespace isergw::control {
namespace {

using nlohmann::json;

json minimal() {
  return json::parse(R"({"targets": [{"name": "iqn.2026-11.io.isergw:t0",
                                      "back_end": "iscsi://10.0.0.5/iqn.2026-01.com.example:disk"}]})");
}

ConfigError error_of(const json& document) {
  auto config = config_from_json(document);
  EXPECT_FALSE(config) << "accepted " << document.dump();
  return config ? ConfigError{} : config.error();
}

TEST(Config, DefaultsFillWhatTheFileLeavesOut) {
  auto config = config_from_json(minimal());
  ASSERT_TRUE(config) << config.error().describe();
  ASSERT_EQ(config->listen.size(), 1U);
  EXPECT_EQ(config->listen[0].url(), "tcp://127.0.0.1:3260");
  EXPECT_EQ(config->control.host_port(), "127.0.0.1:9860");
  EXPECT_EQ(config->rdma.posting, rdma::PostingMode::kAuto);
  EXPECT_EQ(config->gateway_name, kDefaultGatewayName);
  ASSERT_EQ(config->targets.size(), 1U);
  const TargetConfig& target = config->targets[0];
  EXPECT_EQ(target.back_end.kind, gateway::BackEndKind::kIscsi);
  EXPECT_EQ(target.back_end.portal.host_port(), "10.0.0.5:3260");
  EXPECT_EQ(target.identity, BackIdentity::kPassthrough);
}

TEST(Config, ParsesEverySetting) {
  const json document = json::parse(R"({
    "workers": 4,
    "listen": ["tcp://[::]:3260", "iser://192.168.77.1"],
    "control": "0.0.0.0:9900",
    "control_token_file": "/etc/isergw/token",
    "control_tls": {"cert_file": "/etc/isergw/control.crt", "key_file": "/etc/isergw/control.key"},
    "gateway_name": "iqn.2026-11.com.example:gw1",
    "buffers": {"size": 262144, "per_worker": 1024},
    "rdma": {"posting": "inline"},
    "limits": {"sessions_per_portal": 200, "logins_per_portal": 8, "login_timeout_seconds": 5,
               "data_timeout_seconds": 7, "task_management_timeout_seconds": 4},
    "targets": [{
      "name": "iqn.2026-11.com.example:db",
      "back_end": "iser://10.1.1.1:3261/iqn.2026-01.com.example:array",
      "identity": "gateway",
      "front_chap": {"user": "host", "secret": "host-secret-123"},
      "front_mutual_chap": {"user": "gw", "secret": "gateway-secret-1"},
      "back_chap": {"user": "gw", "secret": "storage-secret-1"},
      "back_mutual_chap": {"user": "array", "secret": "array-secret-12"},
      "allowed_initiators": ["iqn.1993-08.org.debian:01:host1"]
    }, {"name": "iqn.2026-11.com.example:scratch", "back_end": "null://16G"}]
  })");
  auto config = config_from_json(document);
  ASSERT_TRUE(config) << config.error().describe();
  EXPECT_EQ(config->workers, 4U);
  ASSERT_TRUE(config->control_tls);
  EXPECT_EQ(config->control_tls->key_file, "/etc/isergw/control.key");
  EXPECT_EQ(config_to_json(*config)["control_tls"]["cert_file"], "/etc/isergw/control.crt");
  EXPECT_EQ(config->listen[1].transport, gateway::Transport::kIser);
  EXPECT_EQ(config->buffers.buffer_size, 262144U);
  EXPECT_EQ(config->rdma.posting, rdma::PostingMode::kInline);
  EXPECT_EQ(config_to_json(*config)["rdma"]["posting"], "inline");
  EXPECT_EQ(config->limits.sessions, 200U);
  EXPECT_EQ(config->limits.logins_in_progress, 8U);
  EXPECT_EQ(config->limits.login_timeout_seconds, 5U);
  EXPECT_EQ(config->limits.data_timeout_seconds, 7U);
  EXPECT_EQ(config_to_json(*config)["limits"]["data_timeout_seconds"], 7);
  EXPECT_EQ(config->limits.task_management_timeout_seconds, 4U);
  EXPECT_EQ(config_to_json(*config)["limits"]["task_management_timeout_seconds"], 4);
  const TargetConfig* db = config->find_target("iqn.2026-11.com.example:db");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->identity, BackIdentity::kGateway);
  EXPECT_EQ(db->back_mutual_chap->secret, "array-secret-12");
  EXPECT_EQ(db->allowed_initiators.size(), 1U);
  EXPECT_EQ(config->find_target("iqn.2026-11.com.example:scratch")->back_end.size_bytes,
            16ULL << 30);
}

TEST(Config, ErrorsNameTheFieldAndTheReason) {
  auto expect = [](json document, std::string_view field, std::string_view reason) {
    const ConfigError error = error_of(document);
    EXPECT_EQ(error.field, field) << error.describe();
    EXPECT_NE(error.message.find(reason), std::string::npos) << error.describe();
  };
  json typo = minimal();
  typo["targets"][0]["backend"] = "ram://1G";
  expect(typo, "targets[0].backend", "unknown setting");

  json bad_url = minimal();
  bad_url["targets"][0]["back_end"] = "nfs://host/x";
  expect(bad_url, "targets[0].back_end", "must start with");

  json bad_name = minimal();
  bad_name["targets"][0]["name"] = "disk0";
  expect(bad_name, "targets[0].name", "iqn.");

  json duplicate = minimal();
  duplicate["targets"].push_back(duplicate["targets"][0]);
  expect(duplicate, "targets[1].name", "configured twice");

  json short_secret = minimal();
  short_secret["targets"][0]["front_chap"] = {{"user", "u"}, {"secret", "short"}};
  expect(short_secret, "targets[0].front_chap.secret", "12 to 256");

  json mutual_alone = minimal();
  mutual_alone["targets"][0]["front_mutual_chap"] = {{"user", "u"},
                                                     {"secret", "long-enough-secret"}};
  expect(mutual_alone, "targets[0].front_mutual_chap", "needs front_chap");

  json bad_listen = minimal();
  bad_listen["listen"] = {"tcp://127.0.0.1:3260", "tcp://127.0.0.1:3260"};
  expect(bad_listen, "listen[1]", "listed twice");

  json bad_buffers = minimal();
  bad_buffers["buffers"] = {{"size", 5000}};
  expect(bad_buffers, "buffers.size", "multiple of 4096");

  json bad_posting = minimal();
  bad_posting["rdma"] = {{"posting", "kernel"}};
  expect(bad_posting, "rdma.posting", "\"auto\", \"thread\" or \"inline\"");
  json unknown_rdma = minimal();
  unknown_rdma["rdma"] = {{"device", "rxe0"}};
  expect(unknown_rdma, "rdma.device", "unknown setting");

  json bad_limits = minimal();
  bad_limits["limits"] = {{"logins_per_portal", 0}};
  expect(bad_limits, "limits.logins_per_portal", "");
  json unknown_limit = minimal();
  unknown_limit["limits"] = {{"sessions", 10}};
  expect(unknown_limit, "limits.sessions", "");

  json ram_chap = minimal();
  ram_chap["targets"][0]["back_end"] = "ram://1G";
  ram_chap["targets"][0]["back_chap"] = {{"user", "u"}, {"secret", "long-enough-secret"}};
  expect(ram_chap, "targets[0].back_end", "built in");

  expect(json::parse(R"({"listen": []})"), "listen", "non-empty");
  expect(json::parse(R"({"workers": 0, "targets": []})"), "workers", "1 to 256");
  expect(json::array(), "", "JSON object");
}

// Plain HTTP carries tokens in the clear: beyond loopback it takes TLS, or
// an explicit opt-in, and the refusal names the field and both ways out.
TEST(Config, PlainHttpBeyondLoopbackIsRefusedUnlessAskedFor) {
  for (const char* loopback : {"127.0.0.1:9860", "127.3.2.1:1", "[::1]:9860", "localhost:9860"}) {
    json document = minimal();
    document["control"] = loopback;
    auto config = config_from_json(document);
    EXPECT_TRUE(config) << loopback << ": " << config.error().describe();
  }
  for (const char* exposed : {"0.0.0.0:9860", "[::]:9860", "10.1.1.5:9860", "127.0.0.1.example:1",
                              "gateway.example:9860"}) {
    json document = minimal();
    document["control"] = exposed;
    const ConfigError error = error_of(document);
    EXPECT_EQ(error.field, "control") << exposed;
    EXPECT_NE(error.message.find("control_tls"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("control_allow_plain_http"), std::string::npos) << error.message;

    document["control_allow_plain_http"] = true;
    auto allowed = config_from_json(document);
    ASSERT_TRUE(allowed) << exposed << ": " << allowed.error().describe();
    EXPECT_TRUE(allowed->control_allow_plain_http);
    EXPECT_EQ(config_to_json(*allowed)["control_allow_plain_http"], true);
  }
  json tls = minimal();
  tls["control"] = "0.0.0.0:9860";
  tls["control_tls"] = {{"cert_file", "/c.pem"}, {"key_file", "/k.pem"}};
  EXPECT_TRUE(config_from_json(tls));

  json both = tls;
  both["control_allow_plain_http"] = true;
  EXPECT_EQ(error_of(both).field, "control_allow_plain_http");
  json no_key = tls;
  no_key["control_tls"].erase("key_file");
  EXPECT_EQ(error_of(no_key).field, "control_tls.key_file");
  json typo = tls;
  typo["control_tls"]["ca_file"] = "/ca.pem";
  EXPECT_EQ(error_of(typo).field, "control_tls.ca_file");
  json not_bool = minimal();
  not_bool["control_allow_plain_http"] = "yes";
  EXPECT_EQ(error_of(not_bool).field, "control_allow_plain_http");

  // The command line's --control is checked the same way after the file.
  Config config = default_config();
  EXPECT_TRUE(check_control_transport(config));
  config.control = *gateway::parse_host_port("0.0.0.0:9860", gateway::Transport::kTcp);
  auto refused = check_control_transport(config);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "control");
}

TEST(Config, IsnsIsOptionalAndValidated) {
  auto without = config_from_json(minimal());
  ASSERT_TRUE(without) << without.error().describe();
  EXPECT_FALSE(without->isns);

  json document = minimal();
  document["isns"] = {{"server", "isns.example.com"}};
  auto config = config_from_json(document);
  ASSERT_TRUE(config) << config.error().describe();
  ASSERT_TRUE(config->isns);
  EXPECT_EQ(config->isns->server.host_port(), "isns.example.com:3205");
  EXPECT_EQ(config->isns->refresh_seconds, 300U);

  document["isns"] = {{"server", "[fd00::5]:3300"}, {"refresh_seconds", 60}};
  config = config_from_json(document);
  ASSERT_TRUE(config) << config.error().describe();
  EXPECT_EQ(config->isns->server.host, "fd00::5");
  EXPECT_EQ(config->isns->server.port, 3300);
  EXPECT_EQ(config->isns->refresh_seconds, 60U);
  EXPECT_EQ(config_to_json(*config)["isns"],
            json::parse(R"({"server": "[fd00::5]:3300", "refresh_seconds": 60})"));
  EXPECT_EQ(config_to_json(*config_from_json(config_to_json(*config))), config_to_json(*config));

  document["isns"] = {{"server", "[fd00::5]"}};
  EXPECT_EQ(config_from_json(document)->isns->server.port, kIsnsPort);

  auto expect = [](json isns, std::string_view field, std::string_view reason) {
    json bad = minimal();
    bad["isns"] = std::move(isns);
    const ConfigError error = error_of(bad);
    EXPECT_EQ(error.field, field) << error.describe();
    EXPECT_NE(error.message.find(reason), std::string::npos) << error.describe();
  };
  expect("isns.example.com", "isns", "must be an object");
  expect(json::object(), "isns.server", "is required");
  expect({{"server", 3205}}, "isns.server", "must be a string");
  expect({{"server", "host:"}}, "isns.server", "empty port");
  expect({{"server", "host"}, {"refresh_seconds", 0}}, "isns.refresh_seconds", "1 to 86400");
  expect({{"server", "host"}, {"refresh", 30}}, "isns.refresh", "unknown setting");
}

TEST(Config, DiscoveryChapIsOptionalValidatedAndNeverShown) {
  auto without = config_from_json(minimal());
  ASSERT_TRUE(without) << without.error().describe();
  EXPECT_FALSE(without->discovery.chap);
  EXPECT_FALSE(config_to_json(*without).contains("discovery"));

  json document = minimal();
  document["discovery"] = {{"chap", {{"user", "host"}, {"secret", "discovery-secret-1"}}},
                           {"mutual_chap", {{"user", "gw"}, {"secret", "gateway-secret-12"}}}};
  auto config = config_from_json(document);
  ASSERT_TRUE(config) << config.error().describe();
  ASSERT_TRUE(config->discovery.chap);
  EXPECT_EQ(config->discovery.chap->user, "host");
  EXPECT_EQ(config->discovery.chap->secret, "discovery-secret-1");
  ASSERT_TRUE(config->discovery.mutual_chap);
  EXPECT_EQ(config->discovery.mutual_chap->secret, "gateway-secret-12");
  const json shown = config_to_json(*config);
  EXPECT_EQ(shown["discovery"]["chap"]["user"], "host");
  EXPECT_EQ(shown["discovery"]["chap"]["secret"], "***");
  EXPECT_EQ(shown["discovery"]["mutual_chap"]["secret"], "***");

  auto expect = [](json discovery, std::string_view field, std::string_view reason) {
    json bad = minimal();
    bad["discovery"] = std::move(discovery);
    const ConfigError error = error_of(bad);
    EXPECT_EQ(error.field, field) << error.describe();
    EXPECT_NE(error.message.find(reason), std::string::npos) << error.describe();
  };
  expect("chap", "discovery", "must be an object");
  expect({{"mutual_chap", {{"user", "gw"}, {"secret", "gateway-secret-12"}}}},
         "discovery.mutual_chap", "needs discovery.chap");
  expect({{"chap", {{"user", "host"}, {"secret", "short"}}}}, "discovery.chap.secret", "12 to 256");
  expect({{"chap", {{"user", "host"}}}}, "discovery.chap.secret", "is required");
  expect({{"auth", "chap"}}, "discovery.auth", "unknown setting");
}

TEST(Config, UrlCredentialsBecomeBackChapAndAreNeverShown) {
  json document = minimal();
  document["targets"][0]["back_end"] =
      "iscsi://gw%storage-secret-9@10.0.0.5:3261/iqn.2026-01.com.example:disk";
  auto config = config_from_json(document);
  ASSERT_TRUE(config) << config.error().describe();
  const TargetConfig& target = config->targets[0];
  ASSERT_TRUE(target.back_chap);
  EXPECT_EQ(target.back_chap->user, "gw");
  EXPECT_EQ(target.back_chap->secret, "storage-secret-9");
  const std::string shown = config_to_json(*config).dump();
  EXPECT_EQ(shown.find("storage-secret-9"), std::string::npos) << shown;
  EXPECT_NE(shown.find("\"secret\":\"***\""), std::string::npos) << shown;
}

TEST(Config, LoadsAFileAndReportsJsonSyntaxErrors) {
  const std::string path = testing::TempDir() + "/isergw-config-test.json";
  {
    std::ofstream out(path);
    out << "// comments are allowed\n" << minimal().dump(2);
  }
  auto config = load_config_file(path);
  ASSERT_TRUE(config) << config.error().describe();
  {
    std::ofstream out(path);
    out << "{\"targets\": [}";
  }
  auto broken = load_config_file(path);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("not valid JSON"), std::string::npos);
  std::remove(path.c_str());
  EXPECT_FALSE(load_config_file(path));
}

TEST(Config, TheEmbeddedDefaultIsValidAndSurvivesARoundTrip) {
  const Config config = default_config();
  auto reparsed = config_from_json(config_to_json(config));
  ASSERT_TRUE(reparsed) << reparsed.error().describe();
  EXPECT_EQ(config_to_json(*reparsed), config_to_json(config));
  EXPECT_EQ(reparsed->targets[0].back_end.kind, gateway::BackEndKind::kRam);
}

// A reload runs on the control API's thread: a config path that is a FIFO
// would block it until someone wrote to the FIFO. It is refused at once.
TEST(ConfigTest, AConfigPathThatIsNoRegularFileIsRefusedWithoutBlocking) {
  const std::string fifo = std::string(getenv("TEST_TMPDIR")) + "/config.fifo";
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const auto loaded = load_config_file(fifo);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("not a regular file"), std::string::npos)
      << loaded.error().message;
  unlink(fifo.c_str());
}

}  // namespace
}  // namespace isergw::control
