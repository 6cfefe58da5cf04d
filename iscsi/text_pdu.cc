#include "iscsi/text_pdu.h"

#include "iscsi/byte_order.h"

namespace isergw::iscsi {
namespace {

constexpr std::uint8_t kContinueBit = 0x40;

// §11.10.2 / §11.11.2: a PDU whose text continues (C=1) cannot be the
// final one (F=1).
Expected<void, PduError> check_final_continue(std::uint8_t flags, const char* name) {
  if ((flags & kFinalBit) && (flags & kContinueBit)) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "F/C",
                                "F and C bits both set in a %s (C=1 requires F=0)", name)};
  }
  return {};
}

}  // namespace

Expected<TextRequest, PduError> decode_text_request(BhsBytes bhs) {
  const std::uint8_t* p = bhs.data();
  if (auto ok = check_final_continue(p[1], "Text Request"); !ok) return Unexpected{ok.error()};
  TextRequest out;
  out.immediate = (p[0] & kImmediateBit) != 0;
  out.final = (p[1] & kFinalBit) != 0;
  out.continues = (p[1] & kContinueBit) != 0;
  out.lun = load_be64(p + 8);
  out.itt = load_be32(p + 16);
  out.ttt = load_be32(p + 20);
  out.cmd_sn = load_be32(p + 24);
  out.exp_stat_sn = load_be32(p + 28);
  return out;
}

Expected<TextResponse, PduError> decode_text_response(BhsBytes bhs) {
  const std::uint8_t* p = bhs.data();
  if (auto ok = check_final_continue(p[1], "Text Response"); !ok) return Unexpected{ok.error()};
  TextResponse out;
  out.final = (p[1] & kFinalBit) != 0;
  out.continues = (p[1] & kContinueBit) != 0;
  out.lun = load_be64(p + 8);
  out.itt = load_be32(p + 16);
  out.ttt = load_be32(p + 20);
  out.stat_sn = load_be32(p + 24);
  out.exp_cmd_sn = load_be32(p + 28);
  out.max_cmd_sn = load_be32(p + 32);
  return out;
}

void encode_text_request(const TextRequest& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kTextRequest) | (pdu.immediate ? kImmediateBit : 0);
  p[1] =
      static_cast<std::uint8_t>((pdu.final ? kFinalBit : 0) | (pdu.continues ? kContinueBit : 0));
  store_be64(p + 8, pdu.lun);
  store_be32(p + 16, pdu.itt);
  store_be32(p + 20, pdu.ttt);
  store_be32(p + 24, pdu.cmd_sn);
  store_be32(p + 28, pdu.exp_stat_sn);
}

void encode_text_response(const TextResponse& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kTextResponse);
  p[1] =
      static_cast<std::uint8_t>((pdu.final ? kFinalBit : 0) | (pdu.continues ? kContinueBit : 0));
  store_be64(p + 8, pdu.lun);
  store_be32(p + 16, pdu.itt);
  store_be32(p + 20, pdu.ttt);
  store_be32(p + 24, pdu.stat_sn);
  store_be32(p + 28, pdu.exp_cmd_sn);
  store_be32(p + 32, pdu.max_cmd_sn);
}

}  // namespace isergw::iscsi
