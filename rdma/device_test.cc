#include "rdma/device.h"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <vector>

#include "rdma/completion_poller.h"
#include "rdma/completion_queue.h"
#include "rdma/protection_domain.h"
#include "rdma/queue_pair.h"

namespace isergw::rdma {
namespace {

class DeviceTest : public testing::Test {
 protected:
  void SetUp() override {
    if (Device::list_names().empty()) GTEST_SKIP() << "no RDMA device on this machine";
    auto device = Device::open();
    ASSERT_TRUE(device) << device.error().describe();
    device_ = std::move(*device);
  }

  std::unique_ptr<Device> device_;
};

TEST(DeviceList, OpeningAMissingDeviceSaysWhich) {
  auto device = Device::open("no-such-device0");
  ASSERT_FALSE(device);
  EXPECT_NE(device.error().describe().find("no-such-device0"), std::string::npos);
}

TEST_F(DeviceTest, ReportsLimitsAQueuePairCanBeSizedBy) {
  const auto limits = device_->limits();
  EXPECT_FALSE(device_->name().empty());
  EXPECT_GT(limits.max_qp_wr, 0u);
  EXPECT_GT(limits.max_sge, 0u);
  EXPECT_GT(limits.max_cqe, 0u);
  EXPECT_GT(limits.max_mr_size, 0u);
}

TEST_F(DeviceTest, MakesADomainAndAQueue) {
  auto pd = ProtectionDomain::allocate(*device_);
  ASSERT_TRUE(pd) << pd.error().describe();
  auto channel = CompletionChannel::create(*device_);
  ASSERT_TRUE(channel) << channel.error().describe();
  auto cq = CompletionQueue::create(*device_, channel->get(), 64);
  ASSERT_TRUE(cq) << cq.error().describe();
  EXPECT_GE((*cq)->capacity(), 64);
  ASSERT_TRUE((*cq)->arm());
  auto taken = (*cq)->take_event();
  ASSERT_TRUE(taken);
  EXPECT_FALSE(*taken);
}

TEST(CompletionQueueEntries, SiwGetsAQueueThatSpansLibsiwsInvalidKey) {
  EXPECT_EQ(completion_queue_entries(4'194'303, false, 16384), 16384);
  EXPECT_EQ(completion_queue_entries(8192, false, 16384), 8192);
  EXPECT_EQ(completion_queue_entries(3'276'800, true, 16384), kSiwMinimumEntries);
  EXPECT_EQ(completion_queue_entries(3'276'800, true, 65536), 65536);
  EXPECT_EQ(completion_queue_entries(4096, true, 16384), 4096);
}

TEST(WorkRequests, SendWithInvalidateNamesTheSTagWhereEveryProviderReadsIt) {
  const std::array<ibv_sge, 1> sge{ibv_sge{.addr = 0x1000, .length = 64, .lkey = 7}};
  const ibv_send_wr wr = QueuePair::send_with_invalidate_request(42, sge, 0x1234abcd);
  EXPECT_EQ(wr.opcode, IBV_WR_SEND_WITH_INV);
  EXPECT_EQ(wr.invalidate_rkey, 0x1234abcdu);  // rxe, mlx5 and the rest
  EXPECT_EQ(wr.wr.rdma.rkey, 0x1234abcdu);     // libsiw
  EXPECT_EQ(wr.wr_id, 42u);
  EXPECT_EQ(wr.num_sge, 1);
}

// The first queues on a fresh context as a worker makes them: its CQ, then a
// QP of the iSER connection's sizes. On siw with a 16384-entry CQ the QP's
// receive queue got mmap key 0x90000 and libsiw refused the QP.
TEST_F(DeviceTest, AQueuePairFollowsAWorkerSizedCompletionQueue) {
  auto pd = ProtectionDomain::allocate(*device_);
  ASSERT_TRUE(pd) << pd.error().describe();
  const int entries = completion_queue_entries(device_->limits().max_cqe, device_->is_siw(), 16384);
  auto cq = CompletionQueue::create(*device_, nullptr, entries);
  ASSERT_TRUE(cq) << cq.error().describe();
  std::vector<ibv_qp*> made;
  for (int i = 0; i < 3; ++i) {
    ibv_qp_init_attr attributes{};
    attributes.send_cq = (*cq)->get();
    attributes.recv_cq = (*cq)->get();
    attributes.qp_type = IBV_QPT_RC;
    attributes.cap = {.max_send_wr = 512,
                      .max_recv_wr = 148,
                      .max_send_sge = 1,
                      .max_recv_sge = 1,
                      .max_inline_data = 0};
    ibv_qp* qp = ibv_create_qp((*pd)->get(), &attributes);
    EXPECT_NE(qp, nullptr) << "QP " << i << " after a " << entries << "-entry CQ on "
                           << device_->name();
    if (qp != nullptr) made.push_back(qp);
  }
  for (ibv_qp* qp : made)
    ibv_destroy_qp(qp);
}

TEST_F(DeviceTest, AnIdlePollerSleepsAndStops) {
  auto channel = CompletionChannel::create(*device_);
  ASSERT_TRUE(channel);
  auto cq = CompletionQueue::create(*device_, channel->get(), 16);
  ASSERT_TRUE(cq);
  boost::asio::io_context io;
  int completions = 0;
  CompletionPoller poller(
      io, **channel, **cq,
      [&](std::span<const ibv_wc> batch) { completions += static_cast<int>(batch.size()); },
      [](const VerbsError& error) { ADD_FAILURE() << error.describe(); });
  ASSERT_TRUE(poller.start());
  io.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(completions, 0);
  EXPECT_EQ(poller.sleeps(), 1u);
  poller.stop();
  io.run_for(std::chrono::milliseconds(10));
}

}  // namespace
}  // namespace isergw::rdma
