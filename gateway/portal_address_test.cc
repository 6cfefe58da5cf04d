#include "gateway/portal_address.h"

#include <gtest/gtest.h>

namespace isergw::gateway {
namespace {

TEST(PortalAddress, ParsesTcpAndIserListenUrls) {
  const auto tcp = parse_listen_url("tcp://127.0.0.1:3261");
  ASSERT_TRUE(tcp) << tcp.error();
  EXPECT_EQ(tcp->transport, Transport::kTcp);
  EXPECT_EQ(tcp->host, "127.0.0.1");
  EXPECT_EQ(tcp->port, 3261);

  const auto iser = parse_listen_url("iser://192.168.77.1");
  ASSERT_TRUE(iser) << iser.error();
  EXPECT_EQ(iser->transport, Transport::kIser);
  EXPECT_EQ(iser->port, kIscsiPort);
  EXPECT_EQ(iser->url(), "iser://192.168.77.1:3260");
}

TEST(PortalAddress, ParsesIpv6InBrackets) {
  const auto address = parse_listen_url("tcp://[::1]:3270");
  ASSERT_TRUE(address) << address.error();
  EXPECT_EQ(address->host, "::1");
  EXPECT_EQ(address->port, 3270);
  EXPECT_EQ(address->host_port(), "[::1]:3270");

  const auto default_port = parse_listen_url("tcp://[fe80::1]");
  ASSERT_TRUE(default_port) << default_port.error();
  EXPECT_EQ(default_port->port, kIscsiPort);
}

TEST(PortalAddress, RejectsWhatAnAdminMightMistype) {
  auto error_of = [](std::string_view url) {
    const auto result = parse_listen_url(url);
    return result ? std::string("accepted") : result.error();
  };
  EXPECT_NE(error_of("127.0.0.1:3260").find("no scheme"), std::string::npos);
  EXPECT_NE(error_of("http://127.0.0.1").find("scheme 'http'"), std::string::npos);
  EXPECT_NE(error_of("tcp://::1").find("brackets"), std::string::npos);
  EXPECT_NE(error_of("tcp://[::1").find("never closes"), std::string::npos);
  EXPECT_NE(error_of("tcp://[::1]x").find("expected ':PORT'"), std::string::npos);
  EXPECT_NE(error_of("tcp://host:0").find("1 to 65535"), std::string::npos);
  EXPECT_NE(error_of("tcp://host:70000").find("1 to 65535"), std::string::npos);
  EXPECT_NE(error_of("tcp://host:32a").find("1 to 65535"), std::string::npos);
  EXPECT_NE(error_of("tcp://host:").find("empty port"), std::string::npos);
  EXPECT_NE(error_of("tcp://:3260").find("no host"), std::string::npos);
  EXPECT_NE(error_of("tcp://host/iqn.x").find("has a path"), std::string::npos);
}

}  // namespace
}  // namespace isergw::gateway
