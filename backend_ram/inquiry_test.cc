#include <gtest/gtest.h>

#include <string>

#include "backend_ram/disk_test_util.h"

namespace isergw::backend_ram {
namespace {

using namespace disk_testing;  // NOLINT: the helpers of this test
using iscsi::SenseKey;

std::string text(const Bytes& data, size_t at, size_t length) {
  return std::string(data.begin() + at, data.begin() + at + length);
}

TEST(Inquiry, StandardData) {
  DiskConfig config;
  config.product = "RAM DISK";
  ScsiDisk disk = make_disk(config);
  const Outcome outcome = run(disk, inquiry(false, 0, 255), 255);
  expect_good(outcome.result);
  const Bytes& d = outcome.data;
  ASSERT_EQ(d.size(), 96u);
  EXPECT_EQ(d[0], 0x00);  // connected, direct access block device
  EXPECT_EQ(d[1], 0x00);  // not removable
  EXPECT_EQ(d[2], 0x06);  // SPC-4
  EXPECT_EQ(d[3], 0x12);  // HISUP, response data format 2
  EXPECT_EQ(d[4], 96 - 5);
  EXPECT_EQ(d[7], 0x02);  // CMDQUE
  EXPECT_EQ(text(d, 8, 8), "ISERGW  ");
  EXPECT_EQ(text(d, 16, 16), "RAM DISK        ");
  EXPECT_EQ(text(d, 32, 4), "0001");
  EXPECT_EQ(load_be16(&d[58]), 0x00A0);  // SAM-5
  EXPECT_EQ(load_be16(&d[60]), 0x0460);  // SPC-4
  EXPECT_EQ(load_be16(&d[62]), 0x04C0);  // SBC-3
  EXPECT_EQ(load_be16(&d[64]), 0x0960);  // iSCSI
  expect_residual(outcome.result, Residual::kUnderflow, 255 - 96);
}

TEST(Inquiry, AllocationLengthTruncatesWithUnderflowAgainstEdtl) {
  ScsiDisk disk = make_disk();
  // Linux's first INQUIRY: allocation length 36, and an EDTL of 255 gives an
  // underflow of 219.
  const Outcome outcome = run(disk, inquiry(false, 0, 36), 255);
  expect_good(outcome.result);
  EXPECT_EQ(outcome.data.size(), 36u);
  expect_residual(outcome.result, Residual::kUnderflow, 219);
  const Outcome exact = run(disk, inquiry(false, 0, 36), 36);
  expect_residual(exact.result, Residual::kNone, 0);
  const Outcome zero = run(disk, inquiry(false, 0, 0), 0);
  expect_good(zero.result);
  EXPECT_TRUE(zero.data.empty());
}

TEST(Inquiry, EdtlShorterThanAllocationLengthIsAnOverflow) {
  ScsiDisk disk = make_disk();
  const Outcome outcome = run(disk, inquiry(false, 0, 96), 36);
  expect_good(outcome.result);
  EXPECT_EQ(outcome.data.size(), 36u);
  expect_residual(outcome.result, Residual::kOverflow, 60);
}

TEST(Inquiry, PageCodeWithoutEvpdIsAnInvalidField) {
  ScsiDisk disk = make_disk();
  expect_invalid_field(run(disk, inquiry(false, 0x80, 255), 255).result, 2);
}

TEST(Inquiry, UnsupportedVpdPageIsAnInvalidField) {
  ScsiDisk disk = make_disk();
  for (const uint8_t page : {0x81, 0x86, 0x89, 0xB3, 0xC0}) {
    expect_invalid_field(run(disk, inquiry(true, page, 255), 255).result, 2);
  }
}

Bytes vpd(ScsiDisk& disk, uint8_t page) {
  const Outcome outcome = run(disk, inquiry(true, page, 255), 255);
  expect_good(outcome.result);
  EXPECT_GE(outcome.data.size(), 4u);
  EXPECT_EQ(outcome.data[1], page);
  EXPECT_EQ(load_be16(&outcome.data[2]) + 4u, outcome.data.size());
  return outcome.data;
}

TEST(Inquiry, SupportedPagesListsEveryPageInOrder) {
  ScsiDisk disk = make_disk();
  const Bytes d = vpd(disk, 0x00);
  const Bytes expected = {0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2};
  EXPECT_EQ(Bytes(d.begin() + 4, d.end()), expected);
  // Each listed page answers.
  for (const uint8_t page : expected)
    vpd(disk, page);
}

TEST(Inquiry, SerialNumberIsStablePerName) {
  DiskConfig a;
  a.name = "iqn.2026-01.example:disk/0";
  DiskConfig b;
  b.name = "iqn.2026-01.example:disk/1";
  ScsiDisk first = make_disk(a);
  ScsiDisk again = make_disk(a);
  ScsiDisk other = make_disk(b);
  const Bytes serial = vpd(first, 0x80);
  ASSERT_EQ(serial.size(), 4u + 16);
  for (size_t i = 4; i < serial.size(); ++i)
    EXPECT_TRUE(std::isxdigit(serial[i]));
  EXPECT_EQ(vpd(again, 0x80), serial);
  EXPECT_NE(vpd(other, 0x80), serial);
}

TEST(Inquiry, DeviceIdentificationHasNaaAndT10Designators) {
  DiskConfig config;
  config.name = "lun-a";
  ScsiDisk disk = make_disk(config);
  const Bytes d = vpd(disk, 0x83);
  const Bytes serial = vpd(disk, 0x80);
  // NAA, binary, logical unit association, 8 bytes, NAA type 3.
  ASSERT_GE(d.size(), 16u);
  EXPECT_EQ(d[4], 0x01);
  EXPECT_EQ(d[5], 0x03);
  EXPECT_EQ(d[7], 8);
  EXPECT_EQ(d[8] >> 4, 0x3);
  // T10 vendor ID, ASCII: vendor then serial.
  ASSERT_EQ(d.size(), 16u + 4 + 24);
  EXPECT_EQ(d[16], 0x02);
  EXPECT_EQ(d[17], 0x01);
  EXPECT_EQ(d[19], 24);
  EXPECT_EQ(text(d, 20, 8), "ISERGW  ");
  EXPECT_EQ(text(d, 28, 16), text(serial, 4, 16));
  // Stable across restarts, distinct across names.
  ScsiDisk again = make_disk(config);
  EXPECT_EQ(vpd(again, 0x83), d);
  DiskConfig other;
  other.name = "lun-b";
  ScsiDisk different = make_disk(other);
  const Bytes different_page = vpd(different, 0x83);
  EXPECT_NE(Bytes(different_page.begin() + 8, different_page.begin() + 16),
            Bytes(d.begin() + 8, d.begin() + 16));
}

TEST(Inquiry, BlockLimits) {
  ScsiDisk disk = make_disk();
  const Bytes d = vpd(disk, 0xB0);
  ASSERT_EQ(d.size(), 64u);
  EXPECT_EQ(d[4] & 0x01, 0x01);                                     // WSNZ
  EXPECT_EQ(load_be16(&d[6]), 8u);                                  // 4 KiB granularity
  EXPECT_EQ(load_be32(&d[8]), ScsiDisk::kMaxTransferBytes / 512);   // MAXIMUM TRANSFER LENGTH
  EXPECT_EQ(load_be32(&d[20]), ScsiDisk::kMaxTransferBytes / 512);  // MAXIMUM UNMAP LBA COUNT
  EXPECT_EQ(load_be32(&d[24]), ScsiDisk::kMaxUnmapDescriptors);     // descriptors
  EXPECT_EQ(load_be64(&d[36]), ScsiDisk::kMaxTransferBytes / 512);  // MAXIMUM WRITE SAME LENGTH
  ScsiDisk large = make_disk(block_size_config(4096), 256);
  const Bytes l = vpd(large, 0xB0);
  EXPECT_EQ(load_be16(&l[6]), 1u);
  EXPECT_EQ(load_be32(&l[8]), ScsiDisk::kMaxTransferBytes / 4096);
}

TEST(Inquiry, BlockDeviceCharacteristicsSayNonRotating) {
  ScsiDisk disk = make_disk();
  const Bytes d = vpd(disk, 0xB1);
  ASSERT_EQ(d.size(), 64u);
  EXPECT_EQ(load_be16(&d[4]), 1u);
}

TEST(Inquiry, LogicalBlockProvisioning) {
  ScsiDisk disk = make_disk();
  const Bytes d = vpd(disk, 0xB2);
  ASSERT_EQ(d.size(), 8u);
  EXPECT_EQ(d[5], 0xE4);  // LBPU, LBPWS, LBPWS10, LBPRZ
  EXPECT_EQ(d[6] & 0x07, 0x02);
}

TEST(Inquiry, VpdAllocationLengthTruncates) {
  ScsiDisk disk = make_disk();
  const Outcome outcome = run(disk, inquiry(true, 0xB0, 8), 255);
  expect_good(outcome.result);
  EXPECT_EQ(outcome.data.size(), 8u);
  EXPECT_EQ(load_be16(&outcome.data[2]), 0x3Cu);  // the full page length, still
  expect_residual(outcome.result, Residual::kUnderflow, 255 - 8);
}

}  // namespace
}  // namespace isergw::backend_ram
