// /metrics after known I/O through a running gateway: the counters equal
// the I/O done, live sessions and closed ones alike.
#include "control/metrics.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "control/testing/running_gateway.h"
#include "control/testing/test_host.h"
#include "tests/support/eventually.h"

namespace isergw::control {
namespace {

using testing::kTargetA;
using testing::metric_value;
using testing::RunningGateway;
using testing::TestHost;

const std::string kLabels = std::string(R"({fabric="tcp",target=")") + kTargetA + R"("})";

std::string scrape(const RunningGateway& gateway) {
  const HttpReply reply = gateway.call("GET", "/metrics");
  EXPECT_EQ(reply.status, 200U);
  EXPECT_EQ(reply.content_type.rfind("text/plain; version=0.0.4", 0), 0U);
  return reply.body;
}

double value(const std::string& text, const std::string& sample) {
  const auto found = metric_value(text, sample);
  EXPECT_TRUE(found) << "no sample " << sample << " in\n" << text;
  return found.value_or(-1);
}

TEST(MetricsTest, CountersEqualTheIoDone) {
  RunningGateway gateway;
  TestHost host(gateway.portal_port());
  ASSERT_TRUE(host.login(kTargetA)) << host.error();
  std::vector<uint8_t> data(256 * 1024);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<uint8_t>(i * 7);
  // 256 KiB written in one command, 64 KiB of it read back twice.
  ASSERT_EQ(host.write(100, data), 0);
  std::vector<uint8_t> read;
  ASSERT_EQ(host.read(100, 65536, read), 0);
  ASSERT_EQ(host.read(100, 65536, read), 0);
  EXPECT_TRUE(std::equal(read.begin(), read.end(), data.begin()));

  std::string text = scrape(gateway);
  EXPECT_EQ(value(text, "isergw_commands_total" + kLabels), 3);
  EXPECT_EQ(value(text, "isergw_written_bytes_total" + kLabels), 256 * 1024);
  EXPECT_EQ(value(text, "isergw_read_bytes_total" + kLabels), 2 * 65536);
  // A TCP host sends its write data itself: the gateway fetches none.
  EXPECT_EQ(value(text, "isergw_written_bytes_fetched_ahead_total" + kLabels), 0);
  // The built-in disk takes a command of any size whole.
  EXPECT_EQ(value(text, "isergw_back_split_commands_total" + kLabels), 0);
  EXPECT_EQ(value(text, "isergw_sessions" + kLabels), 1);
  EXPECT_EQ(value(text, R"(isergw_connections{fabric="tcp"})"), 1);
  EXPECT_EQ(
      value(text, std::string(R"(isergw_logins_total{fabric="tcp",result="success",target=")") +
                      kTargetA + "\"}"),
      1);
  EXPECT_EQ(value(text, std::string(R"(isergw_command_latency_seconds_count{fabric="tcp",)") +
                            R"(leg="front",target=")" + kTargetA + "\"}"),
            3);
  EXPECT_EQ(value(text, std::string(R"(isergw_command_latency_seconds_bucket{fabric="tcp",)") +
                            R"(leg="front",target=")" + kTargetA + R"(",le="+Inf"})"),
            3);
  EXPECT_EQ(value(text, std::string(R"(isergw_errors_total{fabric="tcp",kind="protocol",)") +
                            R"(target=")" + kTargetA + "\"}"),
            0);
  EXPECT_EQ(value(text, R"(isergw_buffer_pool_buffers{worker="0"})"), 64);
  EXPECT_EQ(value(text, R"(isergw_buffer_pool_used_buffers{worker="1"})"), 0);
  EXPECT_EQ(value(text, R"(isergw_build_info{version="0.1.0"})"), 1);
  for (const char* family :
       {"isergw_rdma_posted_work_requests_total", "isergw_rdma_completion_errors_total",
        "isergw_rdma_doorbells_total", "isergw_rdma_send_lists_handed_over_total"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + family + " counter"), std::string::npos);
    // No RDMA device here: the family says so at zero, for dashboards and
    // alerts to tell "no RDMA" from "no scrape".
    EXPECT_EQ(value(text, std::string(family) + R"({device="none"})"), 0) << family;
  }
  for (const char* digest : {"header", "data"}) {
    EXPECT_EQ(value(text, std::string(R"(isergw_digest_errors_total{digest=")") + digest +
                              R"(",fabric="tcp",target=")" + kTargetA + R"("})"),
              0);
  }
  // The pool's budgets (64 buffers: a quarter claimed, half host data, a
  // quarter storage data).
  EXPECT_EQ(value(text, R"(isergw_buffer_pool_budget_buffers{use="claimed",worker="0"})"), 16);
  EXPECT_EQ(value(text, R"(isergw_buffer_pool_budget_buffers{use="host_data",worker="0"})"), 32);
  EXPECT_EQ(value(text, R"(isergw_buffer_claims_waiting{worker="0"})"), 0);

  // After the host leaves, the totals stay and the gauges drop.
  ASSERT_TRUE(host.logout());
  testing_support::eventually([&] { return gateway.gateway().sessions().empty(); },
                              std::chrono::seconds(2));
  text = scrape(gateway);
  EXPECT_EQ(value(text, "isergw_commands_total" + kLabels), 3);
  EXPECT_EQ(value(text, "isergw_written_bytes_total" + kLabels), 256 * 1024);
  EXPECT_EQ(value(text, "isergw_read_bytes_total" + kLabels), 2 * 65536);
  EXPECT_EQ(value(text, "isergw_sessions" + kLabels), 0);
  EXPECT_EQ(value(text, R"(isergw_connections{fabric="tcp"})"), 0);
}

TEST(MetricsTest, EveryNameTheDashboardQueriesIsServed) {
  RunningGateway gateway;
  {
    TestHost host(gateway.portal_port());
    ASSERT_TRUE(host.login(kTargetA)) << host.error();
    std::vector<uint8_t> block(4096, 1);
    ASSERT_EQ(host.write(0, block), 0);
  }
  const std::string text = "\n" + scrape(gateway);
  std::ifstream names("deploy/grafana/metric_names.txt");
  ASSERT_TRUE(names);
  std::string name;
  int checked = 0;
  while (std::getline(names, name)) {
    if (name.empty() || name[0] == '#') continue;
    ++checked;
    // A family without samples yet (the RDMA ones) is still declared.
    const bool served = text.find("\n" + name + "{") != std::string::npos ||
                        text.find("\n" + name + " ") != std::string::npos ||
                        text.find("# TYPE " + name + " ") != std::string::npos;
    EXPECT_TRUE(served) << name << " is queried by the dashboard but not served";
  }
  EXPECT_GE(checked, 16);
}

TEST(MetricsTest, ARefusedLoginCountsAsAFailure) {
  RunningGateway gateway;
  {
    TestHost host(gateway.portal_port());
    EXPECT_FALSE(host.login("iqn.2026-11.io.isergw.test:nowhere"));
  }
  double failures = 0;
  testing_support::eventually(
      [&] {
        failures = metric_value(scrape(gateway),
                                R"(isergw_logins_total{fabric="tcp",result="failure",target=""})")
                       .value_or(0);
        return failures != 0;
      },
      std::chrono::seconds(2));
  EXPECT_EQ(failures, 1);
}

TEST(MetricFamiliesTest, WorkersAreSummed) {
  gateway::WorkerMetrics first;
  first.worker = 0;
  first.targets[{"tcp", "iqn.x:t"}].commands = 5;
  first.targets[{"tcp", "iqn.x:t"}].errors[static_cast<size_t>(gateway::ErrorKind::kDigest)] = 2;
  first.targets[{"tcp", "iqn.x:t"}].front_latency.observe(std::chrono::microseconds(30));
  gateway::WorkerMetrics second = first;
  second.worker = 1;
  second.connections["tcp"] = 4;
  const std::string text = serialize_metrics(metric_families({first, second}, "9.9"));
  EXPECT_EQ(metric_value(text, R"(isergw_commands_total{fabric="tcp",target="iqn.x:t"})"), 10);
  EXPECT_EQ(
      metric_value(text, R"(isergw_errors_total{fabric="tcp",kind="digest",target="iqn.x:t"})"), 4);
  EXPECT_EQ(metric_value(text, R"(isergw_connections{fabric="tcp"})"), 4);
  // 30 µs is above the first bound (25 µs) and within the second (50 µs).
  EXPECT_EQ(metric_value(text, R"(isergw_command_latency_seconds_bucket{fabric="tcp",leg="front",)"
                               R"(target="iqn.x:t",le="2.5e-05"})"),
            0);
  EXPECT_EQ(metric_value(text, R"(isergw_command_latency_seconds_bucket{fabric="tcp",leg="front",)"
                               R"(target="iqn.x:t",le="5e-05"})"),
            2);
}

TEST(MetricFamiliesTest, RdmaWorkIsSummedByDevice) {
  gateway::WorkerMetrics first;
  first.rdma["rxe0"] = {
      .work_requests = 100, .doorbells = 100, .completion_errors = 1, .lists_handed_over = 9};
  first.rdma["mlx5_0"] = {.work_requests = 7, .doorbells = 7, .completion_errors = 0};
  gateway::WorkerMetrics second;
  second.worker = 1;
  second.rdma["rxe0"] = {
      .work_requests = 50, .doorbells = 50, .completion_errors = 2, .lists_handed_over = 4};
  const std::string text = serialize_metrics(metric_families({first, second}, "9.9"));
  EXPECT_EQ(metric_value(text, R"(isergw_rdma_posted_work_requests_total{device="rxe0"})"), 150);
  EXPECT_EQ(metric_value(text, R"(isergw_rdma_doorbells_total{device="rxe0"})"), 150);
  EXPECT_EQ(metric_value(text, R"(isergw_rdma_completion_errors_total{device="rxe0"})"), 3);
  EXPECT_EQ(metric_value(text, R"(isergw_rdma_send_lists_handed_over_total{device="rxe0"})"), 13);
  EXPECT_EQ(metric_value(text, R"(isergw_rdma_posted_work_requests_total{device="mlx5_0"})"), 7);
}

}  // namespace
}  // namespace isergw::control
