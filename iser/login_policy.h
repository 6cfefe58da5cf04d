// What an iSER leg negotiates at login, and the limits the Linux peers put on
// it. The keys themselves (RDMAExtensions, Initiator/TargetRecvDataSegment-
// Length, MaxOutstandingUnexpectedPDUs) are negotiated by iscsi/negotiation.h;
// this is the policy an iSER leg hands it.
#pragma once

#include <cstdint>

#include "iscsi/negotiation.h"

namespace isergw::iser {

// Linux ib_iser declares InitiatorRecvDataSegmentLength=262144, and RFC 7145
// §6.4/§6.5 default both keys to 8192.
inline constexpr std::uint32_t kLinuxInitiatorRecvDataSegmentLength = 262144;
inline constexpr std::uint32_t kDefaultRecvDataSegmentLength = 8192;

// After login a Linux initiator's receive buffers hold the iSER header, the
// BHS and only 128 data bytes: a target must never Send it more (sense data
// fits), whatever InitiatorRecvDataSegmentLength said.
inline constexpr std::uint32_t kLinuxInitiatorPostLoginRecvDataBytes = 128;

// No max-I/O negotiation exists in iSER, and Linux sends commands of up to
// its max_sectors (16 MiB with the largest setting): accept that much.
inline constexpr std::uint32_t kMaxCommandDataBytes = 16u << 20;

// The policy for one side of an iSER connection: RDMAExtensions=Yes, no
// digests (RFC 7145 §6.1: the RDMA transport checks the data), and the iSER
// data segment lengths this side can receive.
iscsi::NegotiationPolicy iser_negotiation_policy(iscsi::NegotiationPolicy base, iscsi::Role role,
                                                 std::uint32_t recv_data_segment_length);

// The Sends this side must have posted to receive: a full CmdSN window plus
// the unexpected PDUs (NOP-Out, task management, Logout) the peer may send
// beyond it. A missing receive makes the peer's Send wait on RNR retries.
std::uint32_t receive_ring_depth(std::uint32_t cmd_window,
                                 std::uint32_t max_outstanding_unexpected_pdus);

}  // namespace isergw::iser
