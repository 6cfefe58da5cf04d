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

struct Task {
  // Every state change passes through one place (the front session), which
  // counts and traces it.
  enum class State {
    kSubmitted,  // handed to the back end
    kPulling,    // the back end waits for write data from the host
    kCompleted,  // status sent to the host
    kAborted,    // ended by task management or a lost connection
  };

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
  State state = State::kSubmitted;
  std::chrono::steady_clock::time_point started;

  // Where read data goes up to: EDTL for a read, the bidirectional read
  // length for a bidirectional command.
  uint32_t read_length() const {
    if (write && read) return bidi_read_expected_data_transfer_length.value_or(0);
    return read ? expected_data_transfer_length : 0;
  }
};

}  // namespace isergw::gateway
