#include "control/isns_registration.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace isergw::control {
namespace {

using namespace std::chrono_literals;

TEST(IsnsRegistration, InfoNamesTheGatewayItsTargetsAndPortals) {
  Config config = default_config();
  config.gateway_name = "iqn.2026-11.com.example:gw1";
  config.listen.push_back(*gateway::parse_listen_url("tcp://0.0.0.0:3261"));
  const IsnsRegistrationInfo info = isns_registration_info(config);
  EXPECT_EQ(info.entity, "iqn.2026-11.com.example:gw1");
  ASSERT_EQ(info.targets.size(), 1U);
  EXPECT_EQ(info.targets[0], "iqn.2026-11.io.isergw:ram0");
  ASSERT_EQ(info.portals.size(), 2U);
  EXPECT_EQ(info.portals[1].port, 3261);
}

// The real server is exercised by tests/integration/isns_registration_test.
// Here: a server that refuses connections leaves the gateway unregistered,
// and stopping does not hang on it.
TEST(IsnsRegistration, AServerThatIsDownIsRetriedAndStopReturns) {
  // A port that was free a moment ago and now refuses connections.
  const int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  close(probe);

  IsnsConfig config{.server = {gateway::Transport::kTcp, "127.0.0.1", ntohs(address.sin_port)},
                    .refresh_seconds = 1};
  IsnsRegistration registration(config, isns_registration_info(default_config()));
  registration.start();
  EXPECT_FALSE(registration.wait_registered(300ms));
  registration.stop();
  EXPECT_FALSE(registration.registered());
}

TEST(IsnsRegistration, NothingToRegisterStartsNothing) {
  Config config = default_config();
  config.targets.clear();
  IsnsRegistration registration({.server = {gateway::Transport::kTcp, "127.0.0.1", 1}},
                                isns_registration_info(config));
  registration.start();
  EXPECT_FALSE(registration.registered());
}

}  // namespace
}  // namespace isergw::control
