#include "iser/cm_private_data.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace isergw::iser {
namespace {

TEST(CmPrivateData, ALinuxInitiatorWithAlwaysRegisterOffSetsBothFlags) {
  const std::array<std::uint8_t, 4> bytes = {0xc0, 0, 0, 0};
  auto data = decode_cm_private_data(bytes);
  ASSERT_TRUE(data) << data.error().describe();
  EXPECT_TRUE(data->present);
  EXPECT_TRUE(data->zbva_not_supported);
  EXPECT_TRUE(data->send_with_invalidate_not_supported);
  EXPECT_FALSE(may_send_with_invalidate(*data));
}

TEST(CmPrivateData, ALinuxInitiatorWithFastRegistrationAllowsSendWithInvalidate) {
  const std::array<std::uint8_t, 4> bytes = {0x80, 0, 0, 0};
  auto data = decode_cm_private_data(bytes);
  ASSERT_TRUE(data);
  EXPECT_TRUE(data->zbva_not_supported);
  EXPECT_FALSE(data->send_with_invalidate_not_supported);
  EXPECT_TRUE(may_send_with_invalidate(*data));
}

TEST(CmPrivateData, EncodesTheFlagsInTheFirstByte) {
  EXPECT_EQ(encode_cm_private_data({}), (std::array<std::uint8_t, 4>{0x80, 0, 0, 0}));
  EXPECT_EQ(encode_cm_private_data(
                {.zbva_not_supported = true, .send_with_invalidate_not_supported = true}),
            (std::array<std::uint8_t, 4>{0xc0, 0, 0, 0}));
  EXPECT_EQ(encode_cm_private_data({.zbva_not_supported = false}),
            (std::array<std::uint8_t, 4>{0, 0, 0, 0}));
}

TEST(CmPrivateData, IgnoresInfinibandPaddingAndReservedBits) {
  std::vector<std::uint8_t> bytes(56, 0xff);
  bytes[0] = 0xbf;
  auto data = decode_cm_private_data(bytes);
  ASSERT_TRUE(data);
  EXPECT_TRUE(data->zbva_not_supported);
  EXPECT_FALSE(data->send_with_invalidate_not_supported);
}

TEST(CmPrivateData, NoneAtAllReadsAsNeitherFeature) {
  auto data = decode_cm_private_data({});
  ASSERT_TRUE(data);
  EXPECT_FALSE(data->present);
  EXPECT_TRUE(data->zbva_not_supported);
  EXPECT_FALSE(may_send_with_invalidate(*data));
}

TEST(CmPrivateData, RejectsOneToThreeBytes) {
  const std::array<std::uint8_t, 3> bytes = {0x80, 0, 0};
  for (std::size_t length = 1; length < 4; ++length) {
    auto data = decode_cm_private_data(std::span(bytes).first(length));
    ASSERT_FALSE(data);
    EXPECT_EQ(data.error().code, IserErrc::kTruncated);
    EXPECT_NE(data.error().describe().find("CM private data"), std::string::npos);
  }
}

}  // namespace
}  // namespace isergw::iser
