// Task Management Function Request and Response PDUs (RFC 7143 §11.5,
// §11.6).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/expected.h"
#include "iscsi/bhs.h"
#include "iscsi/pdu_error.h"

namespace isergw::iscsi {

// Function codes (§11.5.1). Other values reach the target, which answers
// "Task management function not supported", so they decode.
enum class TaskManagementFunction : std::uint8_t {
  kAbortTask = 1,
  kAbortTaskSet = 2,
  kClearAca = 3,
  kClearTaskSet = 4,
  kLogicalUnitReset = 5,
  kTargetWarmReset = 6,
  kTargetColdReset = 7,
  kTaskReassign = 8,
};

// "ABORT TASK", "LOGICAL UNIT RESET", ...: SAM's names, for log lines.
std::string_view task_management_function_name(TaskManagementFunction function);

// Response codes (§11.6.1).
enum class TaskManagementResponseCode : std::uint8_t {
  kFunctionComplete = 0,
  kTaskDoesNotExist = 1,
  kLunDoesNotExist = 2,
  kTaskStillAllegiant = 3,
  kTaskAllegianceReassignmentNotSupported = 4,
  kFunctionNotSupported = 5,
  kFunctionAuthorizationFailed = 6,
  kFunctionRejected = 255,
};

struct TaskManagementRequest {
  bool immediate = false;
  TaskManagementFunction function = TaskManagementFunction::kAbortTask;
  std::uint64_t lun = 0;
  std::uint32_t itt = 0;
  std::uint32_t referenced_task_tag = kReservedTag;
  std::uint32_t cmd_sn = 0;
  std::uint32_t exp_stat_sn = 0;
  std::uint32_t ref_cmd_sn = 0;
  std::uint32_t exp_data_sn = 0;
};

struct TaskManagementResponse {
  TaskManagementResponseCode response = TaskManagementResponseCode::kFunctionComplete;
  std::uint32_t itt = 0;
  std::uint32_t stat_sn = 0;
  std::uint32_t exp_cmd_sn = 0;
  std::uint32_t max_cmd_sn = 0;
};

Expected<TaskManagementRequest, PduError> decode_task_management_request(BhsBytes bhs);
Expected<TaskManagementResponse, PduError> decode_task_management_response(BhsBytes bhs);
void encode_task_management_request(const TaskManagementRequest& pdu, MutableBhsBytes bhs);
void encode_task_management_response(const TaskManagementResponse& pdu, MutableBhsBytes bhs);

}  // namespace isergw::iscsi
