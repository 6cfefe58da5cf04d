// A live config change while I/O runs: targets are added, changed and
// removed through the REST API while a host writes and verifies data on a
// target the changes do not touch. That host sees no error and keeps its
// session; hosts on the changed targets are logged out.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "control/testing/running_gateway.h"
#include "control/testing/test_host.h"

namespace isergw::control {
namespace {

using nlohmann::json;
using testing::kTargetA;
using testing::kTargetB;
using testing::RunningGateway;
using testing::TestHost;

TEST(LiveChangeTest, IoOnAnUntouchedTargetRunsThroughChanges) {
  RunningGateway gateway;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> commands{0};
  std::string io_error;  // written by the I/O thread, read after it ends
  std::atomic<bool> failed{false};
  std::atomic<bool> logged_in{false};
  std::thread io([&] {
    const auto fail = [&](std::string why) {
      io_error = std::move(why);
      failed = true;
    };
    TestHost host(gateway.portal_port());
    if (!host.login(kTargetA)) {
      fail("login: " + host.error());
      return;
    }
    logged_in = true;
    std::vector<uint8_t> data(128 * 1024);
    std::vector<uint8_t> read;
    for (uint32_t round = 0; !done; ++round) {
      for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<uint8_t>(i + round);
      const uint32_t lba = (round % 64) * 256;
      const auto written = host.write(lba, data);
      const auto status = host.read(lba, static_cast<uint32_t>(data.size()), read);
      if (!written || *written != 0 || !status || *status != 0) {
        fail("round " + std::to_string(round) + ": " + host.error());
        return;
      }
      if (read != data) {
        fail("round " + std::to_string(round) + ": read back other data");
        return;
      }
      commands += 2;
    }
  });

  // A login under way is closed until it has named its target (it could
  // name a changed one), so the changes start once the host of the
  // untouched target is in.
  while (!logged_in && !failed)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string b = std::string("/api/v1/targets/") + kTargetB;
  for (int round = 0; round < 20 && !failed; ++round) {
    ASSERT_EQ(gateway
                  .call("POST", "/api/v1/targets",
                        json{{"name", kTargetB}, {"back_end", "ram://4M"}}.dump())
                  .status,
              201U);
    TestHost other(gateway.portal_port());
    ASSERT_TRUE(other.login(kTargetB)) << other.error();
    std::vector<uint8_t> block(4096, 1);
    ASSERT_EQ(other.write(0, block), 0);
    if (round % 2 == 0) {
      // A changed target logs its hosts out too.
      ASSERT_EQ(gateway.call("PUT", b, json{{"back_end", "null://4M"}}.dump()).status, 200U);
      EXPECT_TRUE(other.closed_by_gateway()) << "round " << round;
    }
    ASSERT_EQ(gateway.call("DELETE", b).status, 204U);
    if (round % 2 == 1) {
      EXPECT_TRUE(other.closed_by_gateway()) << "round " << round;
    }
  }
  // Enough I/O overlapped the changes to mean something.
  while (commands < 200 && !failed)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Scraped while the host is still logged in: the one session it opened
  // at the start is the one it still has.
  const std::string text = gateway.call("GET", "/metrics").body;
  done = true;
  io.join();
  EXPECT_EQ(io_error, "");
  EXPECT_GE(commands, 200U);

  const std::string a = std::string(R"(fabric="tcp",target=")") + kTargetA + "\"}";
  EXPECT_EQ(testing::metric_value(text, "isergw_sessions{" + a), 1);
  EXPECT_EQ(testing::metric_value(text, R"(isergw_logins_total{fabric="tcp",result="success",)" +
                                            std::string(R"(target=")") + kTargetA + "\"}"),
            1);
  EXPECT_EQ(testing::metric_value(text, R"(isergw_errors_total{fabric="tcp",kind="protocol",)" +
                                            std::string(R"(target=")") + kTargetA + "\"}"),
            0);
}

// A change closes the logins under way that could finish into the old form
// of a changed target, and no others: a login to an untouched target
// finishes after the change and does I/O; one to the changed target is
// closed.
TEST(LiveChangeTest, ALoginUnderWayToAnUntouchedTargetLivesThroughAChange) {
  RunningGateway gateway;
  const std::string b = std::string("/api/v1/targets/") + kTargetB;
  ASSERT_EQ(gateway
                .call("POST", "/api/v1/targets",
                      json{{"name", kTargetB}, {"back_end", "ram://4M"}}.dump())
                .status,
            201U);
  TestHost untouched(gateway.portal_port());
  TestHost doomed(gateway.portal_port());
  ASSERT_TRUE(untouched.begin_login(kTargetA)) << untouched.error();
  ASSERT_TRUE(doomed.begin_login(kTargetB)) << doomed.error();
  ASSERT_TRUE(untouched.login_under_way());
  ASSERT_TRUE(doomed.login_under_way());

  ASSERT_EQ(gateway.call("PUT", b, json{{"back_end", "null://4M"}}.dump()).status, 200U);
  EXPECT_TRUE(doomed.closed_by_gateway());
  ASSERT_TRUE(untouched.finish_login()) << untouched.error();
  const std::vector<uint8_t> block(4096, 0x5a);
  std::vector<uint8_t> read;
  ASSERT_EQ(untouched.write(8, block), 0) << untouched.error();
  ASSERT_EQ(untouched.read(8, static_cast<uint32_t>(block.size()), read), 0) << untouched.error();
  EXPECT_EQ(read, block);
}

}  // namespace
}  // namespace isergw::control
