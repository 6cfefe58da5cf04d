#include "iser/iser_header.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace isergw::iser {
namespace {

// A Linux ib_iser header for a WRITE with both STags valid: flags 0x1c,
// write STag 0x00001234 at VA 0xffff888012345678, read STag 0xabcdef01 at
// VA 0x0000000000001000.
constexpr std::array<std::uint8_t, 28> kBothValid = {
    0x1c, 0x00, 0x00, 0x00,                          // flags, reserved
    0x00, 0x00, 0x12, 0x34,                          // write STag
    0xff, 0xff, 0x88, 0x80, 0x12, 0x34, 0x56, 0x78,  // write VA
    0xab, 0xcd, 0xef, 0x01,                          // read STag
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,  // read VA
};

TEST(IserHeader, DecodesTheLinuxLayoutByteForByte) {
  auto header = decode_control_header(kBothValid);
  ASSERT_TRUE(header) << header.error().describe();
  EXPECT_TRUE(header->write_stag_valid);
  EXPECT_TRUE(header->read_stag_valid);
  EXPECT_EQ(header->write_stag, 0x1234u);
  EXPECT_EQ(header->write_va, 0xffff888012345678ull);
  EXPECT_EQ(header->read_stag, 0xabcdef01u);
  EXPECT_EQ(header->read_va, 0x1000u);
}

TEST(IserHeader, EncodesTheLinuxLayoutByteForByte) {
  const ControlHeader header{.write_stag_valid = true,
                             .read_stag_valid = true,
                             .write_stag = 0x1234,
                             .write_va = 0xffff888012345678ull,
                             .read_stag = 0xabcdef01,
                             .read_va = 0x1000};
  std::array<std::uint8_t, 28> out;
  out.fill(0xee);
  ASSERT_TRUE(encode_control_header(header, out));
  EXPECT_EQ(out, kBothValid);
}

TEST(IserHeader, ALoginPduHasNoValidStagAndAllZeroFields) {
  std::array<std::uint8_t, 28> out;
  out.fill(0xee);
  ASSERT_TRUE(encode_control_header({}, out));
  std::array<std::uint8_t, 28> expected{};
  expected[0] = 0x10;
  EXPECT_EQ(out, expected);
}

TEST(IserHeader, WritesNoStaleStagForAnInvalidDirection) {
  const ControlHeader header{.write_stag_valid = false,
                             .read_stag_valid = true,
                             .write_stag = 0x55,
                             .write_va = 0x66,
                             .read_stag = 7,
                             .read_va = 8};
  std::array<std::uint8_t, 28> out{};
  ASSERT_TRUE(encode_control_header(header, out));
  EXPECT_EQ(out[0], 0x14);
  auto back = decode_control_header(out);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->write_stag, 0u);
  EXPECT_EQ(back->write_va, 0u);
  EXPECT_EQ(back->read_stag, 7u);
  EXPECT_EQ(back->read_va, 8u);
}

TEST(IserHeader, IgnoresReservedBitsAndBytes) {
  auto bytes = kBothValid;
  bytes[0] |= 0x03;
  bytes[1] = 0xff;
  bytes[3] = 0x01;
  auto header = decode_control_header(bytes);
  ASSERT_TRUE(header);
  EXPECT_EQ(*header, *decode_control_header(kBothValid));
}

TEST(IserHeader, RejectsUnknownOpcodesNamingThem) {
  auto bytes = kBothValid;
  bytes[0] = 0x5c;
  auto header = decode_control_header(bytes);
  ASSERT_FALSE(header);
  EXPECT_EQ(header.error().code, IserErrc::kUnknownOpcode);
  EXPECT_EQ(header.error().offset, 0u);
  EXPECT_NE(header.error().describe().find("0x5"), std::string::npos);
}

TEST(IserHeader, RejectsAHelloWhereAControlPduIsDue) {
  auto bytes = kBothValid;
  bytes[0] = 0x20;
  auto header = decode_control_header(bytes);
  ASSERT_FALSE(header);
  EXPECT_EQ(header.error().code, IserErrc::kUnexpectedOpcode);
}

TEST(IserHeader, RejectsTruncatedHeaders) {
  for (std::size_t length = 0; length < kIserHeaderLength; ++length) {
    auto header = decode_control_header(std::span(kBothValid).first(length));
    ASSERT_FALSE(header) << length;
    EXPECT_EQ(header.error().code, IserErrc::kTruncated);
  }
}

TEST(IserHeader, EncoderRefusesASmallBuffer) {
  std::array<std::uint8_t, 27> out{};
  auto done = encode_control_header({}, out);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, IserErrc::kBufferTooSmall);
}

TEST(IserControlMessage, SplitsTheHeaderFromTheIscsiPdu) {
  std::vector<std::uint8_t> message(kBothValid.begin(), kBothValid.end());
  message.resize(76 + 8, 0);
  message[28] = 0x01;  // SCSI Command
  auto split = decode_control_message(message);
  ASSERT_TRUE(split) << split.error().describe();
  EXPECT_EQ(split->iscsi_pdu.size(), 56u);
  EXPECT_EQ(split->iscsi_pdu[0], 0x01);
  EXPECT_EQ(split->iscsi_pdu.data(), message.data() + 28);
}

TEST(IserControlMessage, NeedsAWholeBhs) {
  std::vector<std::uint8_t> message(kBothValid.begin(), kBothValid.end());
  message.resize(75, 0);
  auto split = decode_control_message(message);
  ASSERT_FALSE(split);
  EXPECT_EQ(split.error().code, IserErrc::kTruncated);
  EXPECT_EQ(split.error().offset, 75u);
}

TEST(IserPeek, NamesEachOpcode) {
  const std::uint8_t control = 0x18, hello = 0x20, reply = 0x31, bad = 0x00;
  EXPECT_EQ(*peek_opcode({&control, 1}), IserOpcode::kIscsiControl);
  EXPECT_EQ(*peek_opcode({&hello, 1}), IserOpcode::kHello);
  EXPECT_EQ(*peek_opcode({&reply, 1}), IserOpcode::kHelloReply);
  EXPECT_FALSE(peek_opcode({&bad, 1}));
  EXPECT_FALSE(peek_opcode({}));
}

TEST(WriteSourceAddress, SkipsTheUnsolicitedBytes) {
  const ControlHeader header{.write_stag_valid = true, .write_stag = 9, .write_va = 0x10000};
  // 8 KiB immediate data sent; an R2T at 8 KiB reads from the write VA itself.
  EXPECT_EQ(*write_source_address(header, 8192, 8192), 0x10000u);
  EXPECT_EQ(*write_source_address(header, 65536, 8192), 0x10000u + 65536 - 8192);
  auto inside = write_source_address(header, 4096, 8192);
  ASSERT_FALSE(inside);
  EXPECT_EQ(inside.error().code, IserErrc::kInvalidField);
}

TEST(WriteSourceAddress, NeedsAValidWriteStag) {
  EXPECT_FALSE(write_source_address({}, 0, 0));
}

}  // namespace
}  // namespace isergw::iser
