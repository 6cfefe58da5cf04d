// The REST API against a real running gateway on loopback: every route,
// bad bodies, the bearer token, unknown ids, and changes from several
// threads at once.
#include "control/rest_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "control/testing/running_gateway.h"
#include "control/testing/test_host.h"
#include "tests/support/eventually.h"

namespace isergw::control {
namespace {

using nlohmann::json;
using testing::kTargetA;
using testing::kTargetB;
using testing::RunningGateway;
using testing::TestHost;

std::string error_code(const HttpReply& reply) {
  const json body = json::parse(reply.body, nullptr, false);
  return body.is_object() ? body["error"].value("code", "") : "";
}

std::string error_field(const HttpReply& reply) {
  const json body = json::parse(reply.body, nullptr, false);
  return body.is_object() ? body["error"].value("field", "") : "";
}

uint16_t free_port() {
  boost::asio::io_context context;
  boost::asio::ip::tcp::acceptor acceptor(context, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

TEST(RestApiTest, HealthAndReadiness) {
  RunningGateway gateway;
  EXPECT_EQ(gateway.get_json("/healthz")["status"], "ok");
  const json ready = gateway.get_json("/readyz");
  EXPECT_EQ(ready["ready"], true);
  EXPECT_TRUE(ready["problems"].empty());
}

TEST(RestApiTest, ConfigNeverShowsSecrets) {
  Config config = testing::test_config();
  config.targets[0].front_chap = ChapCredentials{"hosts", "a-long-host-secret"};
  RunningGateway gateway(config);
  const HttpReply reply = gateway.call("GET", "/api/v1/config");
  EXPECT_EQ(reply.status, 200U);
  EXPECT_EQ(reply.body.find("a-long-host-secret"), std::string::npos);
  const json body = json::parse(reply.body);
  EXPECT_EQ(body["targets"][0]["front_chap"]["secret"], "***");
  EXPECT_EQ(body["targets"][0]["front_chap"]["user"], "hosts");
  const HttpReply target = gateway.call("GET", "/api/v1/targets/" + std::string(kTargetA));
  EXPECT_EQ(target.body.find("a-long-host-secret"), std::string::npos);
}

TEST(RestApiTest, TargetsCanBeAddedReadChangedAndDeleted) {
  RunningGateway gateway;
  const std::string b = std::string("/api/v1/targets/") + kTargetB;
  EXPECT_EQ(gateway.call("GET", b).status, 404U);

  HttpReply created = gateway.call("POST", "/api/v1/targets",
                                   json{{"name", kTargetB}, {"back_end", "ram://8M"}}.dump());
  EXPECT_EQ(created.status, 201U) << created.body;
  EXPECT_EQ(json::parse(created.body)["back_end"], "ram://8M");
  EXPECT_EQ(gateway
                .call("POST", "/api/v1/targets",
                      json{{"name", kTargetB}, {"back_end", "ram://8M"}}.dump())
                .status,
            409U);
  EXPECT_EQ(gateway.get_json("/api/v1/targets").size(), 2U);
  EXPECT_EQ(gateway.get_json(b)["name"], kTargetB);

  HttpReply changed = gateway.call(
      "PUT", b,
      json{{"back_end", "null://1G"}, {"allowed_initiators", {"iqn.1993-08.org.debian:01:x"}}}
          .dump());
  EXPECT_EQ(changed.status, 200U) << changed.body;
  EXPECT_EQ(gateway.get_json(b)["back_end"], "null://1G");
  EXPECT_EQ(gateway.gateway().config().find_target(kTargetB)->allowed_initiators.size(), 1U);

  const std::string c = "/api/v1/targets/iqn.2026-11.io.isergw.test:c";
  EXPECT_EQ(gateway.call("PUT", c, json{{"back_end", "ram://1M"}}.dump()).status, 201U);

  EXPECT_EQ(gateway.call("DELETE", b).status, 204U);
  EXPECT_EQ(gateway.call("DELETE", b).status, 404U);
  EXPECT_EQ(gateway.call("GET", b).status, 404U);
  EXPECT_EQ(gateway.gateway().config().targets.size(), 2U);
}

TEST(RestApiTest, BadBodiesAreRefusedWithTheField) {
  RunningGateway gateway;
  HttpReply reply = gateway.call("POST", "/api/v1/targets", "{not json");
  EXPECT_EQ(reply.status, 400U);
  EXPECT_EQ(error_code(reply), "invalid_json");

  reply = gateway.call("POST", "/api/v1/targets", "[1, 2]");
  EXPECT_EQ(reply.status, 400U);
  EXPECT_EQ(error_code(reply), "invalid_json");

  reply = gateway.call("POST", "/api/v1/targets",
                       json{{"name", kTargetB}, {"back_end", "ram://12Q"}}.dump());
  EXPECT_EQ(reply.status, 400U);
  EXPECT_EQ(error_code(reply), "invalid_config");
  EXPECT_EQ(error_field(reply), "back_end");

  reply =
      gateway.call("POST", "/api/v1/targets",
                   json{{"name", kTargetB}, {"back_end", "ram://1M"}, {"colour", "red"}}.dump());
  EXPECT_EQ(reply.status, 400U);
  EXPECT_EQ(error_field(reply), "colour");

  reply = gateway.call("POST", "/api/v1/targets", json{{"name", "not-an-iqn"}}.dump());
  EXPECT_EQ(reply.status, 400U);
  EXPECT_EQ(error_field(reply), "back_end");

  reply = gateway.call("PUT", std::string("/api/v1/targets/") + kTargetA,
                       json{{"name", kTargetB}, {"back_end", "ram://1M"}}.dump());
  EXPECT_EQ(reply.status, 400U);
  EXPECT_EQ(error_field(reply), "name");

  // Relaying to iser:// needs the RDMA CM; where there is none, the error
  // names the field.
  if (access("/dev/infiniband/rdma_cm", F_OK) != 0) {
    reply = gateway.call(
        "POST", "/api/v1/targets",
        json{{"name", kTargetB}, {"back_end", "iser://127.0.0.1:1/iqn.2026-11.x:y"}}.dump());
    EXPECT_EQ(reply.status, 400U);
    EXPECT_EQ(error_field(reply), "back_end");
    EXPECT_THAT(reply.body, ::testing::HasSubstr("needs RDMA"));
  }

  reply = gateway.call("POST", "/api/v1/portals", json{{"url", "udp://1.2.3.4"}}.dump());
  EXPECT_EQ(reply.status, 400U);
  EXPECT_EQ(error_field(reply), "url");
  EXPECT_EQ(gateway.gateway().config().targets.size(), 1U);
}

TEST(RestApiTest, ChangesNeedTheBearerToken) {
  RunningGateway gateway;
  const std::string body = json{{"name", kTargetB}, {"back_end", "ram://1M"}}.dump();
  auto reply = gateway.client(std::nullopt).request("POST", "/api/v1/targets", body);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401U);
  EXPECT_EQ(error_code(*reply), "unauthorized");
  reply = gateway.client(std::string("a-wrong-token-of-the-test-01234"))
              .request("DELETE", std::string("/api/v1/targets/") + kTargetA);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401U);
  // Reading needs no token.
  reply = gateway.client(std::nullopt).request("GET", "/api/v1/targets");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200U);
  EXPECT_EQ(gateway.gateway().config().targets.size(), 1U);
}

TEST(RestApiTest, WithoutATokenFileChangesAreRefused) {
  RunningGateway gateway(testing::test_config(), "", std::nullopt);
  const HttpReply reply = gateway.call("DELETE", std::string("/api/v1/targets/") + kTargetA);
  EXPECT_EQ(reply.status, 403U);
  EXPECT_EQ(error_code(reply), "changes_disabled");
  EXPECT_NE(reply.body.find("control_token_file"), std::string::npos);
  EXPECT_EQ(gateway.gateway().config().targets.size(), 1U);
}

TEST(RestApiTest, UnknownPathsAndMethods) {
  RunningGateway gateway;
  HttpReply reply = gateway.call("GET", "/api/v1/nothing");
  EXPECT_EQ(reply.status, 404U);
  EXPECT_EQ(error_code(reply), "not_found");
  reply = gateway.call("PATCH", "/api/v1/targets");
  EXPECT_EQ(reply.status, 405U);
  EXPECT_EQ(error_code(reply), "method_not_allowed");
}

TEST(RestApiTest, PortalsCanBeAddedAndRemoved) {
  RunningGateway gateway;
  json portals = gateway.get_json("/api/v1/portals");
  ASSERT_EQ(portals.size(), 1U);
  EXPECT_EQ(portals[0]["listening"], true);
  EXPECT_EQ(portals[0]["bound_port"], gateway.portal_port());

  const uint16_t port = free_port();
  const std::string url = "tcp://127.0.0.1:" + std::to_string(port);
  HttpReply reply = gateway.call("POST", "/api/v1/portals", json{{"url", url}}.dump());
  ASSERT_EQ(reply.status, 201U) << reply.body;
  EXPECT_EQ(json::parse(reply.body)["bound_port"], port);
  EXPECT_EQ(gateway.call("POST", "/api/v1/portals", json{{"url", url}}.dump()).status, 409U);
  {
    TestHost host(port);
    EXPECT_TRUE(host.login(kTargetA)) << host.error();
  }
  reply = gateway.call("DELETE", "/api/v1/portals/" + HttpClient::encode_segment(url));
  EXPECT_EQ(reply.status, 204U) << reply.body;
  EXPECT_EQ(gateway.get_json("/api/v1/portals").size(), 1U);
  TestHost refused(port);
  EXPECT_FALSE(refused.login(kTargetA));

  EXPECT_EQ(gateway.call("DELETE", "/api/v1/portals/" + HttpClient::encode_segment(url)).status,
            404U);
  // The last portal stays: a gateway no host can reach is a mistake.
  const std::string last = gateway.gateway().config().listen[0].url();
  EXPECT_EQ(gateway.call("DELETE", "/api/v1/portals/" + HttpClient::encode_segment(last)).status,
            409U);
}

TEST(RestApiTest, SessionsShowBothLegsAndCanBeLoggedOut) {
  RunningGateway gateway;
  TestHost host(gateway.portal_port());
  ASSERT_TRUE(host.login(kTargetA, "iqn.1993-08.org.debian:01:sessions")) << host.error();
  std::vector<uint8_t> data(4096, 0x5a);
  ASSERT_EQ(host.write(0, data), 0);

  const json sessions = gateway.get_json("/api/v1/sessions");
  ASSERT_EQ(sessions.size(), 1U);
  const json& session = sessions[0];
  EXPECT_EQ(session["fabric"], "tcp");
  EXPECT_EQ(session["front"]["initiator"], "iqn.1993-08.org.debian:01:sessions");
  EXPECT_EQ(session["front"]["target"], kTargetA);
  EXPECT_EQ(session["front"]["type"], "normal");
  EXPECT_NE(session["front"]["tsih"], 0);
  EXPECT_EQ(session["front"]["parameters"]["ImmediateData"], true);
  EXPECT_EQ(session["front"]["statistics"]["commands"], 1);
  EXPECT_EQ(session["front"]["statistics"]["written_bytes"], 4096);
  // A TCP front solicits write data only when the storage asks for it.
  EXPECT_EQ(session["front"]["statistics"]["fetched_ahead_bytes"], 0);
  EXPECT_EQ(session["front"]["statistics"]["fetch_ahead_declined"], 0);
  EXPECT_EQ(session["back"]["back_end"], "ram://16M");
  EXPECT_EQ(session["back"]["state"], "logged in");
  EXPECT_EQ(session["back"]["commands"], 1);

  const std::string path = "/api/v1/sessions/" + session["id"].dump();
  EXPECT_EQ(gateway.get_json(path)["id"], session["id"]);
  EXPECT_EQ(gateway.call("GET", "/api/v1/sessions/999999").status, 404U);
  EXPECT_EQ(gateway.call("GET", "/api/v1/sessions/abc").status, 404U);
  EXPECT_EQ(gateway.call("DELETE", "/api/v1/sessions/999999").status, 404U);

  EXPECT_EQ(gateway.call("DELETE", path).status, 204U);
  EXPECT_TRUE(host.closed_by_gateway());
  EXPECT_TRUE(testing_support::eventually([&] { return gateway.gateway().sessions().empty(); }));
}

TEST(RestApiTest, BackEndsAreProbed) {
  RunningGateway gateway;
  json backends = gateway.get_json("/api/v1/backends");
  ASSERT_EQ(backends.size(), 1U);
  EXPECT_EQ(backends[0]["target"], kTargetA);
  EXPECT_EQ(backends[0]["healthy"], true);
  EXPECT_EQ(backends[0]["detail"], "built in");

  // Storage that is not there makes the gateway not ready.
  const std::string url =
      "iscsi://127.0.0.1:" + std::to_string(free_port()) + "/iqn.2026-11.io.isergw.test:gone";
  ASSERT_EQ(
      gateway.call("POST", "/api/v1/targets", json{{"name", kTargetB}, {"back_end", url}}.dump())
          .status,
      201U);
  backends = gateway.get_json("/api/v1/backends");
  ASSERT_EQ(backends.size(), 2U);
  EXPECT_EQ(backends[1]["healthy"], false);
  EXPECT_NE(backends[1]["detail"].get<std::string>().find("cannot connect"), std::string::npos);
  const HttpReply ready = gateway.call("GET", "/readyz");
  EXPECT_EQ(ready.status, 503U);
  EXPECT_NE(ready.body.find(kTargetB), std::string::npos);
}

class ReloadTest : public ::testing::Test {
 protected:
  void write_config(const std::string& text) { std::ofstream(path_) << text; }
  const std::string path_ = std::string(getenv("TEST_TMPDIR")) + "/isergw.json";
};

TEST_F(ReloadTest, ReloadAppliesTheFileAndABadFileChangesNothing) {
  // The file's portal and control settings must equal the running ones.
  Config config = testing::test_config();
  config.listen = {testing::loopback(free_port())};
  config.control = testing::loopback(9);
  const std::string base = R"("workers": 2, "buffers": {"size": 65536, "per_worker": 64},
      "control": "127.0.0.1:9", "listen": [")" +
                           config.listen[0].url() + R"("],)";
  write_config("{" + base + R"("targets": [{"name": ")" + kTargetA +
               R"(", "back_end": "ram://16M"}]})");
  RunningGateway gateway(config, path_);

  write_config("{" + base + R"( // a comment is allowed
      "targets": [{"name": ")" +
               kTargetA + R"(", "back_end": "ram://16M"},
                  {"name": ")" +
               kTargetB + R"(", "back_end": "null://1G"}]})");
  HttpReply reply = gateway.call("POST", "/api/v1/config/reload");
  EXPECT_EQ(reply.status, 200U) << reply.body;
  EXPECT_EQ(json::parse(reply.body)["targets"].size(), 2U);

  write_config("{" + base + R"("targets": [{"name": ")" + kTargetA +
               R"(", "back_end": "disk://"}]})");
  reply = gateway.call("POST", "/api/v1/config/reload");
  EXPECT_EQ(reply.status, 400U);
  EXPECT_EQ(error_field(reply), "targets[0].back_end");
  EXPECT_EQ(gateway.gateway().config().targets.size(), 2U);

  write_config("{" + base + R"("workers": 3, "targets": []})");
  reply = gateway.call("POST", "/api/v1/config/reload");
  EXPECT_EQ(reply.status, 400U);
  EXPECT_EQ(gateway.gateway().config().targets.size(), 2U);
}

TEST(RestApiTest, ReloadWithoutAConfigFileIsAConflict) {
  RunningGateway gateway;
  const HttpReply reply = gateway.call("POST", "/api/v1/config/reload");
  EXPECT_EQ(reply.status, 409U);
  EXPECT_NE(reply.body.find("--config"), std::string::npos);
}

TEST(RestApiTest, ConcurrentChangesFromSeveralThreadsAllLand) {
  RunningGateway gateway;
  constexpr int kThreads = 4;
  constexpr int kRounds = 8;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        const std::string name =
            "iqn.2026-11.io.isergw.test:t" + std::to_string(t) + "-" + std::to_string(round);
        auto added = gateway.client().request(
            "POST", "/api/v1/targets", json{{"name", name}, {"back_end", "null://1M"}}.dump());
        if (!added || added->status != 201) ++failures;
        // Every other one is deleted again, so the end state is known.
        if (round % 2 == 0) {
          auto deleted = gateway.client().request("DELETE", "/api/v1/targets/" + name);
          if (!deleted || deleted->status != 204) ++failures;
        }
        auto listed = gateway.client().request("GET", "/api/v1/targets");
        if (!listed || listed->status != 200) ++failures;
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(failures, 0);
  const Config config = gateway.gateway().config();
  EXPECT_EQ(config.targets.size(), 1U + kThreads * kRounds / 2);
  for (int t = 0; t < kThreads; ++t) {
    for (int round = 0; round < kRounds; ++round) {
      const std::string name =
          "iqn.2026-11.io.isergw.test:t" + std::to_string(t) + "-" + std::to_string(round);
      EXPECT_EQ(config.find_target(name) != nullptr, round % 2 == 1) << name;
    }
  }
  // The running map agrees with the config.
  EXPECT_NE(gateway.gateway().targets()->find("iqn.2026-11.io.isergw.test:t0-1"), nullptr);
  EXPECT_EQ(gateway.gateway().targets()->find("iqn.2026-11.io.isergw.test:t0-0"), nullptr);
}

}  // namespace
}  // namespace isergw::control
