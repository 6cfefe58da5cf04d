// REPORT SUPPORTED OPERATION CODES (SPC-4 §6.35). Linux sd asks it whether
// WRITE SAME and UNMAP are there before it uses them for discards.
#include <algorithm>
#include <array>

#include "backend_ram/big_endian.h"
#include "backend_ram/command_table.h"
#include "backend_ram/disk_context.h"

namespace isergw::backend_ram::internal {
namespace {

constexpr size_t kCommandDescriptorLength = 8;
constexpr size_t kTimeoutsDescriptorLength = 12;
// SUPPORT field values (SPC-4 Table 296).
constexpr uint8_t kNotSupported = 0x01;
constexpr uint8_t kSupportedPerStandard = 0x03;

// 4-byte header and every command with a timeouts descriptor.
constexpr size_t kAllCommandsMax =
    4 + kSupportedCommandCount * (kCommandDescriptorLength + kTimeoutsDescriptorLength);
using ReportBuffer = std::array<uint8_t, kAllCommandsMax>;

// The timeouts descriptor: zero timeouts mean "not specified".
size_t put_timeouts(uint8_t* out) {
  store_be16(out, kTimeoutsDescriptorLength - 2);
  return kTimeoutsDescriptorLength;
}

size_t all_commands(bool timeouts, ReportBuffer& data) {
  size_t length = 4;
  for (const CommandInfo& info : supported_commands()) {
    uint8_t* out = &data[length];
    out[0] = info.opcode;
    store_be16(&out[2], info.service_action);
    out[5] = static_cast<uint8_t>((timeouts ? 0x02 : 0) | (info.has_service_action ? 0x01 : 0));
    store_be16(&out[6], info.cdb_length);
    length += kCommandDescriptorLength;
    if (timeouts) length += put_timeouts(&data[length]);
  }
  store_be32(&data[0], static_cast<uint32_t>(length - 4));
  return length;
}

size_t one_command(const CommandInfo* info, bool timeouts, ReportBuffer& data) {
  if (info == nullptr) {
    data[1] = kNotSupported;
    return 4;
  }
  data[1] = static_cast<uint8_t>((timeouts ? 0x80 : 0) | kSupportedPerStandard);
  store_be16(&data[2], info->cdb_length);
  std::copy(info->usage.begin(), info->usage.begin() + info->cdb_length, &data[4]);
  size_t length = 4 + info->cdb_length;
  if (timeouts) length += put_timeouts(&data[length]);
  return length;
}

}  // namespace

ScsiResult report_supported_operation_codes(const Context& context) {
  const bool timeouts = (context.cdb[2] & 0x80) != 0;  // RCTD
  const uint8_t reporting_options = context.cdb[2] & 0x07;
  const uint8_t opcode = context.cdb[3];
  const uint16_t service_action = load_be16(&context.cdb[4]);
  const uint32_t allocation_length = load_be32(&context.cdb[6]);
  ReportBuffer data{};
  size_t length = 0;
  switch (reporting_options) {
    case 0:
      length = all_commands(timeouts, data);
      break;
    case 1:
      // SPC-4 §6.35.1: asking without a service action for a command that
      // has them is an invalid field.
      if (has_service_actions(opcode)) return invalid_field_in_cdb(context, 2, 2);
      length = one_command(find_command(opcode, 0), timeouts, data);
      break;
    case 2:
      if (!has_service_actions(opcode)) return invalid_field_in_cdb(context, 2, 2);
      length = one_command(service_action > 0x1F
                               ? nullptr
                               : find_command(opcode, static_cast<uint8_t>(service_action)),
                           timeouts, data);
      break;
    case 3: {
      // Either kind; for a command without service actions only 0 matches.
      const CommandInfo* info = nullptr;
      if (has_service_actions(opcode)) {
        if (service_action <= 0x1F)
          info = find_command(opcode, static_cast<uint8_t>(service_action));
      } else if (service_action == 0) {
        info = find_command(opcode, 0);
      }
      length = one_command(info, timeouts, data);
      break;
    }
    default:
      return invalid_field_in_cdb(context, 2, 2);
  }
  return data_in(context, std::span(data).first(length), allocation_length);
}

}  // namespace isergw::backend_ram::internal
