#include "iser/hello.h"

#include <gtest/gtest.h>

#include <array>

namespace isergw::iser {
namespace {

TEST(Hello, EncodesVersionsAndIrdByteForByte) {
  std::array<std::uint8_t, 28> out;
  out.fill(0xee);
  ASSERT_TRUE(encode_hello({.max_version = 10, .min_version = 10, .ird = 0x0010}, out));
  std::array<std::uint8_t, 28> expected{};
  expected[0] = 0x20;
  expected[1] = 0xaa;
  expected[2] = 0x00;
  expected[3] = 0x10;
  EXPECT_EQ(out, expected);
}

TEST(Hello, DecodesWhatItEncodes) {
  std::array<std::uint8_t, 28> bytes{};
  const Hello hello{.max_version = 12, .min_version = 9, .ird = 300};
  ASSERT_TRUE(encode_hello(hello, bytes));
  auto back = decode_hello(bytes);
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(*back, hello);
}

TEST(Hello, RejectsAnInvertedVersionRange) {
  std::array<std::uint8_t, 28> bytes{};
  bytes[0] = 0x20;
  bytes[1] = 0x9a;
  auto hello = decode_hello(bytes);
  ASSERT_FALSE(hello);
  EXPECT_EQ(hello.error().code, IserErrc::kInvalidField);
  EXPECT_EQ(hello.error().field, "MinVer");
}

TEST(Hello, RejectsOtherOpcodesAndShortMessages) {
  std::array<std::uint8_t, 28> bytes{};
  bytes[0] = 0x10;
  EXPECT_EQ(decode_hello(bytes).error().code, IserErrc::kUnexpectedOpcode);
  bytes[0] = 0x20;
  EXPECT_EQ(decode_hello(std::span(bytes).first(4)).error().code, IserErrc::kTruncated);
}

TEST(HelloReply, EncodesRejectAndOrdByteForByte) {
  std::array<std::uint8_t, 28> out{};
  ASSERT_TRUE(encode_hello_reply(
      {.reject = true, .max_version = 10, .current_version = 0, .ord = 0x0102}, out));
  EXPECT_EQ(out[0], 0x31);
  EXPECT_EQ(out[1], 0xa0);
  EXPECT_EQ(out[2], 0x01);
  EXPECT_EQ(out[3], 0x02);
  auto back = decode_hello_reply(out);
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_TRUE(back->reject);
  EXPECT_EQ(back->ord, 0x0102);
}

TEST(HelloReply, RejectsACurrentVersionAboveTheMaximum) {
  std::array<std::uint8_t, 28> bytes{};
  bytes[0] = 0x30;
  bytes[1] = 0xab;
  EXPECT_EQ(decode_hello_reply(bytes).error().code, IserErrc::kInvalidField);
}

TEST(AnswerHello, AcceptsOurVersionAndCapsTheOrd) {
  auto reply = answer_hello({.max_version = 10, .min_version = 10, .ird = 64}, 16);
  EXPECT_FALSE(reply.reject);
  EXPECT_EQ(reply.current_version, kIserVersion);
  EXPECT_EQ(reply.ord, 16);
  EXPECT_EQ(answer_hello({.ird = 4}, 16).ord, 4);
}

TEST(AnswerHello, RejectsARangeWithoutOurVersion) {
  EXPECT_TRUE(answer_hello({.max_version = 9, .min_version = 1, .ird = 4}, 16).reject);
  EXPECT_TRUE(answer_hello({.max_version = 12, .min_version = 11, .ird = 4}, 16).reject);
}

}  // namespace
}  // namespace isergw::iser
