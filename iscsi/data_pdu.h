// SCSI Data-Out and SCSI Data-In PDUs (RFC 7143 §11.7).
#pragma once

#include <cstdint>
#include <span>

#include "common/expected.h"
#include "iscsi/bhs.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

struct DataOut {
  bool final = false;  // F: the last PDU of this R2T's (or unsolicited) sequence
  std::uint64_t lun = 0;
  std::uint32_t itt = 0;
  std::uint32_t ttt = kReservedTag;  // 0xffffffff for unsolicited data
  std::uint32_t exp_stat_sn = 0;
  std::uint32_t data_sn = 0;
  std::uint32_t buffer_offset = 0;
  std::span<const std::uint8_t> data{};
};

struct DataIn {
  bool final = false;
  bool acknowledge = false;         // A: ask for a DataACK SNACK (ERL > 0)
  bool residual_overflow = false;   // O, valid only with S
  bool residual_underflow = false;  // U, valid only with S
  bool status_present = false;      // S: this PDU carries the command's status
  std::uint8_t status = 0;          // valid only with S
  std::uint64_t lun = 0;
  std::uint32_t itt = 0;
  std::uint32_t ttt = kReservedTag;
  std::uint32_t stat_sn = 0;  // valid only with S
  std::uint32_t exp_cmd_sn = 0;
  std::uint32_t max_cmd_sn = 0;
  std::uint32_t data_sn = 0;
  std::uint32_t buffer_offset = 0;
  std::uint32_t residual_count = 0;
  std::span<const std::uint8_t> data{};
};

Expected<DataOut, PduError> decode_data_out(BhsBytes bhs);
Expected<DataIn, PduError> decode_data_in(BhsBytes bhs);
void encode_data_out(const DataOut& pdu, MutableBhsBytes bhs);
void encode_data_in(const DataIn& pdu, MutableBhsBytes bhs);

}  // namespace isergw::iscsi
