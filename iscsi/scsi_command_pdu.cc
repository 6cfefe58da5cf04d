#include "iscsi/scsi_command_pdu.h"

#include <algorithm>

#include "iscsi/byte_order.h"

namespace isergw::iscsi {
namespace {

constexpr std::uint8_t kReadBit = 0x40;
constexpr std::uint8_t kWriteBit = 0x20;
constexpr std::uint8_t kAttributeMask = 0x07;
constexpr std::uint8_t kMaxTaskAttribute = 4;
// SCSI Response byte 1: 1 . . o u O U . (§11.4.1).
constexpr std::uint8_t kBidiOverflowBit = 0x10;
constexpr std::uint8_t kBidiUnderflowBit = 0x08;
constexpr std::uint8_t kOverflowBit = 0x04;
constexpr std::uint8_t kUnderflowBit = 0x02;
constexpr std::size_t kCdbOffset = 32;

}  // namespace

Expected<ScsiCommand, PduError> decode_scsi_command(BhsBytes bhs) {
  const std::uint8_t* p = bhs.data();
  ScsiCommand out;
  out.immediate = (p[0] & kImmediateBit) != 0;
  out.final = (p[1] & kFinalBit) != 0;
  out.read = (p[1] & kReadBit) != 0;
  out.write = (p[1] & kWriteBit) != 0;
  const std::uint8_t attribute = p[1] & kAttributeMask;
  if (attribute > kMaxTaskAttribute) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "ATTR",
                                "task attribute %u is reserved (0-4 are defined)", attribute)};
  }
  out.task_attribute = static_cast<TaskAttribute>(attribute);
  // F=0 announces unsolicited Data-Out (§11.3.1.1), which only a write has.
  if (!out.final && !out.write) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "F",
                                "F bit must be 1 in a SCSI Command with W=0 (no "
                                "unsolicited data can follow)")};
  }
  out.lun = load_be64(p + 8);
  out.itt = load_be32(p + 16);
  out.expected_data_transfer_length = load_be32(p + 20);
  out.cmd_sn = load_be32(p + 24);
  out.exp_stat_sn = load_be32(p + 28);
  std::copy_n(p + kCdbOffset, kBhsCdbLength, out.cdb.begin());
  return out;
}

Expected<ScsiResponse, PduError> decode_scsi_response(BhsBytes bhs) {
  if (auto ok = require_final_bit(bhs, Opcode::kScsiResponse); !ok) {
    return Unexpected{ok.error()};
  }
  const std::uint8_t* p = bhs.data();
  ScsiResponse out;
  out.bidi_read_overflow = (p[1] & kBidiOverflowBit) != 0;
  out.bidi_read_underflow = (p[1] & kBidiUnderflowBit) != 0;
  out.residual_overflow = (p[1] & kOverflowBit) != 0;
  out.residual_underflow = (p[1] & kUnderflowBit) != 0;
  // §11.4.5: the overflow and underflow bits of a pair exclude each other.
  if (out.bidi_read_overflow && out.bidi_read_underflow) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "o/u",
                                "bidirectional read overflow (o) and underflow (u) both set")};
  }
  if (out.residual_overflow && out.residual_underflow) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "O/U",
                                "residual overflow (O) and underflow (U) both set")};
  }
  out.response = p[2];
  out.status = p[3];
  out.itt = load_be32(p + 16);
  out.snack_tag = load_be32(p + 20);
  out.stat_sn = load_be32(p + 24);
  out.exp_cmd_sn = load_be32(p + 28);
  out.max_cmd_sn = load_be32(p + 32);
  out.exp_data_sn = load_be32(p + 36);
  out.bidi_read_residual_count = load_be32(p + 40);
  out.residual_count = load_be32(p + 44);
  return out;
}

void encode_scsi_command(const ScsiCommand& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kScsiCommand) | (pdu.immediate ? kImmediateBit : 0);
  p[1] = static_cast<std::uint8_t>(
      (pdu.final ? kFinalBit : 0) | (pdu.read ? kReadBit : 0) | (pdu.write ? kWriteBit : 0) |
      (static_cast<std::uint8_t>(pdu.task_attribute) & kAttributeMask));
  store_be64(p + 8, pdu.lun);
  store_be32(p + 16, pdu.itt);
  store_be32(p + 20, pdu.expected_data_transfer_length);
  store_be32(p + 24, pdu.cmd_sn);
  store_be32(p + 28, pdu.exp_stat_sn);
  std::copy(pdu.cdb.begin(), pdu.cdb.end(), p + kCdbOffset);
}

void encode_scsi_response(const ScsiResponse& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kScsiResponse);
  p[1] = static_cast<std::uint8_t>(kFinalBit | (pdu.bidi_read_overflow ? kBidiOverflowBit : 0) |
                                   (pdu.bidi_read_underflow ? kBidiUnderflowBit : 0) |
                                   (pdu.residual_overflow ? kOverflowBit : 0) |
                                   (pdu.residual_underflow ? kUnderflowBit : 0));
  p[2] = pdu.response;
  p[3] = pdu.status;
  store_be32(p + 16, pdu.itt);
  store_be32(p + 20, pdu.snack_tag);
  store_be32(p + 24, pdu.stat_sn);
  store_be32(p + 28, pdu.exp_cmd_sn);
  store_be32(p + 32, pdu.max_cmd_sn);
  store_be32(p + 36, pdu.exp_data_sn);
  store_be32(p + 40, pdu.bidi_read_residual_count);
  store_be32(p + 44, pdu.residual_count);
}

}  // namespace isergw::iscsi
