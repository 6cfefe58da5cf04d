#include "iscsi/nop_pdu.h"

#include "iscsi/byte_order.h"

namespace isergw::iscsi {

Expected<NopOut, PduError> decode_nop_out(BhsBytes bhs) {
  if (auto ok = require_final_bit(bhs, Opcode::kNopOut); !ok) return Unexpected{ok.error()};
  const std::uint8_t* p = bhs.data();
  NopOut out;
  out.immediate = (p[0] & kImmediateBit) != 0;
  out.lun = load_be64(p + 8);
  out.itt = load_be32(p + 16);
  out.ttt = load_be32(p + 20);
  out.cmd_sn = load_be32(p + 24);
  out.exp_stat_sn = load_be32(p + 28);
  // §11.18.1: a NOP-Out that asks for no answer (ITT 0xffffffff) carries a
  // CmdSN that must not advance, so it must be immediate.
  if (out.itt == kReservedTag && !out.immediate) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, 0, "I",
                                "I bit must be 1 in a NOP-Out whose ITT is 0xffffffff")};
  }
  return out;
}

Expected<NopIn, PduError> decode_nop_in(BhsBytes bhs) {
  if (auto ok = require_final_bit(bhs, Opcode::kNopIn); !ok) return Unexpected{ok.error()};
  const std::uint8_t* p = bhs.data();
  NopIn out;
  out.lun = load_be64(p + 8);
  out.itt = load_be32(p + 16);
  out.ttt = load_be32(p + 20);
  out.stat_sn = load_be32(p + 24);
  out.exp_cmd_sn = load_be32(p + 28);
  out.max_cmd_sn = load_be32(p + 32);
  return out;
}

void encode_nop_out(const NopOut& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kNopOut) | (pdu.immediate ? kImmediateBit : 0);
  p[1] = kFinalBit;
  store_be64(p + 8, pdu.lun);
  store_be32(p + 16, pdu.itt);
  store_be32(p + 20, pdu.ttt);
  store_be32(p + 24, pdu.cmd_sn);
  store_be32(p + 28, pdu.exp_stat_sn);
}

void encode_nop_in(const NopIn& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kNopIn);
  p[1] = kFinalBit;
  store_be64(p + 8, pdu.lun);
  store_be32(p + 16, pdu.itt);
  store_be32(p + 20, pdu.ttt);
  store_be32(p + 24, pdu.stat_sn);
  store_be32(p + 28, pdu.exp_cmd_sn);
  store_be32(p + 32, pdu.max_cmd_sn);
}

}  // namespace isergw::iscsi
