// Login Request and Login Response PDUs (RFC 7143 §11.12, §11.13). These are
// the types the login state machines consume and produce; the key=value text
// in `data` is theirs to parse.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "common/expected.h"
#include "iscsi/bhs.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

// CSG and NSG values (RFC 7143 §11.12.3); 2 is reserved.
enum class LoginStage : std::uint8_t {
  kSecurityNegotiation = 0,
  kLoginOperationalNegotiation = 1,
  kFullFeaturePhase = 3,
};

// The Initiator Session ID, six bytes as on the wire (RFC 7143 §11.12.5):
// T/A, B, C, D fields, most significant byte first.
using Isid = std::array<std::uint8_t, 6>;

// Status-Class values of a Login Response (RFC 7143 §11.13.5).
enum class LoginStatusClass : std::uint8_t {
  kSuccess = 0,
  kRedirection = 1,
  kInitiatorError = 2,
  kTargetError = 3,
};

// The Version-max/Version-min value every implementation of RFC 7143 sends
// (RFC 7143 §11.12.4).
inline constexpr std::uint8_t kIscsiVersion = 0x00;

struct LoginRequest {
  bool transit = false;    // T: ready to move to `nsg`
  bool continues = false;  // C: the text in `data` continues in the next PDU
  LoginStage csg = LoginStage::kSecurityNegotiation;
  // Only meaningful when `transit` is set; kept as received otherwise.
  LoginStage nsg = LoginStage::kSecurityNegotiation;
  std::uint8_t version_max = kIscsiVersion;
  std::uint8_t version_min = kIscsiVersion;
  Isid isid{};
  std::uint16_t tsih = 0;
  std::uint32_t itt = 0;
  std::uint16_t cid = 0;
  std::uint32_t cmd_sn = 0;
  std::uint32_t exp_stat_sn = 0;
  // Text keys, NUL-separated (RFC 7143 §6.1); a view into the caller's
  // buffer, never owned.
  std::span<const std::uint8_t> data{};
};

struct LoginResponse {
  bool transit = false;
  bool continues = false;
  LoginStage csg = LoginStage::kSecurityNegotiation;
  LoginStage nsg = LoginStage::kSecurityNegotiation;
  std::uint8_t version_max = kIscsiVersion;
  std::uint8_t version_active = kIscsiVersion;
  Isid isid{};
  std::uint16_t tsih = 0;
  std::uint32_t itt = 0;
  std::uint32_t stat_sn = 0;
  std::uint32_t exp_cmd_sn = 0;
  std::uint32_t max_cmd_sn = 0;
  LoginStatusClass status_class = LoginStatusClass::kSuccess;
  std::uint8_t status_detail = 0;
  std::span<const std::uint8_t> data{};
};

// Decode the opcode-specific fields of a BHS whose opcode is already known to
// be Login Request / Login Response. `data` is left empty: the PDU decoder
// attaches the data segment.
Expected<LoginRequest, PduError> decode_login_request(BhsBytes bhs);
Expected<LoginResponse, PduError> decode_login_response(BhsBytes bhs);

// Write byte 0 and every opcode-specific field into a zeroed BHS; the PDU
// encoder fills in TotalAHSLength and DataSegmentLength.
void encode_login_request(const LoginRequest& pdu, MutableBhsBytes bhs);
void encode_login_response(const LoginResponse& pdu, MutableBhsBytes bhs);

}  // namespace isergw::iscsi
