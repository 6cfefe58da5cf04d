// Ready To Transfer PDU (RFC 7143 §11.8).
#pragma once

#include <cstdint>

#include "common/expected.h"
#include "iscsi/bhs.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

struct R2t {
  std::uint64_t lun = 0;
  std::uint32_t itt = 0;
  std::uint32_t ttt = 0;
  std::uint32_t stat_sn = 0;
  std::uint32_t exp_cmd_sn = 0;
  std::uint32_t max_cmd_sn = 0;
  std::uint32_t r2t_sn = 0;
  std::uint32_t buffer_offset = 0;
  std::uint32_t desired_data_transfer_length = 0;
};

Expected<R2t, PduError> decode_r2t(BhsBytes bhs);
void encode_r2t(const R2t& pdu, MutableBhsBytes bhs);

}  // namespace isergw::iscsi
