#include "common/log.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace isergw::log
