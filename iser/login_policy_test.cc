#include "iser/login_policy.h"

#include <gtest/gtest.h>

namespace isergw::iser {
namespace {

TEST(IserNegotiationPolicy, TurnsOnRdmaExtensionsAndOffDigests) {
  iscsi::NegotiationPolicy base;
  base.header_digests = {"CRC32C", "None"};
  base.data_digests = {"CRC32C"};
  auto policy = iser_negotiation_policy(base, iscsi::Role::kTarget, 8192);
  EXPECT_TRUE(policy.rdma_extensions);
  EXPECT_EQ(policy.header_digests, std::vector<std::string>{"None"});
  EXPECT_EQ(policy.data_digests, std::vector<std::string>{"None"});
  EXPECT_EQ(policy.target_recv_data_segment_length, 8192u);
}

TEST(IserNegotiationPolicy, SetsTheRecvLengthOfItsOwnRole) {
  auto policy =
      iser_negotiation_policy({}, iscsi::Role::kInitiator, kLinuxInitiatorRecvDataSegmentLength);
  EXPECT_EQ(policy.initiator_recv_data_segment_length, 262144u);
  EXPECT_EQ(policy.target_recv_data_segment_length, kDefaultRecvDataSegmentLength);
}

TEST(ReceiveRingDepth, CoversTheWindowAndTheUnexpectedPdus) {
  EXPECT_EQ(receive_ring_depth(128, 0), 134u);
  EXPECT_EQ(receive_ring_depth(128, 2), 130u);
  EXPECT_EQ(receive_ring_depth(0, 0), 7u);
  EXPECT_EQ(receive_ring_depth(1, 0xffffffff), 1025u);
}

}  // namespace
}  // namespace isergw::iser
