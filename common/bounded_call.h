// Blocking work that may never return (reading a file on a hung network
// file system) run where it cannot hold its caller: on a thread of its own,
// waited for at most a limit. The control thread serves the whole REST API,
// so one such read must not stop it.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <utility>

#include "common/expected.h"

namespace isergw {

enum class BoundedCallFailure {
  kTimedOut,  // the work did not return within the limit; it goes on alone
  kBusy,      // an earlier call's work has still not returned
};

// One call at a time: while an earlier call's work is blocked, the next is
// refused at once, so a hung file system costs one thread, not one per
// retry.
template <typename Result>
class BoundedCall {
 public:
  explicit BoundedCall(std::chrono::milliseconds limit) : limit_(limit) {}

  Expected<Result, BoundedCallFailure> run(std::function<Result()> work) {
    if (busy_->exchange(true)) return Unexpected{BoundedCallFailure::kBusy};
    auto task = std::make_shared<std::packaged_task<Result()>>(std::move(work));
    std::future<Result> result = task->get_future();
    // Detached: the caller may be gone by the time a hung read returns, so
    // the thread holds all it touches.
    std::thread([task, busy = busy_] {
      (*task)();
      busy->store(false);
    }).detach();
    if (result.wait_for(limit_) != std::future_status::ready) {
      return Unexpected{BoundedCallFailure::kTimedOut};
    }
    return result.get();
  }

 private:
  std::chrono::milliseconds limit_;
  std::shared_ptr<std::atomic<bool>> busy_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace isergw
