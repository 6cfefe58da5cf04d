#include "iscsi/login_pdu.h"

#include <algorithm>

#include "iscsi/byte_order.h"

namespace isergw::iscsi {
namespace {

// Byte 1 of both Login PDUs: T C . . CSG CSG NSG NSG (RFC 7143 §11.12.1).
constexpr std::uint8_t kTransitBit = 0x80;
constexpr std::uint8_t kContinueBit = 0x40;
constexpr std::uint8_t kReservedStage = 2;

struct LoginFlags {
  bool transit;
  bool continues;
  LoginStage csg;
  LoginStage nsg;
};

Expected<LoginFlags, PduError> decode_login_flags(std::uint8_t flags, Opcode opcode) {
  LoginFlags out{
      .transit = (flags & kTransitBit) != 0,
      .continues = (flags & kContinueBit) != 0,
      .csg = static_cast<LoginStage>((flags >> 2) & 0x3),
      .nsg = static_cast<LoginStage>(flags & 0x3),
  };
  const char* name = opcode == Opcode::kLoginRequest ? "Login Request" : "Login Response";
  // §11.12.2: "If the C bit is set to 1, the T bit MUST be 0."
  if (out.transit && out.continues) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "T/C",
                                "T and C bits both set in a %s (C=1 requires T=0)", name)};
  }
  if (static_cast<std::uint8_t>(out.csg) == kReservedStage) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "CSG",
                                "CSG 2 is a reserved stage in a %s", name)};
  }
  // Full Feature Phase is where login ends, never a stage it is in
  // (§11.12.3 lists only 0 and 1 as current stages).
  if (out.csg == LoginStage::kFullFeaturePhase) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "CSG",
                                "CSG 3 (FullFeaturePhase) is not a login stage in a %s", name)};
  }
  // NSG is reserved when T is 0 (§11.12.3), so only a transit may be wrong.
  if (out.transit && static_cast<std::uint8_t>(out.nsg) == kReservedStage) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, bhs_offset::kFlags, "NSG",
                                "NSG 2 is a reserved stage in a %s with T=1", name)};
  }
  return out;
}

std::uint8_t encode_login_flags(bool transit, bool continues, LoginStage csg, LoginStage nsg) {
  return static_cast<std::uint8_t>((transit ? kTransitBit : 0) | (continues ? kContinueBit : 0) |
                                   ((static_cast<std::uint8_t>(csg) & 0x3) << 2) |
                                   (static_cast<std::uint8_t>(nsg) & 0x3));
}

}  // namespace

Expected<LoginRequest, PduError> decode_login_request(BhsBytes bhs) {
  const std::uint8_t* p = bhs.data();
  // A Login Request is always an immediate PDU: byte 0 is 0x43 (§11.12).
  if ((p[0] & kImmediateBit) == 0) {
    return Unexpected{pdu_error(PduErrc::kInvalidField, 0, "I",
                                "I bit must be 1 in a Login Request (byte 0 must be 0x43, got "
                                "0x%02x)",
                                p[0])};
  }
  auto flags = decode_login_flags(p[1], Opcode::kLoginRequest);
  if (!flags) return Unexpected{flags.error()};
  LoginRequest out;
  out.transit = flags->transit;
  out.continues = flags->continues;
  out.csg = flags->csg;
  out.nsg = flags->nsg;
  out.version_max = p[2];
  out.version_min = p[3];
  std::copy_n(p + 8, out.isid.size(), out.isid.begin());
  out.tsih = load_be16(p + 14);
  out.itt = load_be32(p + 16);
  out.cid = load_be16(p + 20);
  out.cmd_sn = load_be32(p + 24);
  out.exp_stat_sn = load_be32(p + 28);
  return out;
}

Expected<LoginResponse, PduError> decode_login_response(BhsBytes bhs) {
  const std::uint8_t* p = bhs.data();
  auto flags = decode_login_flags(p[1], Opcode::kLoginResponse);
  if (!flags) return Unexpected{flags.error()};
  LoginResponse out;
  out.transit = flags->transit;
  out.continues = flags->continues;
  out.csg = flags->csg;
  out.nsg = flags->nsg;
  out.version_max = p[2];
  out.version_active = p[3];
  std::copy_n(p + 8, out.isid.size(), out.isid.begin());
  out.tsih = load_be16(p + 14);
  out.itt = load_be32(p + 16);
  out.stat_sn = load_be32(p + 24);
  out.exp_cmd_sn = load_be32(p + 28);
  out.max_cmd_sn = load_be32(p + 32);
  out.status_class = static_cast<LoginStatusClass>(p[36]);
  out.status_detail = p[37];
  return out;
}

void encode_login_request(const LoginRequest& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = kImmediateBit | static_cast<std::uint8_t>(Opcode::kLoginRequest);
  p[1] = encode_login_flags(pdu.transit, pdu.continues, pdu.csg, pdu.nsg);
  p[2] = pdu.version_max;
  p[3] = pdu.version_min;
  std::copy(pdu.isid.begin(), pdu.isid.end(), p + 8);
  store_be16(p + 14, pdu.tsih);
  store_be32(p + 16, pdu.itt);
  store_be16(p + 20, pdu.cid);
  store_be32(p + 24, pdu.cmd_sn);
  store_be32(p + 28, pdu.exp_stat_sn);
}

void encode_login_response(const LoginResponse& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kLoginResponse);
  p[1] = encode_login_flags(pdu.transit, pdu.continues, pdu.csg, pdu.nsg);
  p[2] = pdu.version_max;
  p[3] = pdu.version_active;
  std::copy(pdu.isid.begin(), pdu.isid.end(), p + 8);
  store_be16(p + 14, pdu.tsih);
  store_be32(p + 16, pdu.itt);
  store_be32(p + 24, pdu.stat_sn);
  store_be32(p + 28, pdu.exp_cmd_sn);
  store_be32(p + 32, pdu.max_cmd_sn);
  p[36] = static_cast<std::uint8_t>(pdu.status_class);
  p[37] = pdu.status_detail;
}

}  // namespace isergw::iscsi
