#include "iscsi/reject_pdu.h"

#include "iscsi/byte_order.h"

namespace isergw::iscsi {

Expected<Reject, PduError> decode_reject(BhsBytes bhs) {
  constexpr Opcode kOpcode = Opcode::kReject;
  if (auto ok = require_final_bit(bhs, kOpcode); !ok) return Unexpected{ok.error()};
  if (auto ok = require_reserved_itt(bhs, kOpcode); !ok) return Unexpected{ok.error()};
  const std::uint8_t* p = bhs.data();
  Reject out;
  out.reason = static_cast<RejectReason>(p[2]);
  out.stat_sn = load_be32(p + 24);
  out.exp_cmd_sn = load_be32(p + 28);
  out.max_cmd_sn = load_be32(p + 32);
  out.data_sn_or_r2t_sn = load_be32(p + 36);
  return out;
}

void encode_reject(const Reject& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kReject);
  p[1] = kFinalBit;
  p[2] = static_cast<std::uint8_t>(pdu.reason);
  store_be32(p + 16, kReservedTag);
  store_be32(p + 24, pdu.stat_sn);
  store_be32(p + 28, pdu.exp_cmd_sn);
  store_be32(p + 32, pdu.max_cmd_sn);
  store_be32(p + 36, pdu.data_sn_or_r2t_sn);
}

}  // namespace isergw::iscsi
