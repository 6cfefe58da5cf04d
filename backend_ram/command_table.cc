#include "backend_ram/command_table.h"

#include <array>
#include <iterator>

namespace isergw::backend_ram {
namespace {

constexpr uint8_t kServiceActionIn16 = 0x9E;
constexpr uint8_t kMaintenanceIn = 0xA3;

// Reserved and unsupported bits are 0 here, so a CDB that sets them is
// refused with INVALID FIELD IN CDB and a field pointer to the bit: e.g.
// RDPROTECT/WRPROTECT (no protection information), ANCHOR (ANC_SUP = 0),
// NACA in the CONTROL byte (no ACA, SAM-5 §5.9.3).
constexpr CommandInfo kCommands[] = {
    {0x00, false, 0, 6, CommandKind::kTestUnitReady, {0x00, 0, 0, 0, 0, 0}},
    {0x03, false, 0, 6, CommandKind::kRequestSense, {0x03, 0x01, 0, 0, 0xFF, 0}},
    {0x08, false, 0, 6, CommandKind::kRead, {0x08, 0x1F, 0xFF, 0xFF, 0xFF, 0}},
    {0x0A, false, 0, 6, CommandKind::kWrite, {0x0A, 0x1F, 0xFF, 0xFF, 0xFF, 0}},
    {0x12, false, 0, 6, CommandKind::kInquiry, {0x12, 0x01, 0xFF, 0xFF, 0xFF, 0}},
    {0x1A, false, 0, 6, CommandKind::kModeSense, {0x1A, 0x08, 0xFF, 0xFF, 0xFF, 0}},
    {0x1B, false, 0, 6, CommandKind::kStartStopUnit, {0x1B, 0x01, 0, 0x0F, 0xF7, 0}},
    {0x1E, false, 0, 6, CommandKind::kPreventAllowMediumRemoval, {0x1E, 0, 0, 0, 0x03, 0}},
    {0x25,
     false,
     0,
     10,
     CommandKind::kReadCapacity10,
     {0x25, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0x01, 0}},
    // DPO, FUA, RARC and FUA_NV are accepted: every write is durable in the
    // store's terms as soon as it returns.
    {0x28,
     false,
     0,
     10,
     CommandKind::kRead,
     {0x28, 0x1E, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0xFF, 0xFF, 0}},
    {0x2A,
     false,
     0,
     10,
     CommandKind::kWrite,
     {0x2A, 0x1A, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0xFF, 0xFF, 0}},
    {0x2F,
     false,
     0,
     10,
     CommandKind::kVerify,
     {0x2F, 0x16, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0xFF, 0xFF, 0}},
    {0x35,
     false,
     0,
     10,
     CommandKind::kSynchronizeCache,
     {0x35, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0xFF, 0xFF, 0}},
    {0x41,
     false,
     0,
     10,
     CommandKind::kWriteSame,
     {0x41, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0xFF, 0xFF, 0}},
    {0x42, false, 0, 10, CommandKind::kUnmap, {0x42, 0, 0, 0, 0, 0, 0x1F, 0xFF, 0xFF, 0}},
    {0x5A, false, 0, 10, CommandKind::kModeSense, {0x5A, 0x18, 0xFF, 0xFF, 0, 0, 0, 0xFF, 0xFF, 0}},
    {0x88,
     false,
     0,
     16,
     CommandKind::kRead,
     {0x88, 0x1E, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0}},
    {0x8A,
     false,
     0,
     16,
     CommandKind::kWrite,
     {0x8A, 0x1A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0}},
    {0x8F,
     false,
     0,
     16,
     CommandKind::kVerify,
     {0x8F, 0x16, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0}},
    {0x91,
     false,
     0,
     16,
     CommandKind::kSynchronizeCache,
     {0x91, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0}},
    {0x93,
     false,
     0,
     16,
     CommandKind::kWriteSame,
     {0x93, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0}},
    {kServiceActionIn16,
     true,
     0x10,
     16,
     CommandKind::kReadCapacity16,
     {0x9E, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0}},
    {0xA0,
     false,
     0,
     12,
     CommandKind::kReportLuns,
     {0xA0, 0, 0xFF, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0}},
    {kMaintenanceIn,
     true,
     0x0C,
     12,
     CommandKind::kReportSupportedOperationCodes,
     {0xA3, 0x0C, 0x87, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0}},
    {0xA8,
     false,
     0,
     12,
     CommandKind::kRead,
     {0xA8, 0x1E, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0}},
    {0xAA,
     false,
     0,
     12,
     CommandKind::kWrite,
     {0xAA, 0x1A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0}},
    {0xAF,
     false,
     0,
     12,
     CommandKind::kVerify,
     {0xAF, 0x16, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0}},
};

static_assert(std::size(kCommands) == kSupportedCommandCount);

}  // namespace

std::span<const CommandInfo> supported_commands() {
  return kCommands;
}

const CommandInfo* find_command(uint8_t opcode, uint8_t service_action) {
  // Every command passes through here: index by operation code, and search
  // only among the few that share one by service action.
  static constexpr std::array<int8_t, 256> kIndex = [] {
    std::array<int8_t, 256> index{};
    index.fill(-1);
    for (size_t i = 0; i < std::size(kCommands); ++i) {
      if (index[kCommands[i].opcode] < 0) index[kCommands[i].opcode] = static_cast<int8_t>(i);
    }
    return index;
  }();
  const int8_t first = kIndex[opcode];
  if (first < 0) return nullptr;
  if (!has_service_actions(opcode)) return &kCommands[first];
  for (size_t i = static_cast<size_t>(first); i < std::size(kCommands); ++i) {
    if (kCommands[i].opcode == opcode && kCommands[i].service_action == service_action) {
      return &kCommands[i];
    }
  }
  return nullptr;
}

bool has_service_actions(uint8_t opcode) {
  return opcode == kServiceActionIn16 || opcode == kMaintenanceIn;
}

}  // namespace isergw::backend_ram
