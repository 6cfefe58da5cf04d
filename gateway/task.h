// One SCSI command on its way through the gateway, and the pieces of data
// and status that travel with it between the front and the back.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "gateway/buffer_pool.h"
#include "iscsi/scsi_command_pdu.h"

namespace isergw::gateway {

// A piece of a command's write data where it landed: a pool buffer, shared
// by the slices cut from one received PDU, or memory the back leg lent for
// it (DataLanding, gateway/front_transport.h).
struct DataSlice {
  uint32_t offset = 0;  // within the command's data
  std::span<const uint8_t> bytes;
  std::shared_ptr<const void> owner;  // keeps `bytes` valid
};

// How a command ended, as the back end reports it: the storage's own status,
// sense data and residuals, passed to the host unchanged.
struct Completion {
  uint8_t response = iscsi::kResponseCommandCompleted;
  uint8_t status = 0;  // SCSI status
  std::vector<uint8_t> sense;
  bool residual_overflow = false;
  bool residual_underflow = false;
  uint32_t residual_count = 0;
  bool bidi_read_overflow = false;
  bool bidi_read_underflow = false;
  uint32_t bidi_read_residual_count = 0;
  // From the command leaving for the storage to its status arriving, for
  // back legs that relay (the built-in back end has no round trip).
  std::optional<std::chrono::nanoseconds> back_round_trip;
};

// Where a command is, as an admin asks when one seems stuck: SPDK's request
// states, cut to what a relay does. Every change goes through
// FrontSession::transition(), which checks it against task_transition_legal()
// and counts it (isergw_task_transitions_total); nothing keeps a task's state
// anywhere else.
enum class TaskState : uint8_t {
  kAtStorage,          // with the back end: sent to the storage, or queued for it
  kWaitingForBuffers,  // its write data waits for pool buffers to be set aside
  kReceivingData,      // the host was asked for write data (R2T, RDMA Read)
  kCompleted,          // status sent to the host
  kAborted,            // ended by task management or a lost connection
};
inline constexpr size_t kTaskStateCount = 5;

// "at_storage", "waiting_for_buffers", ...: the names /metrics and the API use.
const char* task_state_name(TaskState state);
// Whether a task may move from `from` to `to`. A task that ended moves no
// more; one that lives may end, or move between the waits.
bool task_transition_legal(TaskState from, TaskState to);

struct Task {
  using State = TaskState;

  uint64_t id = 0;  // unique within the gateway, for logs and traces
  uint32_t itt = 0;
  uint32_t back_itt = 0xffffffff;  // the back leg's tag for it toward the storage
  uint32_t cmd_sn = 0;
  uint64_t lun = 0;
  bool immediate = false;
  bool read = false;
  bool write = false;
  iscsi::TaskAttribute task_attribute = iscsi::TaskAttribute::kSimple;
  std::vector<uint8_t> cdb;  // the whole CDB, extended part included
  uint32_t expected_data_transfer_length = 0;
  std::optional<uint32_t> bidi_read_expected_data_transfer_length;
  State state = State::kAtStorage;  // FrontSession::transition() alone changes it
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point state_since;  // when it entered `state`

  // Where read data goes up to: EDTL for a read, the bidirectional read
  // length for a bidirectional command.
  uint32_t read_length() const {
    if (write && read) return bidi_read_expected_data_transfer_length.value_or(0);
    return read ? expected_data_transfer_length : 0;
  }
};

// One command in flight, as GET /api/v1/sessions/{id}/tasks shows it: a
// command stuck at the storage is the first thing an admin has to find.
struct TaskInfo {
  uint64_t id = 0;
  uint32_t itt = 0;
  uint32_t cmd_sn = 0;
  uint64_t lun = 0;
  uint8_t operation_code = 0;  // the CDB's first byte
  bool read = false;
  bool write = false;
  uint32_t expected_data_transfer_length = 0;
  TaskState state = TaskState::kAtStorage;
  std::chrono::steady_clock::duration age{};       // since the command arrived
  std::chrono::steady_clock::duration in_state{};  // since it entered `state`
};

}  // namespace isergw::gateway
