#include "gateway/task.h"

namespace isergw::gateway {

const char* task_state_name(TaskState state) {
  switch (state) {
    case TaskState::kAtStorage:
      return "at_storage";
    case TaskState::kWaitingForBuffers:
      return "waiting_for_buffers";
    case TaskState::kReceivingData:
      return "receiving_data";
    case TaskState::kCompleted:
      return "completed";
    case TaskState::kAborted:
      return "aborted";
  }
  return "unknown";
}

bool task_transition_legal(TaskState from, TaskState to) {
  const bool ended = from == TaskState::kCompleted || from == TaskState::kAborted;
  return !ended && from != to;
}

}  // namespace isergw::gateway
