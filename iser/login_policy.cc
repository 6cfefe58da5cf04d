#include "iser/login_policy.h"

#include <algorithm>

namespace isergw::iser {
namespace {

// Linux ib_isert reserves room for NOP-Out (2), Text (1), task management (2)
// and Logout (1) beyond the command window; a peer that declares no
// MaxOutstandingUnexpectedPDUs gets the same.
constexpr std::uint32_t kDefaultUnexpectedPdus = 6;

}  // namespace

iscsi::NegotiationPolicy iser_negotiation_policy(iscsi::NegotiationPolicy base, iscsi::Role role,
                                                 std::uint32_t recv_data_segment_length) {
  base.rdma_extensions = true;
  base.header_digests = {"None"};
  base.data_digests = {"None"};
  if (role == iscsi::Role::kInitiator) {
    base.initiator_recv_data_segment_length = recv_data_segment_length;
  } else {
    base.target_recv_data_segment_length = recv_data_segment_length;
  }
  return base;
}

std::uint32_t receive_ring_depth(std::uint32_t cmd_window,
                                 std::uint32_t max_outstanding_unexpected_pdus) {
  const std::uint32_t unexpected =
      max_outstanding_unexpected_pdus == 0
          ? kDefaultUnexpectedPdus
          : std::min<std::uint32_t>(max_outstanding_unexpected_pdus, 1024);
  return std::max<std::uint32_t>(cmd_window, 1) + unexpected;
}

}  // namespace isergw::iser
