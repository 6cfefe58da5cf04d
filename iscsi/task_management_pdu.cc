#include "iscsi/task_management_pdu.h"

#include "iscsi/byte_order.h"

namespace isergw::iscsi {
namespace {
constexpr std::uint8_t kFunctionMask = 0x7f;
}  // namespace

std::string_view task_management_function_name(TaskManagementFunction function) {
  switch (function) {
    case TaskManagementFunction::kAbortTask:
      return "ABORT TASK";
    case TaskManagementFunction::kAbortTaskSet:
      return "ABORT TASK SET";
    case TaskManagementFunction::kClearAca:
      return "CLEAR ACA";
    case TaskManagementFunction::kClearTaskSet:
      return "CLEAR TASK SET";
    case TaskManagementFunction::kLogicalUnitReset:
      return "LOGICAL UNIT RESET";
    case TaskManagementFunction::kTargetWarmReset:
      return "TARGET WARM RESET";
    case TaskManagementFunction::kTargetColdReset:
      return "TARGET COLD RESET";
    case TaskManagementFunction::kTaskReassign:
      return "TASK REASSIGN";
  }
  return "an unknown task management function";
}

Expected<TaskManagementRequest, PduError> decode_task_management_request(BhsBytes bhs) {
  constexpr Opcode kOpcode = Opcode::kTaskManagementRequest;
  if (auto ok = require_final_bit(bhs, kOpcode); !ok) return Unexpected{ok.error()};
  if (auto ok = require_no_data_segment(bhs, kOpcode); !ok) return Unexpected{ok.error()};
  const std::uint8_t* p = bhs.data();
  TaskManagementRequest out;
  out.immediate = (p[0] & kImmediateBit) != 0;
  out.function = static_cast<TaskManagementFunction>(p[1] & kFunctionMask);
  out.lun = load_be64(p + 8);
  out.itt = load_be32(p + 16);
  out.referenced_task_tag = load_be32(p + 20);
  out.cmd_sn = load_be32(p + 24);
  out.exp_stat_sn = load_be32(p + 28);
  out.ref_cmd_sn = load_be32(p + 32);
  out.exp_data_sn = load_be32(p + 36);
  return out;
}

Expected<TaskManagementResponse, PduError> decode_task_management_response(BhsBytes bhs) {
  constexpr Opcode kOpcode = Opcode::kTaskManagementResponse;
  if (auto ok = require_final_bit(bhs, kOpcode); !ok) return Unexpected{ok.error()};
  if (auto ok = require_no_data_segment(bhs, kOpcode); !ok) return Unexpected{ok.error()};
  const std::uint8_t* p = bhs.data();
  TaskManagementResponse out;
  out.response = static_cast<TaskManagementResponseCode>(p[2]);
  out.itt = load_be32(p + 16);
  out.stat_sn = load_be32(p + 24);
  out.exp_cmd_sn = load_be32(p + 28);
  out.max_cmd_sn = load_be32(p + 32);
  return out;
}

void encode_task_management_request(const TaskManagementRequest& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kTaskManagementRequest) |
         (pdu.immediate ? kImmediateBit : 0);
  p[1] = kFinalBit | (static_cast<std::uint8_t>(pdu.function) & kFunctionMask);
  store_be64(p + 8, pdu.lun);
  store_be32(p + 16, pdu.itt);
  store_be32(p + 20, pdu.referenced_task_tag);
  store_be32(p + 24, pdu.cmd_sn);
  store_be32(p + 28, pdu.exp_stat_sn);
  store_be32(p + 32, pdu.ref_cmd_sn);
  store_be32(p + 36, pdu.exp_data_sn);
}

void encode_task_management_response(const TaskManagementResponse& pdu, MutableBhsBytes bhs) {
  std::uint8_t* p = bhs.data();
  p[0] = static_cast<std::uint8_t>(Opcode::kTaskManagementResponse);
  p[1] = kFinalBit;
  p[2] = static_cast<std::uint8_t>(pdu.response);
  store_be32(p + 16, pdu.itt);
  store_be32(p + 24, pdu.stat_sn);
  store_be32(p + 28, pdu.exp_cmd_sn);
  store_be32(p + 32, pdu.max_cmd_sn);
}

}  // namespace isergw::iscsi
