// The commands the built-in disk implements, with the CDB usage map of each
// (SPC-4 §6.35.3). One table serves both REPORT SUPPORTED OPERATION CODES
// and the check that every bit a CDB sets is one the command defines.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace isergw::backend_ram {

enum class CommandKind : uint8_t {
  kTestUnitReady,
  kRequestSense,
  kRead,
  kWrite,
  kInquiry,
  kModeSense,
  kStartStopUnit,
  kPreventAllowMediumRemoval,
  kReadCapacity10,
  kReadCapacity16,
  kVerify,
  kSynchronizeCache,
  kWriteSame,
  kUnmap,
  kReportLuns,
  kReportSupportedOperationCodes,
};

struct CommandInfo {
  uint8_t opcode;
  // For SERVICE ACTION IN(16) and MAINTENANCE IN: byte 1, bits 4..0.
  bool has_service_action;
  uint8_t service_action;
  uint8_t cdb_length;
  CommandKind kind;
  // Byte 0 is the operation code, byte 1 carries the service action where
  // there is one; every other bit set is a bit the command uses.
  std::array<uint8_t, 16> usage;
};

inline constexpr size_t kSupportedCommandCount = 30;
std::span<const CommandInfo> supported_commands();

// Null when the disk does not implement it.
const CommandInfo* find_command(uint8_t opcode, uint8_t service_action);

// True for the operation codes whose CDB carries a service action field.
bool has_service_actions(uint8_t opcode);

}  // namespace isergw::backend_ram
