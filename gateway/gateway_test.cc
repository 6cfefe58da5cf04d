// The running gateway's changes, without the REST layer: what a change keeps
// and what it closes.
#include "gateway/gateway.h"

#include <gtest/gtest.h>

#include <thread>

#include "control/testing/running_gateway.h"
#include "control/testing/test_host.h"
#include "rdma/device.h"
#include "tests/support/eventually.h"

namespace isergw::gateway {
namespace {

using control::testing::kTargetA;
using control::testing::kTargetB;
using control::testing::TestHost;

class GatewayTest : public testing::Test {
 protected:
  void SetUp() override {
    control::Config config = control::testing::test_config();
    config.targets.push_back(control::testing::ram_target(kTargetB, "4M"));
    auto started =
        Gateway::start(config, {.config_path = "", .overrides = nullptr, .force_no_huge = true});
    ASSERT_TRUE(started) << started.error();
    gateway_ = std::move(*started);
  }
  uint16_t port() { return gateway_->portals().front().bound_port; }

  std::unique_ptr<Gateway> gateway_;
};

TEST_F(GatewayTest, ABuiltInDiskKeepsItsDataWhileItsUrlStays) {
  std::vector<uint8_t> data(8192, 0x3c);
  {
    TestHost host(port());
    ASSERT_TRUE(host.login(kTargetB)) << host.error();
    ASSERT_EQ(host.write(8, data), 0);
  }
  // Another setting of the target changes: the disk is the same one.
  control::Config next = gateway_->config();
  next.targets[1].allowed_initiators = {"iqn.1993-08.org.debian:01:control-test"};
  ASSERT_TRUE(gateway_->apply(next));
  std::vector<uint8_t> read;
  {
    TestHost host(port());
    ASSERT_TRUE(host.login(kTargetB)) << host.error();
    ASSERT_EQ(host.read(8, 8192, read), 0);
    EXPECT_EQ(read, data);
  }
  // A new size is a new disk.
  next.targets[1].back_end = *parse_back_end_url("ram://8M");
  ASSERT_TRUE(gateway_->apply(next));
  TestHost host(port());
  ASSERT_TRUE(host.login(kTargetB)) << host.error();
  ASSERT_EQ(host.read(8, 8192, read), 0);
  EXPECT_EQ(read, std::vector<uint8_t>(8192, 0));
}

TEST_F(GatewayTest, AChangeClosesOnlyTheSessionsOfChangedTargets) {
  TestHost on_a(port());
  TestHost on_b(port());
  ASSERT_TRUE(on_a.login(kTargetA)) << on_a.error();
  ASSERT_TRUE(on_b.login(kTargetB)) << on_b.error();
  control::Config next = gateway_->config();
  next.targets[1].front_chap = control::ChapCredentials{"hosts", "a-long-host-secret"};
  ASSERT_TRUE(gateway_->apply(next));
  EXPECT_TRUE(on_b.closed_by_gateway());
  std::vector<uint8_t> block(512, 9);
  EXPECT_EQ(on_a.write(0, block), 0) << on_a.error();
  // A host without the new CHAP credentials cannot log in again.
  TestHost again(port());
  EXPECT_FALSE(again.login(kTargetB));
}

TEST_F(GatewayTest, SettingsThatNeedARestartAreRefused) {
  control::Config next = gateway_->config();
  next.workers = 3;
  auto applied = gateway_->apply(next);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().field, "workers");
  next = gateway_->config();
  next.buffers.buffers_per_worker = 8;
  applied = gateway_->apply(next);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().field, "buffers");
  next = gateway_->config();
  next.rdma.posting = rdma::PostingMode::kThread;
  applied = gateway_->apply(next);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().field, "rdma");
  next = gateway_->config();
  next.listen.push_back(*parse_listen_url("iser://127.0.0.1"));
  applied = gateway_->apply(next);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().field, "listen[1]");
  EXPECT_EQ(gateway_->config().listen.size(), 1U);
}

TEST_F(GatewayTest, APortThatIsTakenLeavesThePortalsAsTheyWere) {
  control::Config next = gateway_->config();
  next.listen.push_back(control::testing::loopback(port()));
  auto applied = gateway_->apply(next);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().field, "listen[1]");
  EXPECT_NE(applied.error().message.find("cannot listen"), std::string::npos);
  EXPECT_NE(applied.error().message.find("iWARP"), std::string::npos) << applied.error().message;
  EXPECT_EQ(gateway_->portals().size(), 1U);
  TestHost host(port());
  EXPECT_TRUE(host.login(kTargetA)) << host.error();
}

TEST_F(GatewayTest, SessionsAreListedAndClosedById) {
  TestHost host(port());
  ASSERT_TRUE(host.login(kTargetA)) << host.error();
  const auto sessions = gateway_->sessions();
  ASSERT_EQ(sessions.size(), 1U);
  EXPECT_TRUE(sessions[0].logged_in);
  EXPECT_EQ(sessions[0].target_name, kTargetA);
  ASSERT_TRUE(sessions[0].back);
  EXPECT_FALSE(gateway_->close_session(sessions[0].id + 1000));
  EXPECT_TRUE(gateway_->close_session(sessions[0].id));
  EXPECT_TRUE(host.closed_by_gateway());
}

// RFC 7143 §6.3.5: a login with the InitiatorName and ISID of a session to
// the same target (and TSIH 0) replaces that session; another ISID, another
// initiator or another target each keep their own.
TEST_F(GatewayTest, ALoginWithTheSameIsidReinstatesTheSession) {
  const std::string name = "iqn.1993-08.org.debian:01:reinstated";
  TestHost old_host(port());
  ASSERT_TRUE(old_host.login(kTargetA, name)) << old_host.error();
  TestHost other_isid(port());
  ASSERT_TRUE(other_isid.login(kTargetA, name)) << other_isid.error();
  TestHost other_target(port());
  other_target.use_isid(old_host.isid());
  ASSERT_TRUE(other_target.login(kTargetB, name)) << other_target.error();
  TestHost other_name(port());
  other_name.use_isid(old_host.isid());
  ASSERT_TRUE(other_name.login(kTargetA, "iqn.1993-08.org.debian:01:bystander"));
  ASSERT_EQ(gateway_->sessions().size(), 4U);

  std::vector<uint8_t> data(4096, 0x5a);
  ASSERT_EQ(old_host.write(0, data), 0);
  TestHost again(port());
  again.use_isid(old_host.isid());
  // The case of a name does not make it another initiator (RFC 3722).
  ASSERT_TRUE(again.login(kTargetA, "iqn.1993-08.org.debian:01:REINSTATED")) << again.error();
  EXPECT_TRUE(old_host.closed_by_gateway());
  // The worker forgets a closed session on its next turn.
  testing_support::eventually([&] { return gateway_->sessions().size() <= 4; },
                              std::chrono::seconds(2));
  EXPECT_EQ(gateway_->sessions().size(), 4U);
  std::vector<uint8_t> read;
  ASSERT_EQ(again.read(0, 4096, read), 0);
  EXPECT_EQ(read, data);
  for (TestHost* kept : {&other_isid, &other_target, &other_name}) {
    EXPECT_EQ(kept->read(0, 4096, read), 0) << "a session that was not reinstated was closed";
  }
}

// A command stuck in flight is listed with where it waits, and for how long:
// the first thing an admin looks for.
TEST_F(GatewayTest, ACommandInFlightIsListedWithItsStateAndAge) {
  TestHost host(port());
  ASSERT_TRUE(host.login(kTargetA)) << host.error();
  std::vector<uint8_t> block(4096, 0x21);
  ASSERT_EQ(host.write(0, block), 0);
  const auto sessions = gateway_->sessions();
  ASSERT_EQ(sessions.size(), 1U);
  auto tasks = gateway_->session_tasks(sessions[0].id);
  ASSERT_TRUE(tasks);
  EXPECT_TRUE(tasks->empty()) << "a completed command is still listed";

  ASSERT_TRUE(host.begin_write(64, 8192)) << host.error();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  tasks = gateway_->session_tasks(sessions[0].id);
  ASSERT_TRUE(tasks);
  ASSERT_EQ(tasks->size(), 1U);
  const TaskInfo& task = tasks->front();
  EXPECT_EQ(task.state, TaskState::kReceivingData);
  EXPECT_TRUE(task.write);
  EXPECT_FALSE(task.read);
  EXPECT_EQ(task.operation_code, 0x2a);
  EXPECT_EQ(task.expected_data_transfer_length, 8192U);
  EXPECT_GE(task.age, std::chrono::milliseconds(20));
  EXPECT_LE(task.in_state, task.age);
  EXPECT_FALSE(gateway_->session_tasks(sessions[0].id + 1000));

  // Into each state it went, and out of none illegally.
  const auto counted = gateway_->sessions()[0].statistics;
  EXPECT_EQ(counted.task_transitions[static_cast<size_t>(TaskState::kCompleted)], 1U);
  EXPECT_EQ(counted.task_transitions[static_cast<size_t>(TaskState::kAtStorage)], 2U);
  EXPECT_EQ(counted.task_transitions[static_cast<size_t>(TaskState::kReceivingData)], 1U);
  EXPECT_EQ(counted.illegal_task_transitions, 0U);
}

// A portal takes so many connections and so many logins in progress; one
// more is turned away at once, counted, and the hosts already there keep
// working. A limit changes live.
TEST_F(GatewayTest, APortalTurnsAwayConnectionsBeyondItsLimits) {
  control::Config next = gateway_->config();
  next.limits.sessions = 2;
  next.limits.logins_in_progress = 1;
  ASSERT_TRUE(gateway_->apply(next));
  TestHost first(port());
  ASSERT_TRUE(first.login(kTargetA)) << first.error();
  {
    // A host that connects and never logs in holds the one login place...
    TestHost idle(port());
    testing_support::eventually([&] { return gateway_->portals().front().logins_in_progress != 0; },
                                std::chrono::seconds(1), std::chrono::milliseconds(5));
    TestHost turned_away(port());
    EXPECT_TRUE(turned_away.closed_by_gateway());
    EXPECT_EQ(gateway_->portals().front().refused, 1U);
  }
  // ...and gives it back when it goes; then two connections are the limit.
  testing_support::eventually([&] { return gateway_->portals().front().connections <= 1; },
                              std::chrono::seconds(1), std::chrono::milliseconds(5));
  TestHost second(port());
  ASSERT_TRUE(second.login(kTargetB)) << second.error();
  TestHost third(port());
  EXPECT_TRUE(third.closed_by_gateway());
  EXPECT_EQ(gateway_->portals().front().refused, 2U);
  EXPECT_EQ(gateway_->portals().front().connections, 2U);
  std::vector<uint8_t> read;
  EXPECT_EQ(first.read(0, 4096, read), 0);
}

// Without an RDMA device an iSER portal cannot open; the admin learns why
// and how to get a soft device, and a live change that asks for one leaves
// the running portals alone.
TEST_F(GatewayTest, AnIserPortalWithoutAnRdmaDeviceIsRefusedWithTheReason) {
  if (!rdma::Device::list_names().empty()) GTEST_SKIP() << "this machine has an RDMA device";
  control::Config next = gateway_->config();
  next.listen.push_back(*parse_listen_url("iser://127.0.0.1:3260"));
  const auto applied = gateway_->apply(next);
  ASSERT_FALSE(applied);
  EXPECT_NE(applied.error().message.find("no RDMA device"), std::string::npos)
      << applied.error().message;
  EXPECT_NE(applied.error().message.find("rdma link add"), std::string::npos);
  EXPECT_EQ(gateway_->portals().size(), 1U);
  TestHost host(port());
  EXPECT_TRUE(host.login(kTargetA)) << host.error();
}

}  // namespace
}  // namespace isergw::gateway
