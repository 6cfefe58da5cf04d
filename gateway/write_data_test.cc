#include "gateway/write_data.h"

#include <gtest/gtest.h>

#include <array>
#include <numeric>

namespace isergw::gateway {
namespace {

class WriteDataTest : public testing::Test {
 protected:
  WriteDataTest() { std::iota(bytes_.begin(), bytes_.end(), 0); }
  DataSlice slice(uint32_t offset, uint32_t length) {
    return DataSlice{offset, std::span<const uint8_t>(bytes_.data() + offset, length), nullptr};
  }
  std::array<uint8_t, 256> bytes_{};
};

using Gaps = std::vector<std::pair<uint32_t, uint32_t>>;

TEST_F(WriteDataTest, TracksCoverageAndGapsAsPiecesArriveOutOfOrder) {
  WriteData data(100);
  EXPECT_EQ(data.gaps(0, 100), (Gaps{{0, 100}}));
  ASSERT_TRUE(data.add(slice(40, 20)));
  ASSERT_TRUE(data.add(slice(0, 10)));
  EXPECT_EQ(data.received(), 30U);
  EXPECT_EQ(data.gaps(0, 100), (Gaps{{10, 30}, {60, 40}}));
  EXPECT_TRUE(data.covers(40, 20));
  EXPECT_TRUE(data.covers(45, 5));
  EXPECT_FALSE(data.covers(5, 10));
  ASSERT_TRUE(data.add(slice(10, 30)));
  ASSERT_TRUE(data.add(slice(60, 40)));
  EXPECT_TRUE(data.covers(0, 100));
}

TEST_F(WriteDataTest, SlicesAreCutAtTheRangeEdgesAndPointIntoTheOriginalBytes) {
  WriteData data(100);
  ASSERT_TRUE(data.add(slice(0, 50)));
  ASSERT_TRUE(data.add(slice(50, 50)));
  const auto slices = data.slices(30, 40);
  ASSERT_EQ(slices.size(), 2U);
  EXPECT_EQ(slices[0].offset, 30U);
  EXPECT_EQ(slices[0].bytes.size(), 20U);
  EXPECT_EQ(slices[0].bytes.data(), bytes_.data() + 30);
  EXPECT_EQ(slices[1].offset, 50U);
  EXPECT_EQ(slices[1].bytes.size(), 20U);
  EXPECT_EQ(slices[1].bytes.back(), 69);
}

TEST_F(WriteDataTest, RefusesOverlapsAndDataPastTheEnd) {
  WriteData data(100);
  ASSERT_TRUE(data.add(slice(20, 20)));
  const auto overlap_after = data.add(slice(30, 20));
  ASSERT_FALSE(overlap_after);
  EXPECT_NE(overlap_after.error().find("overlaps"), std::string::npos);
  EXPECT_FALSE(data.add(slice(10, 11)));
  const auto past = data.add(slice(90, 20));
  ASSERT_FALSE(past);
  EXPECT_NE(past.error().find("expected data transfer length 100"), std::string::npos);
  EXPECT_EQ(data.received(), 20U);
}

// Data handed over to a back leg is forgotten by the command, so its
// buffers return once the back leg is done; what was received still
// counts, and a slice that reaches past the range stays.
TEST_F(WriteDataTest, TakeHandsOverWhatLiesWhollyInTheRange) {
  WriteData data(300);
  auto first = std::make_shared<int>(1);
  auto second = std::make_shared<int>(2);
  std::vector<uint8_t> bytes(300, 7);
  ASSERT_TRUE(data.add(DataSlice{0, std::span(bytes).first(100), first}));
  ASSERT_TRUE(data.add(DataSlice{100, std::span(bytes).subspan(100, 150), second}));
  const std::vector<DataSlice> taken = data.take(0, 200);
  ASSERT_EQ(taken.size(), 2U);
  EXPECT_EQ(taken[1].bytes.size(), 100U);
  EXPECT_EQ(first.use_count(), 2);   // the taker's copy, and the test's
  EXPECT_EQ(second.use_count(), 3);  // still held for [200, 250) too
  EXPECT_EQ(data.received(), 250U);
  EXPECT_TRUE(data.covers(200, 50));
  EXPECT_FALSE(data.covers(0, 100));
}

}  // namespace
}  // namespace isergw::gateway
