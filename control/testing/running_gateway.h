// A real gateway for the control plane's tests: workers, a TCP portal on an
// ephemeral loopback port, the REST API on another, ram:// targets.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "control/http_client.h"
#include "control/http_server.h"
#include "control/rest_api.h"
#include "gateway/gateway.h"

namespace isergw::control::testing {

inline constexpr const char* kToken = "a-token-of-the-test-0123456789";
inline constexpr const char* kTargetA = "iqn.2026-11.io.isergw.test:a";
inline constexpr const char* kTargetB = "iqn.2026-11.io.isergw.test:b";

inline gateway::PortalAddress loopback(uint16_t port) {
  return gateway::PortalAddress{gateway::Transport::kTcp, "127.0.0.1", port};
}

inline TargetConfig ram_target(const std::string& name, const std::string& size = "16M") {
  TargetConfig target;
  target.name = name;
  target.back_end = *gateway::parse_back_end_url("ram://" + size);
  return target;
}

// Two workers with small pools, one portal, target A on ram://16M.
inline Config test_config() {
  Config config;
  config.workers = 2;
  config.buffers = {.buffer_size = 65536, .buffers_per_worker = 64};
  config.listen = {loopback(0)};
  config.control = loopback(0);
  config.targets = {ram_target(kTargetA)};
  return config;
}

class RunningGateway {
 public:
  // `token`: one admin token, as the single-token file format gives.
  explicit RunningGateway(Config config = test_config(), std::string config_path = "",
                          std::optional<std::string> token = std::string(kToken))
      : RunningGateway(std::move(config), std::move(config_path),
                       token ? ApiTokens::single_admin(*token) : ApiTokens{}) {}

  RunningGateway(Config config, std::string config_path, ApiTokens tokens,
                 std::string token_file = "", ControlAudit::Writer audit = nullptr) {
    auto started = gateway::Gateway::start(std::move(config),
                                           {.config_path = std::move(config_path),
                                            .overrides = nullptr,
                                            .force_no_huge = true,
                                            .probe_timeout = std::chrono::milliseconds(500)});
    if (!started) {
      ADD_FAILURE() << started.error();
      return;
    }
    gateway_ = std::move(*started);
    api_ = std::make_unique<RestApi>(*gateway_, std::move(tokens), std::move(token_file),
                                     std::move(audit));
    server_ = std::make_unique<HttpServer>(
        [this](const HttpRequest& request) { return api_->handle(request); });
    auto serving = server_->start(loopback(0));
    if (!serving) ADD_FAILURE() << serving.error();
  }
  ~RunningGateway() {
    if (server_) server_->stop();
    if (gateway_) gateway_->stop();
  }

  gateway::Gateway& gateway() { return *gateway_; }
  uint16_t control_port() const { return server_->bound_port(); }
  uint16_t portal_port() const { return gateway_->portals().front().bound_port; }
  HttpClient client(std::optional<std::string> token = std::string(kToken)) const {
    return HttpClient("127.0.0.1", control_port(), std::move(token));
  }

  // The request's reply; a transport failure fails the test.
  HttpReply call(const std::string& method, const std::string& path,
                 const std::string& body = "") const {
    auto reply = client().request(method, path, body);
    EXPECT_TRUE(reply) << reply.error();
    return reply ? *reply : HttpReply{};
  }
  nlohmann::json get_json(const std::string& path) const {
    const HttpReply reply = call("GET", path);
    EXPECT_EQ(reply.status, 200U) << path << ": " << reply.body;
    return nlohmann::json::parse(reply.body, nullptr, false);
  }

 private:
  std::unique_ptr<gateway::Gateway> gateway_;
  std::unique_ptr<RestApi> api_;
  std::unique_ptr<HttpServer> server_;
};

// The value of one sample in a /metrics text, or nullopt when absent.
inline std::optional<double> metric_value(const std::string& text, const std::string& sample) {
  const std::string prefix = sample + " ";
  size_t at = 0;
  while ((at = text.find(prefix, at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + prefix.size()));
    at += prefix.size();
  }
  return std::nullopt;
}

}  // namespace isergw::control::testing
