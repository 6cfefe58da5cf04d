#include "iscsi/crc32c.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <numeric>
#include <vector>

#include "iscsi/digest.h"

namespace isergw::iscsi {
namespace {

// RFC 3720 Appendix B.4 test vectors.
TEST(Crc32cTest, Rfc3720ZerosOnesAndRamps) {
  std::array<std::uint8_t, 32> bytes{};
  EXPECT_EQ(crc32c(bytes), 0x8a9136aau);
  bytes.fill(0xff);
  EXPECT_EQ(crc32c(bytes), 0x62a8ab43u);
  std::iota(bytes.begin(), bytes.end(), 0);
  EXPECT_EQ(crc32c(bytes), 0x46dd794eu);
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::uint8_t>(31 - i);
  EXPECT_EQ(crc32c(bytes), 0x113fdb5cu);
}

// The iSCSI Read(10) command PDU of RFC 3720 Appendix B.4, whose CRC the
// RFC gives as the wire bytes 56 3a 96 d9.
TEST(Crc32cTest, Rfc3720Read10CommandPdu) {
  const std::array<std::uint8_t, 48> pdu = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  std::array<std::uint8_t, 4> wire{};
  store_digest(wire.data(), crc32c(pdu));
  EXPECT_EQ(wire, (std::array<std::uint8_t, 4>{0x56, 0x3a, 0x96, 0xd9}));
}

TEST(Crc32cTest, EmptyInputIsZero) {
  EXPECT_EQ(crc32c({}), 0u);
}

TEST(Crc32cTest, IncrementalEqualsOneShotAtEverySplit) {
  std::vector<std::uint8_t> bytes(301);
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::uint8_t>(i * 7 + 3);
  const std::uint32_t whole = crc32c(bytes);
  for (std::size_t split = 0; split <= bytes.size(); ++split) {
    Crc32c crc;
    crc.update(std::span(bytes).first(split));
    crc.update(std::span(bytes).subspan(split));
    ASSERT_EQ(crc.value(), whole) << "split at " << split;
  }
}

TEST(Crc32cTest, ValueMayBeReadMidStream) {
  const std::array<std::uint8_t, 8> bytes = {1, 2, 3, 4, 5, 6, 7, 8};
  Crc32c crc;
  crc.update(std::span(bytes).first(4));
  EXPECT_EQ(crc.value(), crc32c(std::span(bytes).first(4)));
  crc.update(std::span(bytes).subspan(4));
  EXPECT_EQ(crc.value(), crc32c(bytes));
}

TEST(DigestTest, StoreAndLoadAreLittleEndian) {
  std::array<std::uint8_t, 4> wire{};
  store_digest(wire.data(), 0x8a9136aa);
  EXPECT_EQ(wire, (std::array<std::uint8_t, 4>{0xaa, 0x36, 0x91, 0x8a}));
  EXPECT_EQ(load_digest(wire.data()), 0x8a9136aau);
}

TEST(DigestTest, DataDigestCoversZeroPadding) {
  const std::array<std::uint8_t, 5> data = {'a', 'b', 'c', 'd', 'e'};
  const std::array<std::uint8_t, 8> padded = {'a', 'b', 'c', 'd', 'e', 0, 0, 0};
  EXPECT_EQ(data_digest(data), crc32c(padded));
  EXPECT_NE(data_digest(data), crc32c(data));
  const std::array<std::uint8_t, 4> aligned = {1, 2, 3, 4};
  EXPECT_EQ(data_digest(aligned), crc32c(aligned));
}

}  // namespace
}  // namespace isergw::iscsi
