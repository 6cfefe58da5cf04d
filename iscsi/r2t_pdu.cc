#include "iscsi/r2t_pdu.h"

#include "iscsi/byte_order.h"

namespace isergw::iscsi {

Expected<R2t, PduError> decode_r2t(BhsBytes bhs) {
  if (auto ok = require_final_bit(bhs, Opcode::kR2t); !ok) return Unexpected{ok.error()};
  if (auto ok = require_no_data_segment(bhs, Opcode::kR2t); !ok) return Unexpected{ok.error()};
  const std::uint8_t* p = bhs.data();
  R2t out;
  out.lun = load_be64(p + 8);
  out.itt = load_be32(p + 16);
  out.ttt = load_be32(p + 20);
  // §11.8.3: 0xffffffff is the "no TTT" value, which an R2T must not use.
  if (out.ttt == kReservedTag) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, 20, "Target Transfer Tag",
                                "an R2T's Target Transfer Tag must not be 0xffffffff")};
  }
  out.stat_sn = load_be32(p + 24);
  out.exp_cmd_sn = load_be32(p + 28);
  out.max_cmd_sn = load_be32(p + 32);
  out.r2t_sn = load_be32(p + 36);
  out.buffer_offset = load_be32(p + 40);
  out.desired_data_transfer_length = load_be32(p + 44);
  // §11.8.4: "The Desired Data Transfer Length MUST be greater than 0."
  if (out.desired_data_transfer_length == 0) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, 44, "Desired Data Transfer Length",
                                "an R2T's Desired Data Transfer Length must be greater than 0")};
  }
  return out;
}

void encode_r2t(const R2t& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kR2t);
  p[1] = kFinalBit;
  store_be64(p + 8, pdu.lun);
  store_be32(p + 16, pdu.itt);
  store_be32(p + 20, pdu.ttt);
  store_be32(p + 24, pdu.stat_sn);
  store_be32(p + 28, pdu.exp_cmd_sn);
  store_be32(p + 32, pdu.max_cmd_sn);
  store_be32(p + 36, pdu.r2t_sn);
  store_be32(p + 40, pdu.buffer_offset);
  store_be32(p + 44, pdu.desired_data_transfer_length);
}

}  // namespace isergw::iscsi
