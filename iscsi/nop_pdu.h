// NOP-Out and NOP-In PDUs (RFC 7143 §11.18, §11.19): pings in both
// directions, and the carrier of MaxCmdSN updates when nothing else flows.
#pragma once

#include <cstdint>
#include <span>

#include "common/expected.h"
#include "iscsi/bhs.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

struct NopOut {
  bool immediate = false;
  std::uint64_t lun = 0;
  std::uint32_t itt = kReservedTag;
  std::uint32_t ttt = kReservedTag;
  std::uint32_t cmd_sn = 0;
  std::uint32_t exp_stat_sn = 0;
  std::span<const std::uint8_t> data{};  // ping data
};

struct NopIn {
  std::uint64_t lun = 0;
  std::uint32_t itt = kReservedTag;
  std::uint32_t ttt = kReservedTag;
  std::uint32_t stat_sn = 0;
  std::uint32_t exp_cmd_sn = 0;
  std::uint32_t max_cmd_sn = 0;
  std::span<const std::uint8_t> data{};
};

Expected<NopOut, PduError> decode_nop_out(BhsBytes bhs);
Expected<NopIn, PduError> decode_nop_in(BhsBytes bhs);
void encode_nop_out(const NopOut& pdu, MutableBhsBytes bhs);
void encode_nop_in(const NopIn& pdu, MutableBhsBytes bhs);

}  // namespace isergw::iscsi
