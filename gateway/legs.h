// The two sides of a relayed session, as the relay core sees them.
//
// A front leg is the gateway acting as a target toward a host; a back leg is
// the gateway acting as an initiator toward the storage (or a built-in back
// end). The core moves descriptors, never bytes: the back leg asks the front
// for write data with pull(), which hands back slices of the buffers the
// data landed in, and gives read data to the front with push(), which sends
// it from the back's own buffer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gateway/front_transport.h"
#include "gateway/task.h"
#include "iscsi/async_message_pdu.h"
#include "iscsi/login_pdu.h"
#include "iscsi/login_status.h"
#include "iscsi/negotiation.h"
#include "iscsi/task_management_pdu.h"

namespace isergw::gateway {

using PullDone = std::function<void(std::vector<DataSlice>)>;

class FrontLeg {
 public:
  virtual ~FrontLeg() = default;

  // Delivers write data [offset, offset + length) of the task, from data the
  // host already sent (immediate, unsolicited) or by soliciting it (R2T on
  // TCP, RDMA Read on iSER). `done` is not called if the task ends first.
  virtual void pull(Task& task, uint32_t offset, uint32_t length, PullDone done) = 0;

  // Sends read data at `offset` to the host; `owner` keeps `data` valid until
  // it has left.
  virtual void push(Task& task, uint32_t offset, std::span<const uint8_t> data,
                    std::shared_ptr<const void> owner) = 0;

  // The write data at [offset, offset + max_length) that has arrived
  // already, as far as it is contiguous, without soliciting more: what a
  // back leg can send as immediate data at once.
  virtual std::vector<DataSlice> received(Task& task, uint32_t offset, uint32_t max_length) = 0;

  // Sends the command's status. The task is gone when this returns.
  virtual void complete(Task& task, const Completion& completion) = 0;

  // An Asynchronous Message from the storage, for the host; the front sets
  // its own sequence numbers.
  virtual void notify(const iscsi::AsyncMessage& message) = 0;

  // The back leg can no longer carry the session (the storage dropped it,
  // or broke the protocol): the front ends its connection so that the host
  // recovers by logging in again (error recovery level 0).
  virtual void back_failed(const std::string& reason) = 0;
};

// Who the host is, for a back leg that logs in to the storage on its behalf.
struct HostIdentity {
  std::string initiator_name;
  std::string initiator_alias;
  iscsi::Isid isid{};
};

// How opening a back leg ended; on failure, the status the host's login is
// refused with.
struct BackOpenResult {
  iscsi::LoginStatus status = iscsi::LoginStatus::kSuccess;
  std::string reason;
  bool ok() const { return status == iscsi::LoginStatus::kSuccess; }
};
using OpenDone = std::function<void(const BackOpenResult&)>;
using ManageDone = std::function<void(iscsi::TaskManagementResponseCode)>;

// A task management function as the front passes it on.
struct TaskManagement {
  iscsi::TaskManagementFunction function = iscsi::TaskManagementFunction::kAbortTask;
  uint64_t lun = 0;
  const Task* referenced = nullptr;  // ABORT TASK
};

// What the control API shows of a back leg.
struct BackLegInfo {
  std::string back_end;  // the back-end URL, secrets redacted
  std::string state;     // "connecting", "logged in", "closing", "closed"
  // The session the gateway holds with the storage, for relayed back ends.
  std::optional<iscsi::NegotiatedParameters> parameters;
  uint16_t tsih = 0;
  uint64_t commands = 0;
  uint32_t in_flight = 0;
  // Commands the gateway answered itself because this back end cannot carry
  // them (an iSER back end's largest command).
  uint64_t refused_commands = 0;
  // Commands sent to the storage as several, each at most what one of the
  // back end's commands carries (an iSER back end's command buffer).
  uint64_t split_commands = 0;
  // The connection to the storage, while there is one: what crossed it.
  std::optional<ConnectionStatistics> connection;
};

class BackLeg {
 public:
  virtual ~BackLeg() = default;

  // Logs in to the storage for the host, before the host's own login
  // completes, so that a storage that refuses the host refuses it at login.
  // `front` gets notify() and back_failed() once done has reported success.
  virtual void open(FrontLeg& front, const HostIdentity& host, OpenDone done) = 0;

  // The front is going away: the back leg never calls it again, and logs
  // out of the storage on its own time.
  virtual void close() = 0;

  // Calls `released` once the back leg has let go of the storage (logged
  // out, or its connection closed), at once if it holds nothing there: what
  // a reinstating login waits for, so that the storage has ended the old
  // session's commands before the new session's arrive.
  virtual void when_released(std::function<void()> released) { released(); }

  // Starts a command; the back leg later calls the front's complete() for
  // it, exactly once, unless the front aborts it first.
  virtual void submit(Task& task, FrontLeg& front) = 0;

  // Passes a task management function to the storage; `done` gets its
  // answer. The front aborts the affected tasks itself, after this call.
  virtual void manage(const TaskManagement& request, ManageDone done) = 0;

  // The front has ended the task (task management, or the host is gone):
  // the back leg forgets it and never calls the front for it again.
  virtual void abort(Task& task) = 0;

  // Memory to receive the task's write data [offset, offset + length) into,
  // if the back leg has a place for it that the storage does not read yet;
  // nullopt lets the front land it in a pool buffer, as it does by default.
  // Each range is asked for once, only for data the host was asked for.
  virtual std::optional<DataLanding> landing(const Task& /*task*/, uint32_t /*offset*/,
                                             uint32_t /*length*/) {
    return std::nullopt;
  }

  // Commands the back end takes at once; the front's CmdSN window is never
  // wider, so a host is never invited to queue what the storage would refuse.
  virtual uint32_t command_window() const = 0;

  virtual BackLegInfo info() const = 0;
};

}  // namespace isergw::gateway
