#include "common/log.h"

#include <gtest/gtest.h>

#include <thread>

namespace isergw::log {
namespace {

// An event that repeats without end is logged once per interval, and the
// next line says how many were left out.
TEST(ThrottleTest, OneLinePerIntervalAndTheCountOfTheRest) {
  using std::chrono::seconds;
  const auto start = std::chrono::steady_clock::now();
  Throttle throttle(seconds(10));
  EXPECT_TRUE(throttle.allow(start));
  EXPECT_EQ(throttle.suppressed(), 0U);
  for (int i = 1; i <= 1000; ++i)
    EXPECT_FALSE(throttle.allow(start + std::chrono::milliseconds(i)));
  EXPECT_TRUE(throttle.allow(start + seconds(10)));
  EXPECT_EQ(throttle.suppressed(), 1000U);
  EXPECT_FALSE(throttle.allow(start + seconds(11)));
  EXPECT_TRUE(throttle.allow(start + seconds(25)));
  EXPECT_EQ(throttle.suppressed(), 1U);
}

// A burst passes whole; what follows within the interval is counted, and
// the first line of the next interval reports it.
TEST(ThrottleTest, ABurstPassesAndTheRestIsCounted) {
  using std::chrono::milliseconds;
  const auto start = std::chrono::steady_clock::now();
  Throttle throttle(std::chrono::seconds(1), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(throttle.allow(start + milliseconds(i)));
    EXPECT_EQ(throttle.suppressed(), 0U);
  }
  for (int i = 3; i < 50; ++i)
    EXPECT_FALSE(throttle.allow(start + milliseconds(i)));
  EXPECT_TRUE(throttle.allow(start + milliseconds(1000)));
  EXPECT_EQ(throttle.suppressed(), 47U);
  EXPECT_TRUE(throttle.allow(start + milliseconds(1001)));
  EXPECT_EQ(throttle.suppressed(), 0U);
}

// Peer-caused lines on one thread: a flood is cut to the per-second
// allowance.
TEST(ThrottleTest, PeerLinesAreLimitedPerThread) {
  size_t passed = 0;
  std::thread([&] {
    for (int i = 0; i < 10000; ++i)
      passed += peer_throttle().allow() ? 1 : 0;
  }).join();
  EXPECT_GE(passed, kPeerLinesPerSecond);
  EXPECT_LE(passed, 3 * kPeerLinesPerSecond) << "a loop of 10,000 took over two seconds?";
}

}  // namespace
}  // namespace isergw::log
