#include "common/bounded_call.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>

namespace isergw {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

TEST(BoundedCallTest, WorkThatReturnsInTimeGivesItsResult) {
  BoundedCall<int> call(milliseconds(2000));
  auto result = call.run([] { return 42; });
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 42);
  // The next call is free once the work has returned.
  for (int i = 0; i < 100; ++i) {
    auto again = call.run([i] { return i; });
    if (!again && again.error() == BoundedCallFailure::kBusy) {  // its thread is ending
      std::this_thread::sleep_for(milliseconds(1));
      continue;
    }
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, i);
    return;
  }
  FAIL() << "the call stayed busy after its work returned";
}

// A read that blocks (a hung file system) costs the caller the limit, and
// the next caller nothing: it is refused at once, whatever its work, until
// the read returns.
TEST(BoundedCallTest, BlockedWorkTimesOutAndHoldsOffTheNextCall) {
  // Shared with the blocked thread, which outlives this test if it fails
  // early: released on every way out.
  struct Gate {
    std::mutex mutex;
    std::condition_variable released;
    bool open = false;
    void release() {
      {
        std::lock_guard lock(mutex);
        open = true;
      }
      released.notify_all();
    }
  };
  auto gate = std::make_shared<Gate>();
  struct Release {
    std::shared_ptr<Gate> gate;
    ~Release() { gate->release(); }
  } release_on_exit{gate};
  BoundedCall<int> call(milliseconds(200));

  const auto start = steady_clock::now();
  auto blocked = call.run([gate] {
    std::unique_lock lock(gate->mutex);
    gate->released.wait(lock, [&] { return gate->open; });
    return 1;
  });
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error(), BoundedCallFailure::kTimedOut);
  EXPECT_GE(steady_clock::now() - start, milliseconds(200));

  bool ran = false;
  auto refused = call.run([&ran] {
    ran = true;
    return 2;
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), BoundedCallFailure::kBusy);
  EXPECT_FALSE(ran) << "refused work ran anyway";

  gate->release();
  const auto deadline = steady_clock::now() + std::chrono::seconds(5);
  while (steady_clock::now() < deadline) {
    auto after = call.run([] { return 3; });
    if (after) {
      EXPECT_EQ(*after, 3);
      return;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  FAIL() << "the call stayed busy after the blocked work returned";
}

}  // namespace
}  // namespace isergw
