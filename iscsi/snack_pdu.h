// SNACK Request PDU (RFC 7143 §11.16): retransmission and acknowledgement
// requests of error recovery levels 1 and 2.
#pragma once

#include <cstdint>

#include "common/expected.h"
#include "iscsi/bhs.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

// Type, byte 1 bits 0-3 (§11.16.1); 4-15 are reserved.
enum class SnackType : std::uint8_t {
  kDataR2t = 0,
  kStatus = 1,
  kDataAck = 2,
  kRData = 3,
};

struct SnackRequest {
  SnackType type = SnackType::kDataR2t;
  std::uint64_t lun = 0;
  std::uint32_t itt = kReservedTag;
  std::uint32_t ttt_or_snack_tag = kReservedTag;  // TTT for DataACK, SNACK Tag for R-Data
  std::uint32_t exp_stat_sn = 0;
  std::uint32_t beg_run = 0;
  std::uint32_t run_length = 0;
};

Expected<SnackRequest, PduError> decode_snack_request(BhsBytes bhs);
void encode_snack_request(const SnackRequest& pdu, MutableBhsBytes bhs);

}  // namespace isergw::iscsi
