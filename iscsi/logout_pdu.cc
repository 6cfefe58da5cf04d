#include "iscsi/logout_pdu.h"

#include "iscsi/byte_order.h"

namespace isergw::iscsi {
namespace {
constexpr std::uint8_t kReasonMask = 0x7f;
constexpr std::uint8_t kMaxReason = 2;
constexpr std::uint8_t kMaxResponse = 3;
}  // namespace

Expected<LogoutRequest, PduError> decode_logout_request(BhsBytes bhs) {
  constexpr Opcode kOpcode = Opcode::kLogoutRequest;
  if (auto ok = require_final_bit(bhs, kOpcode); !ok) return Unexpected{ok.error()};
  if (auto ok = require_no_data_segment(bhs, kOpcode); !ok) return Unexpected{ok.error()};
  const std::uint8_t* p = bhs.data();
  const std::uint8_t reason = p[1] & kReasonMask;
  if (reason > kMaxReason) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "Reason Code",
                                "logout reason code %u is reserved (0-2 are defined)", reason)};
  }
  LogoutRequest out;
  out.immediate = (p[0] & kImmediateBit) != 0;
  out.reason = static_cast<LogoutReason>(reason);
  out.itt = load_be32(p + 16);
  out.cid = load_be16(p + 20);
  out.cmd_sn = load_be32(p + 24);
  out.exp_stat_sn = load_be32(p + 28);
  return out;
}

Expected<LogoutResponse, PduError> decode_logout_response(BhsBytes bhs) {
  constexpr Opcode kOpcode = Opcode::kLogoutResponse;
  if (auto ok = require_final_bit(bhs, kOpcode); !ok) return Unexpected{ok.error()};
  if (auto ok = require_no_data_segment(bhs, kOpcode); !ok) return Unexpected{ok.error()};
  const std::uint8_t* p = bhs.data();
  if (p[2] > kMaxResponse) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, 2, "Response",
                                "logout response %u is reserved (0-3 are defined)", p[2])};
  }
  LogoutResponse out;
  out.response = static_cast<LogoutResponseCode>(p[2]);
  out.itt = load_be32(p + 16);
  out.stat_sn = load_be32(p + 24);
  out.exp_cmd_sn = load_be32(p + 28);
  out.max_cmd_sn = load_be32(p + 32);
  out.time2wait = load_be16(p + 40);
  out.time2retain = load_be16(p + 42);
  return out;
}

void encode_logout_request(const LogoutRequest& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kLogoutRequest) | (pdu.immediate ? kImmediateBit : 0);
  p[1] = kFinalBit | (static_cast<std::uint8_t>(pdu.reason) & kReasonMask);
  store_be32(p + 16, pdu.itt);
  store_be16(p + 20, pdu.cid);
  store_be32(p + 24, pdu.cmd_sn);
  store_be32(p + 28, pdu.exp_stat_sn);
}

void encode_logout_response(const LogoutResponse& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kLogoutResponse);
  p[1] = kFinalBit;
  p[2] = static_cast<std::uint8_t>(pdu.response);
  store_be32(p + 16, pdu.itt);
  store_be32(p + 24, pdu.stat_sn);
  store_be32(p + 28, pdu.exp_cmd_sn);
  store_be32(p + 32, pdu.max_cmd_sn);
  store_be16(p + 40, pdu.time2wait);
  store_be16(p + 42, pdu.time2retain);
}

}  // namespace isergw::iscsi
