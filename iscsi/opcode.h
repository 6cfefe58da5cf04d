// iSCSI opcodes, RFC 7143 §11.2.1.2.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace isergw::iscsi {

enum class Opcode : std::uint8_t {
  // Initiator opcodes.
  kNopOut = 0x00,
  kScsiCommand = 0x01,
  kTaskManagementRequest = 0x02,
  kLoginRequest = 0x03,
  kTextRequest = 0x04,
  kScsiDataOut = 0x05,
  kLogoutRequest = 0x06,
  kSnackRequest = 0x10,
  // Target opcodes.
  kNopIn = 0x20,
  kScsiResponse = 0x21,
  kTaskManagementResponse = 0x22,
  kLoginResponse = 0x23,
  kTextResponse = 0x24,
  kScsiDataIn = 0x25,
  kLogoutResponse = 0x26,
  kR2t = 0x31,
  kAsyncMessage = 0x32,
  kReject = 0x3f,
};

// The six low bits of BHS byte 0.
inline constexpr std::uint8_t kOpcodeMask = 0x3f;
// BHS byte 0 bit 6: the PDU is for immediate delivery (RFC 7143 §11.2.1.1).
inline constexpr std::uint8_t kImmediateBit = 0x40;

// The opcode for a 6-bit value, or nothing for the reserved and
// vendor-specific values (0x1c-0x1e and 0x3c-0x3e), which this gateway does
// not speak.
std::optional<Opcode> opcode_from_wire(std::uint8_t value);

// RFC 7143's name for the PDU, e.g. "SCSI Data-In".
std::string_view opcode_name(Opcode opcode);

// Whether the initiator sends this opcode (bit 5 clear, RFC 7143 §11.2.1.2).
inline bool is_initiator_opcode(Opcode opcode) {
  return (static_cast<std::uint8_t>(opcode) & 0x20) == 0;
}

}  // namespace isergw::iscsi
