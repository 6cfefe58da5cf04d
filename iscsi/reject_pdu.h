// Reject PDU (RFC 7143 §11.17): the target's answer to a PDU it cannot
// process; the data segment is the rejected PDU's header.
#pragma once

#include <cstdint>
#include <span>

#include "common/expected.h"
#include "iscsi/bhs.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

// Reason codes (§11.17.1).
enum class RejectReason : std::uint8_t {
  kDataDigestError = 0x02,
  kSnackReject = 0x03,
  kProtocolError = 0x04,
  kCommandNotSupported = 0x05,
  kImmediateCommandReject = 0x06,
  kTaskInProgress = 0x07,
  kInvalidDataAck = 0x08,
  kInvalidPduField = 0x09,
  kLongOperationReject = 0x0a,
  kDeprecatedNegotiationReset = 0x0b,
  kWaitingForLogout = 0x0c,
};

struct Reject {
  RejectReason reason = RejectReason::kProtocolError;
  std::uint32_t stat_sn = 0;
  std::uint32_t exp_cmd_sn = 0;
  std::uint32_t max_cmd_sn = 0;
  std::uint32_t data_sn_or_r2t_sn = 0;
  // The complete header of the rejected PDU (§11.17.3).
  std::span<const std::uint8_t> data{};
};

Expected<Reject, PduError> decode_reject(BhsBytes bhs);
void encode_reject(const Reject& pdu, MutableBhsBytes bhs);

}  // namespace isergw::iscsi
