#include "iscsi/async_message_pdu.h"

#include "iscsi/byte_order.h"

namespace isergw::iscsi {

Expected<AsyncMessage, PduError> decode_async_message(BhsBytes bhs) {
  constexpr Opcode kOpcode = Opcode::kAsyncMessage;
  if (auto ok = require_final_bit(bhs, kOpcode); !ok) return Unexpected{ok.error()};
  // §11.9: "Initiator Task Tag ... 0xffffffff".
  if (auto ok = require_reserved_itt(bhs, kOpcode); !ok) return Unexpected{ok.error()};
  const std::uint8_t* p = bhs.data();
  AsyncMessage out;
  out.lun = load_be64(p + 8);
  out.stat_sn = load_be32(p + 24);
  out.exp_cmd_sn = load_be32(p + 28);
  out.max_cmd_sn = load_be32(p + 32);
  out.async_event = static_cast<AsyncEvent>(p[36]);
  out.async_vcode = p[37];
  out.parameter1 = load_be16(p + 38);
  out.parameter2 = load_be16(p + 40);
  out.parameter3 = load_be16(p + 42);
  return out;
}

void encode_async_message(const AsyncMessage& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kAsyncMessage);
  p[1] = kFinalBit;
  store_be64(p + 8, pdu.lun);
  store_be32(p + 16, kReservedTag);
  store_be32(p + 24, pdu.stat_sn);
  store_be32(p + 28, pdu.exp_cmd_sn);
  store_be32(p + 32, pdu.max_cmd_sn);
  p[36] = static_cast<std::uint8_t>(pdu.async_event);
  p[37] = pdu.async_vcode;
  store_be16(p + 38, pdu.parameter1);
  store_be16(p + 40, pdu.parameter2);
  store_be16(p + 42, pdu.parameter3);
}

}  // namespace isergw::iscsi
