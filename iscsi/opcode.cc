#include "iscsi/opcode.h"

namespace isergw::iscsi {

std::optional<Opcode> opcode_from_wire(std::uint8_t value) {
  switch (value & kOpcodeMask) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x05:
    case 0x06:
    case 0x10:
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x23:
    case 0x24:
    case 0x25:
    case 0x26:
    case 0x31:
    case 0x32:
    case 0x3f:
      return static_cast<Opcode>(value & kOpcodeMask);
    default:
      return std::nullopt;
  }
}

std::string_view opcode_name(Opcode opcode) {
  switch (opcode) {
    case Opcode::kNopOut:
      return "NOP-Out";
    case Opcode::kScsiCommand:
      return "SCSI Command";
    case Opcode::kTaskManagementRequest:
      return "Task Management Function Request";
    case Opcode::kLoginRequest:
      return "Login Request";
    case Opcode::kTextRequest:
      return "Text Request";
    case Opcode::kScsiDataOut:
      return "SCSI Data-Out";
    case Opcode::kLogoutRequest:
      return "Logout Request";
    case Opcode::kSnackRequest:
      return "SNACK Request";
    case Opcode::kNopIn:
      return "NOP-In";
    case Opcode::kScsiResponse:
      return "SCSI Response";
    case Opcode::kTaskManagementResponse:
      return "Task Management Function Response";
    case Opcode::kLoginResponse:
      return "Login Response";
    case Opcode::kTextResponse:
      return "Text Response";
    case Opcode::kScsiDataIn:
      return "SCSI Data-In";
    case Opcode::kLogoutResponse:
      return "Logout Response";
    case Opcode::kR2t:
      return "R2T";
    case Opcode::kAsyncMessage:
      return "Asynchronous Message";
    case Opcode::kReject:
      return "Reject";
  }
  return "unknown";
}

}  // namespace isergw::iscsi
