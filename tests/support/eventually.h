// Waits for another thread (a gateway's worker, a session's loop, a child
// process) to reach a state that the test can only observe, not be told of.
#pragma once

#include <chrono>
#include <thread>

namespace isergw::testing_support {

// Polls `predicate` every `interval` until it holds or `limit` has passed;
// whether it held. The last look comes after the limit, so a state reached
// during the final sleep still counts.
template <typename Predicate>
bool eventually(Predicate&& predicate, std::chrono::milliseconds limit = std::chrono::seconds(3),
                std::chrono::milliseconds interval = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
  return true;
}

}  // namespace isergw::testing_support
