#include "gateway/task.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace isergw::gateway {
namespace {

constexpr TaskState kAll[] = {TaskState::kAtStorage, TaskState::kWaitingForBuffers,
                              TaskState::kReceivingData, TaskState::kCompleted,
                              TaskState::kAborted};

TEST(TaskStateTest, AnEndedTaskMovesNoMoreAndALiveOneMovesAnywhereElse) {
  for (const TaskState from : kAll) {
    const bool ended = from == TaskState::kCompleted || from == TaskState::kAborted;
    for (const TaskState to : kAll) {
      EXPECT_EQ(task_transition_legal(from, to), !ended && from != to)
          << task_state_name(from) << " -> " << task_state_name(to);
    }
  }
}

TEST(TaskStateTest, EveryStateHasItsOwnName) {
  std::set<std::string> names;
  for (const TaskState state : kAll)
    names.insert(task_state_name(state));
  EXPECT_EQ(names.size(), kTaskStateCount);
  EXPECT_EQ(names.count("unknown"), 0U);
}

}  // namespace
}  // namespace isergw::gateway
