#include "iscsi/snack_pdu.h"

#include "iscsi/byte_order.h"

namespace isergw::iscsi {
namespace {
constexpr std::uint8_t kTypeMask = 0x0f;
constexpr std::uint8_t kMaxType = 3;
}  // namespace

Expected<SnackRequest, PduError> decode_snack_request(BhsBytes bhs) {
  constexpr Opcode kOpcode = Opcode::kSnackRequest;
  if (auto ok = require_final_bit(bhs, kOpcode); !ok) return Unexpected{ok.error()};
  if (auto ok = require_no_data_segment(bhs, kOpcode); !ok) return Unexpected{ok.error()};
  const std::uint8_t* p = bhs.data();
  const std::uint8_t type = p[1] & kTypeMask;
  if (type > kMaxType) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "Type",
                                "SNACK type %u is reserved (0-3 are defined)", type)};
  }
  SnackRequest out;
  out.type = static_cast<SnackType>(type);
  out.lun = load_be64(p + 8);
  out.itt = load_be32(p + 16);
  out.ttt_or_snack_tag = load_be32(p + 20);
  out.exp_stat_sn = load_be32(p + 28);
  out.beg_run = load_be32(p + 40);
  out.run_length = load_be32(p + 44);
  return out;
}

void encode_snack_request(const SnackRequest& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kSnackRequest);
  p[1] = kFinalBit | (static_cast<std::uint8_t>(pdu.type) & kTypeMask);
  store_be64(p + 8, pdu.lun);
  store_be32(p + 16, pdu.itt);
  store_be32(p + 20, pdu.ttt_or_snack_tag);
  store_be32(p + 28, pdu.exp_stat_sn);
  store_be32(p + 40, pdu.beg_run);
  store_be32(p + 44, pdu.run_length);
}

}  // namespace isergw::iscsi
