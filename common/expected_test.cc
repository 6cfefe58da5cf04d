#include "common/expected.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace isergw {
namespace {

Expected<int, std::string> parse_digit(char c) {
  if (c < '0' || c > '9') return Unexpected{std::string("not a digit")};
  return c - '0';
}

TEST(Expected, HoldsAValue) {
  const auto result = parse_digit('7');
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 7);
}

TEST(Expected, HoldsAnError) {
  const auto result = parse_digit('x');
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), "not a digit");
}

TEST(Expected, MovesOutMoveOnlyValues) {
  Expected<std::unique_ptr<int>, int> result(std::make_unique<int>(5));
  std::unique_ptr<int> owned = std::move(result).value();
  EXPECT_EQ(*owned, 5);
}

TEST(Expected, VoidCarriesOnlyFailure) {
  Expected<void, int> ok;
  Expected<void, int> failed = Unexpected{42};
  EXPECT_TRUE(ok);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error(), 42);
}

}  // namespace
}  // namespace isergw
