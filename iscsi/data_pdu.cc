#include "iscsi/data_pdu.h"

#include "iscsi/byte_order.h"

namespace isergw::iscsi {
namespace {

// Data-In byte 1: F A 0 0 0 O U S (§11.7.1).
constexpr std::uint8_t kAcknowledgeBit = 0x40;
constexpr std::uint8_t kOverflowBit = 0x04;
constexpr std::uint8_t kUnderflowBit = 0x02;
constexpr std::uint8_t kStatusBit = 0x01;

}  // namespace

Expected<DataOut, PduError> decode_data_out(BhsBytes bhs) {
  const std::uint8_t* p = bhs.data();
  DataOut out;
  out.final = (p[1] & kFinalBit) != 0;
  out.lun = load_be64(p + 8);
  out.itt = load_be32(p + 16);
  out.ttt = load_be32(p + 20);
  out.exp_stat_sn = load_be32(p + 28);
  out.data_sn = load_be32(p + 36);
  out.buffer_offset = load_be32(p + 40);
  return out;
}

Expected<DataIn, PduError> decode_data_in(BhsBytes bhs) {
  const std::uint8_t* p = bhs.data();
  DataIn out;
  out.final = (p[1] & kFinalBit) != 0;
  out.acknowledge = (p[1] & kAcknowledgeBit) != 0;
  out.residual_overflow = (p[1] & kOverflowBit) != 0;
  out.residual_underflow = (p[1] & kUnderflowBit) != 0;
  out.status_present = (p[1] & kStatusBit) != 0;
  // §11.7.4: "If the S bit is set to 1, the F bit MUST also be set to 1."
  if (out.status_present && !out.final) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "S",
                                "S bit set without the F bit in a SCSI Data-In")};
  }
  if (out.residual_overflow && out.residual_underflow) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "O/U",
                                "residual overflow (O) and underflow (U) both set")};
  }
  // §11.7.5: O and U are only valid in a PDU that carries status.
  if ((out.residual_overflow || out.residual_underflow) && !out.status_present) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "O/U",
                                "residual bit (O or U) set without the S bit in a SCSI Data-In")};
  }
  out.status = p[3];
  out.lun = load_be64(p + 8);
  out.itt = load_be32(p + 16);
  out.ttt = load_be32(p + 20);
  out.stat_sn = load_be32(p + 24);
  out.exp_cmd_sn = load_be32(p + 28);
  out.max_cmd_sn = load_be32(p + 32);
  out.data_sn = load_be32(p + 36);
  out.buffer_offset = load_be32(p + 40);
  out.residual_count = load_be32(p + 44);
  return out;
}

void encode_data_out(const DataOut& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kScsiDataOut);
  p[1] = pdu.final ? kFinalBit : 0;
  store_be64(p + 8, pdu.lun);
  store_be32(p + 16, pdu.itt);
  store_be32(p + 20, pdu.ttt);
  store_be32(p + 28, pdu.exp_stat_sn);
  store_be32(p + 36, pdu.data_sn);
  store_be32(p + 40, pdu.buffer_offset);
}

void encode_data_in(const DataIn& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kScsiDataIn);
  p[1] = static_cast<std::uint8_t>(
      (pdu.final ? kFinalBit : 0) | (pdu.acknowledge ? kAcknowledgeBit : 0) |
      (pdu.residual_overflow ? kOverflowBit : 0) | (pdu.residual_underflow ? kUnderflowBit : 0) |
      (pdu.status_present ? kStatusBit : 0));
  p[3] = pdu.status;
  store_be64(p + 8, pdu.lun);
  store_be32(p + 16, pdu.itt);
  store_be32(p + 20, pdu.ttt);
  store_be32(p + 24, pdu.stat_sn);
  store_be32(p + 28, pdu.exp_cmd_sn);
  store_be32(p + 32, pdu.max_cmd_sn);
  store_be32(p + 36, pdu.data_sn);
  store_be32(p + 40, pdu.buffer_offset);
  store_be32(p + 44, pdu.residual_count);
}

}  // namespace isergw::iscsi
