#include "gateway/back_end_health.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace isergw::gateway {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

control::TargetConfig target(const std::string& url) {
  control::TargetConfig target;
  target.name = "iqn.2026-11.io.isergw.test:probe";
  target.back_end = *parse_back_end_url(url);
  return target;
}

TEST(BackEndHealthTest, BuiltInsAreHealthyAndPortalsAreProbed) {
  asio::io_context context;
  tcp::acceptor listening(context, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t open_port = listening.local_endpoint().port();
  uint16_t closed_port = 0;
  {
    tcp::acceptor closed(context, {asio::ip::make_address("127.0.0.1"), 0});
    closed_port = closed.local_endpoint().port();
  }
  const auto results = probe_back_ends(
      {target("ram://1M"), target("null://1M"),
       target("iscsi://127.0.0.1:" + std::to_string(open_port) + "/iqn.2026-11.x:open"),
       target("iscsi://127.0.0.1:" + std::to_string(closed_port) + "/iqn.2026-11.x:closed"),
       target("iser://127.0.0.1/iqn.2026-11.x:iser")},
      std::chrono::milliseconds(500));
  ASSERT_EQ(results.size(), 5U);
  EXPECT_TRUE(results[0].healthy);
  EXPECT_TRUE(results[1].healthy);
  EXPECT_TRUE(results[2].healthy) << results[2].detail;
  EXPECT_FALSE(results[3].healthy);
  EXPECT_NE(results[3].detail.find("cannot connect"), std::string::npos) << results[3].detail;
  // No RDMA CM on a build machine; a device reaching 127.0.0.1 elsewhere.
  if (access("/dev/infiniband/rdma_cm", F_OK) != 0) {
    EXPECT_FALSE(results[4].healthy);
    EXPECT_NE(results[4].detail.find("no RDMA CM"), std::string::npos) << results[4].detail;
  }
  EXPECT_EQ(results[2].back_end,
            "iscsi://127.0.0.1:" + std::to_string(open_port) + "/iqn.2026-11.x:open");
}

TEST(BackEndHealthTest, APortalThatNeverAnswersTimesOut) {
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): nothing answers there, and on a
  // machine without a route the connect fails at once, which is unhealthy too.
  const auto results = probe_back_ends({target("iscsi://192.0.2.1:3260/iqn.2026-11.x:silent")},
                                       std::chrono::milliseconds(200));
  ASSERT_EQ(results.size(), 1U);
  EXPECT_FALSE(results[0].healthy);
  EXPECT_FALSE(results[0].detail.empty());
}

}  // namespace
}  // namespace isergw::gateway
