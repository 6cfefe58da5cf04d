// Named tokens against a running gateway: what each role may do, the audit
// line every change and every refusal leaves (and the secrets it never
// holds), the counts /metrics shows per token, and tokens rotated by a
// config reload.
#include "control/control_audit.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/testing/running_gateway.h"

namespace isergw::control {
namespace {

using nlohmann::json;
using testing::kTargetA;
using testing::kTargetB;
using testing::metric_value;
using testing::RunningGateway;

constexpr const char* kAlice = "alice-token-0123456789abcdef";
constexpr const char* kBob = "bob-token-0123456789abcdef";
constexpr const char* kReader = "reader-token-0123456789abcdef";
constexpr const char* kChapSecret = "a-chap-secret-of-the-test";

// Audit lines, kept for the test to read.
struct Lines {
  std::mutex mutex;
  std::vector<std::string> lines;
  ControlAudit::Writer writer() {
    return [this](const std::string& line) {
      std::lock_guard lock(mutex);
      lines.push_back(line);
    };
  }
  std::string last() {
    std::lock_guard lock(mutex);
    return lines.empty() ? "" : lines.back();
  }
  std::string all() {
    std::lock_guard lock(mutex);
    std::string text;
    for (const auto& line : lines)
      text += line + "\n";
    return text;
  }
};

ApiTokens named_tokens() {
  auto tokens = parse_api_tokens(
      std::string("alice admin ") + kAlice + "\nreader read-only " + kReader + "\n", "test");
  EXPECT_TRUE(tokens) << tokens.error();
  return *tokens;
}

HttpReply ask(const RunningGateway& gateway, std::optional<std::string> token,
              const std::string& method, const std::string& path, const std::string& body = "") {
  auto reply = gateway.client(std::move(token)).request(method, path, body);
  EXPECT_TRUE(reply) << reply.error();
  return reply ? *reply : HttpReply{};
}

std::string error_code(const HttpReply& reply) {
  const json body = json::parse(reply.body, nullptr, false);
  return body.is_object() ? body["error"].value("code", "") : "";
}

TEST(ControlAuditTest, NamedTokensCloseReadsAndAReadOnlyTokenCannotChange) {
  Lines audit;
  RunningGateway gateway(testing::test_config(), "", named_tokens(), "", audit.writer());
  EXPECT_EQ(ask(gateway, std::nullopt, "GET", "/api/v1/targets").status, 401U);
  EXPECT_EQ(ask(gateway, std::string("not-a-token-0123456789"), "GET", "/metrics").status, 401U);
  EXPECT_EQ(ask(gateway, kReader, "GET", "/api/v1/targets").status, 200U);
  EXPECT_EQ(ask(gateway, kAlice, "GET", "/api/v1/config").status, 200U);
  // Health checks stay open for load balancers and systemd.
  EXPECT_EQ(ask(gateway, std::nullopt, "GET", "/healthz").status, 200U);
  EXPECT_NE(ask(gateway, std::nullopt, "GET", "/readyz").status, 401U);

  const HttpReply refused =
      ask(gateway, kReader, "DELETE", std::string("/api/v1/targets/") + kTargetA);
  EXPECT_EQ(refused.status, 403U);
  EXPECT_EQ(error_code(refused), "forbidden");
  EXPECT_NE(refused.body.find("reader is read-only"), std::string::npos) << refused.body;
  EXPECT_EQ(gateway.gateway().config().targets.size(), 1U);
  EXPECT_NE(audit.last().find("refused (read_only) token=reader: DELETE /api/v1/targets/{name}"),
            std::string::npos)
      << audit.last();

  EXPECT_EQ(ask(gateway, kAlice, "DELETE", std::string("/api/v1/targets/") + kTargetA).status,
            204U);
  EXPECT_TRUE(gateway.gateway().config().targets.empty());
}

TEST(ControlAuditTest, EveryChangeIsLoggedWithItsTokenAndNoSecret) {
  Lines audit;
  RunningGateway gateway(testing::test_config(), "", named_tokens(), "", audit.writer());
  const json body = {{"back_end", "ram://1M"},
                     {"front_chap", {{"user", "host"}, {"secret", kChapSecret}}}};
  HttpReply reply =
      ask(gateway, kAlice, "PUT", std::string("/api/v1/targets/") + kTargetB, body.dump());
  ASSERT_EQ(reply.status, 201U) << reply.body;
  EXPECT_EQ(audit.last(), std::string("change by token=alice: PUT /api/v1/targets/{name} target=") +
                              kTargetB + " fields=back_end,front_chap -> 201 applied");

  reply = ask(gateway, kAlice, "POST", "/api/v1/targets",
              json{{"name", kTargetB}, {"back_end", "ram://1M"}}.dump());
  EXPECT_EQ(reply.status, 409U);
  EXPECT_EQ(audit.last(), std::string("change by token=alice: POST /api/v1/targets target=") +
                              kTargetB + " fields=back_end,name -> 409 rejected");

  reply = ask(gateway, kAlice, "DELETE", "/api/v1/sessions/77");
  EXPECT_EQ(reply.status, 404U);
  EXPECT_EQ(audit.last(),
            "change by token=alice: DELETE /api/v1/sessions/{id} session=77 -> 404 rejected");

  // A name in the path cannot forge fields of the line.
  reply = ask(gateway, kAlice, "DELETE", "/api/v1/targets/x%20fields%3Dall%0Aforged");
  EXPECT_EQ(audit.last(),
            "change by token=alice: DELETE /api/v1/targets/{name} "
            "target=x\\x20fields=all\\x0aforged -> 404 rejected");

  EXPECT_EQ(ask(gateway, std::nullopt, "POST", "/api/v1/targets", body.dump()).status, 401U);
  EXPECT_EQ(audit.last(), "refused (unauthorized) token=(none): POST /api/v1/targets -> 401");

  const std::string everything = audit.all();
  for (const char* secret : {kChapSecret, kAlice, kReader}) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret << " in\n" << everything;
  }
}

TEST(ControlAuditTest, MetricsCountChangesPerTokenAndRefusals) {
  Lines audit;
  RunningGateway gateway(testing::test_config(), "", named_tokens(), "", audit.writer());
  const auto scrape = [&] {
    const HttpReply reply = ask(gateway, kReader, "GET", "/metrics");
    EXPECT_EQ(reply.status, 200U);
    return reply.body;
  };
  const auto value = [](const std::string& text, const std::string& sample) {
    const auto found = metric_value(text, sample);
    EXPECT_TRUE(found) << "no sample " << sample << " in\n" << text;
    return found.value_or(-1);
  };
  const std::string applied = R"(isergw_control_changes_total{result="applied",token="alice"})";
  const std::string rejected = R"(isergw_control_changes_total{result="rejected",token="alice"})";
  const std::string read_only =
      R"(isergw_control_refused_requests_total{reason="read_only",token="reader"})";
  const std::string unauthorized =
      R"(isergw_control_refused_requests_total{reason="unauthorized",token=""})";
  std::string text = scrape();
  // Known tokens are there at zero before they act.
  EXPECT_EQ(value(text, applied), 0);
  EXPECT_EQ(value(text, rejected), 0);
  EXPECT_EQ(value(text, unauthorized), 0);
  EXPECT_NE(text.find("# TYPE isergw_control_changes_total counter"), std::string::npos);

  const std::string target_b = json{{"name", kTargetB}, {"back_end", "null://1M"}}.dump();
  ASSERT_EQ(ask(gateway, kAlice, "POST", "/api/v1/targets", target_b).status, 201U);
  ASSERT_EQ(ask(gateway, kAlice, "POST", "/api/v1/targets", target_b).status, 409U);
  ASSERT_EQ(ask(gateway, kAlice, "DELETE", std::string("/api/v1/targets/") + kTargetB).status,
            204U);
  ASSERT_EQ(ask(gateway, kReader, "POST", "/api/v1/targets", target_b).status, 403U);
  ASSERT_EQ(ask(gateway, std::nullopt, "GET", "/api/v1/sessions").status, 401U);
  ASSERT_EQ(ask(gateway, std::string(kBob), "POST", "/api/v1/targets", target_b).status, 401U);
  text = scrape();
  EXPECT_EQ(value(text, applied), 2);
  EXPECT_EQ(value(text, rejected), 1);
  EXPECT_EQ(value(text, read_only), 1);
  EXPECT_EQ(value(text, unauthorized), 2);
  // A read-only token never changes anything: it has no change series.
  EXPECT_EQ(text.find(R"(isergw_control_changes_total{result="applied",token="reader"})"),
            std::string::npos);
}

TEST(ControlAuditTest, ASingleTokenFileKeepsReadsOpenAndIsTheAdmin) {
  Lines audit;
  RunningGateway gateway(testing::test_config(), "", ApiTokens::single_admin(testing::kToken), "",
                         audit.writer());
  EXPECT_EQ(ask(gateway, std::nullopt, "GET", "/api/v1/targets").status, 200U);
  EXPECT_EQ(ask(gateway, std::nullopt, "GET", "/metrics").status, 200U);
  const std::string target_b = json{{"name", kTargetB}, {"back_end", "null://1M"}}.dump();
  EXPECT_EQ(ask(gateway, std::nullopt, "POST", "/api/v1/targets", target_b).status, 401U);
  EXPECT_EQ(ask(gateway, testing::kToken, "POST", "/api/v1/targets", target_b).status, 201U);
  EXPECT_EQ(audit.last(), std::string("change by token=admin: POST /api/v1/targets target=") +
                              kTargetB + " fields=back_end,name -> 201 applied");
}

size_t lines_starting(const std::vector<std::string>& lines, const std::string& start) {
  return static_cast<size_t>(std::count_if(
      lines.begin(), lines.end(), [&](const std::string& l) { return l.rfind(start, 0) == 0; }));
}

TEST(ControlAuditTest, RefusalLinesAreThrottledButAllCountedAndChangesAllLogged) {
  Lines audit;
  ControlAudit control_audit(audit.writer());
  const auto start = std::chrono::steady_clock::now();
  const auto at = [&](int milliseconds) { return start + std::chrono::milliseconds(milliseconds); };
  // A flood without a token within one second: the first 20 are written.
  for (int i = 0; i < 50; ++i)
    control_audit.refused("unauthorized", "", "GET", "/api/v1/targets", 401, at(i * 10));
  EXPECT_EQ(audit.lines.size(), ControlAudit::kRefusalLinesPerSecond) << audit.all();
  // Amid it, a named token's refusal and every change still get their line.
  control_audit.refused("read_only", "reader", "POST", "/api/v1/targets", 403, at(600));
  for (int i = 0; i < 30; ++i)
    control_audit.change("alice", "DELETE", "/api/v1/sessions/{id}", "session=7", 404);
  EXPECT_EQ(lines_starting(audit.lines, "refused (read_only) token=reader"), 1U);
  EXPECT_EQ(lines_starting(audit.lines, "change by token=alice"), 30U);

  // After the second, the next refusal is written, behind a line that says
  // how many were left out.
  control_audit.refused("unauthorized", "", "GET", "/metrics", 401, at(1600));
  ASSERT_GE(audit.lines.size(), 2U);
  EXPECT_EQ(audit.lines[audit.lines.size() - 2],
            "30 more refused requests without a token were left out of the audit log in the "
            "last second (isergw_control_refused_requests_total counts every one)");
  EXPECT_EQ(audit.last(), "refused (unauthorized) token=(none): GET /metrics -> 401");
  EXPECT_EQ(lines_starting(audit.lines, "refused (unauthorized)"),
            ControlAudit::kRefusalLinesPerSecond + 1);

  // Every one is counted for /metrics.
  const ControlRequestCounts counts = control_audit.counts();
  EXPECT_EQ(counts.refused.at({"unauthorized", ""}), 51U);
  EXPECT_EQ(counts.refused.at({"read_only", "reader"}), 1U);
  EXPECT_EQ(counts.rejected.at("alice"), 30U);
}

TEST(ControlAuditTest, AFloodOfUnauthorizedRequestsIsCountedWholeAndChangesStillLogged) {
  Lines audit;
  RunningGateway gateway(testing::test_config(), "", named_tokens(), "", audit.writer());
  constexpr int kFlood = 60;
  for (int i = 0; i < kFlood; ++i)
    ASSERT_EQ(ask(gateway, std::nullopt, "GET", "/api/v1/sessions").status, 401U);
  const HttpReply metrics = ask(gateway, kReader, "GET", "/metrics");
  EXPECT_EQ(
      metric_value(metrics.body,
                   R"(isergw_control_refused_requests_total{reason="unauthorized",token=""})"),
      kFlood);
  EXPECT_EQ(ask(gateway, kAlice, "DELETE", "/api/v1/sessions/77").status, 404U);
  EXPECT_EQ(audit.last(),
            "change by token=alice: DELETE /api/v1/sessions/{id} session=77 -> 404 rejected");
}

uint16_t free_port() {
  boost::asio::io_context context;
  boost::asio::ip::tcp::acceptor acceptor(context, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

TEST(ControlAuditTest, AReloadRotatesTheTokensAndABadTokenFileChangesNothing) {
  const std::string directory = getenv("TEST_TMPDIR");
  const std::string config_path = directory + "/rotate.json";
  const std::string token_path = directory + "/rotate-tokens";
  const auto write_tokens = [&](const std::string& text, mode_t mode) {
    std::ofstream(token_path) << text;
    ::chmod(token_path.c_str(), mode);
  };
  write_tokens(std::string("alice admin ") + kAlice + "\n", 0600);
  // The file's restart-only settings equal the running ones.
  Config config = testing::test_config();
  config.listen = {testing::loopback(free_port())};
  config.control = testing::loopback(9);
  config.control_token_file = token_path;
  std::ofstream(config_path) << R"({"workers": 2, "buffers": {"size": 65536, "per_worker": 64},
      "control": "127.0.0.1:9", "control_token_file": ")"
                             << token_path << R"(", "listen": [")" << config.listen[0].url()
                             << R"("], "targets": [{"name": ")" << kTargetA
                             << R"(", "back_end": "ram://16M"}]})";
  auto tokens = read_api_tokens_file(token_path);
  ASSERT_TRUE(tokens) << tokens.error();
  Lines audit;
  RunningGateway gateway(config, config_path, std::move(*tokens), token_path, audit.writer());

  // Bob replaces Alice.
  write_tokens(std::string("bob admin ") + kBob + "\n", 0600);
  HttpReply reply = ask(gateway, kAlice, "POST", "/api/v1/config/reload");
  ASSERT_EQ(reply.status, 200U) << reply.body;
  EXPECT_EQ(audit.last(), "tokens reloaded by token=alice: bob (admin)");
  EXPECT_EQ(ask(gateway, kAlice, "GET", "/api/v1/targets").status, 401U);
  EXPECT_EQ(ask(gateway, kBob, "GET", "/api/v1/targets").status, 200U);

  // A token file others may read is refused, and Bob's token still works.
  write_tokens(std::string("carol admin ") + kAlice + "\n", 0644);
  reply = ask(gateway, kBob, "POST", "/api/v1/config/reload");
  EXPECT_EQ(reply.status, 400U);
  EXPECT_EQ(json::parse(reply.body)["error"]["field"], "control_token_file");
  EXPECT_NE(reply.body.find("chmod 600"), std::string::npos) << reply.body;
  EXPECT_EQ(ask(gateway, kBob, "GET", "/api/v1/targets").status, 200U);
  EXPECT_EQ(ask(gateway, kAlice, "GET", "/api/v1/targets").status, 401U);
}

}  // namespace
}  // namespace isergw::control
