#include "backend_ram/scsi_disk.h"

#include <gtest/gtest.h>

#include "backend_ram/disk_test_util.h"
#include "backend_ram/null_store.h"

namespace isergw::backend_ram {
namespace {

using namespace disk_testing;  // NOLINT: the helpers of this test
using iscsi::SenseKey;

TEST(ScsiDiskCreate, RejectsBadConfigurations) {
  auto make = [](DiskConfig config, uint64_t size) {
    return ScsiDisk::create(std::move(config), std::make_unique<NullStore>(size));
  };
  EXPECT_EQ(make(block_size_config(1024), 1 << 20).error(),
            "block size 1024 is not supported; use 512 or 4096");
  EXPECT_EQ(make({}, 1000).error(),
            "store size 1000 is not a positive multiple of the block size 512");
  EXPECT_EQ(make(block_size_config(4096), 2048).error(),
            "store size 2048 is not a positive multiple of the block size 4096");
  DiskConfig far_lun;
  far_lun.lun = 16384;
  EXPECT_EQ(make(far_lun, 1 << 20).error(), "LUN 16384 is beyond flat space addressing (0..16383)");
  DiskConfig no_name;
  no_name.name.clear();
  EXPECT_EQ(make(no_name, 1 << 20).error(), "the disk name must not be empty");
  DiskConfig long_product;
  long_product.product = "A PRODUCT NAME TOO LONG";
  EXPECT_EQ(make(long_product, 1 << 20).error(),
            "product 'A PRODUCT NAME TOO LONG' must be at most 16 printable ASCII characters "
            "(SPC-4 §6.6.2)");
  DiskConfig control_product;
  control_product.product = "BAD\n";
  EXPECT_FALSE(make(control_product, 1 << 20));
  EXPECT_EQ(ScsiDisk::create({}, nullptr).error(), "the disk has no store");
  const auto good = make({}, 1 << 20);
  ASSERT_TRUE(good);
  EXPECT_EQ(good->block_count(), 2048u);
}

TEST(EncodeLun, FollowsSam5AddressingMethods) {
  EXPECT_EQ(encode_lun(0), 0u);
  EXPECT_EQ(encode_lun(5), 0x0005000000000000ull);
  EXPECT_EQ(encode_lun(255), 0x00FF000000000000ull);
  EXPECT_EQ(encode_lun(256), 0x4100000000000000ull);
  EXPECT_EQ(encode_lun(16383), 0x7FFF000000000000ull);
}

TEST(Dispatch, EmptyCdbIsAnInvalidOperationCode) {
  ScsiDisk disk = make_disk();
  expect_check(run(disk, {}, 0).result, SenseKey::kIllegalRequest,
               iscsi::kInvalidCommandOperationCode);
}

TEST(Dispatch, UnsupportedOperationCodes) {
  ScsiDisk disk = make_disk();
  // FORMAT UNIT, MODE SELECT(6), PERSISTENT RESERVE IN, COMPARE AND WRITE,
  // a variable-length CDB, and a vendor-specific code.
  for (const uint8_t opcode : {0x04, 0x15, 0x5E, 0x89, 0x7F, 0xC0}) {
    const Outcome outcome = run(disk, cdb16({opcode}), 512);
    expect_check(outcome.result, SenseKey::kIllegalRequest, iscsi::kInvalidCommandOperationCode);
    expect_residual(outcome.result, Residual::kUnderflow, 512);
  }
}

TEST(Dispatch, UnsupportedServiceActionIsAnInvalidField) {
  ScsiDisk disk = make_disk();
  // SERVICE ACTION IN(16) GET LBA STATUS; MAINTENANCE IN REPORT TARGET PORT GROUPS.
  expect_invalid_field(run(disk, cdb16({0x9E, 0x12}), 0).result, 1, 4);
  expect_invalid_field(run(disk, cdb16({0xA3, 0x0A}), 0).result, 1, 4);
  expect_check(run(disk, Bytes{0x9E}, 0).result, SenseKey::kIllegalRequest,
               iscsi::kInvalidCommandOperationCode);
}

TEST(Dispatch, CdbShorterThanTheCommandIsAnInvalidField) {
  ScsiDisk disk = make_disk();
  expect_invalid_field(run(disk, Bytes{0x28, 0, 0, 0, 0, 0}, 0).result, 6);
  expect_invalid_field(run(disk, Bytes{0x00, 0, 0}, 0).result, 3);
}

TEST(Dispatch, ReservedBitsAreRefusedWithTheHighestBit) {
  ScsiDisk disk = make_disk();
  // TEST UNIT READY byte 2, bits 6 and 1.
  expect_invalid_field(run(disk, cdb16({0x00, 0, 0x42}), 0).result, 2, 6);
  // NACA in the CONTROL byte of READ(10).
  Bytes read = read10(0, 1);
  read[9] = 0x04;
  expect_invalid_field(run(disk, read, 512).result, 9, 2);
  // INQUIRY's obsolete CMDDT.
  expect_invalid_field(run(disk, cdb16({0x12, 0x02, 0, 0, 36}), 36).result, 1, 1);
}

TEST(Dispatch, LongerCdbsUseOnlyTheirCommandsBytes) {
  ScsiDisk disk = make_disk();
  // READ(10) in a 16-byte field, with bytes past byte 9 set, as after an
  // extended CDB AHS: they are not part of the command.
  Bytes cdb = read10(0, 1);
  cdb[12] = 0xFF;
  expect_good(run(disk, cdb, 512).result);
}

TEST(Lun, OtherLunsAreNotSupported) {
  ScsiDisk disk = make_disk();
  const uint64_t lun1 = encode_lun(1);
  for (const Bytes& cdb : {read10(0, 1), cdb16({0x00}), cdb16({0x25}), cdb16({0x04})}) {
    const Outcome outcome = run(disk, cdb, 512, DataDirection::kRead, {}, lun1);
    expect_check(outcome.result, SenseKey::kIllegalRequest, iscsi::kLogicalUnitNotSupported);
  }
}

TEST(Lun, InquiryOnAMissingLunHasQualifier3) {
  ScsiDisk disk = make_disk();
  const Outcome outcome =
      run(disk, inquiry(false, 0, 96), 96, DataDirection::kRead, {}, encode_lun(7));
  expect_good(outcome.result);
  ASSERT_GE(outcome.data.size(), 5u);
  EXPECT_EQ(outcome.data[0], 0x7F);
  const Outcome vpd =
      run(disk, inquiry(true, 0x00, 64), 64, DataDirection::kRead, {}, encode_lun(7));
  expect_good(vpd.result);
  EXPECT_EQ(vpd.data[0], 0x7F);
}

TEST(Lun, ConfiguredNonZeroLunAnswersAndLunZeroDoesNot) {
  DiskConfig config;
  config.lun = 300;
  ScsiDisk disk = make_disk(config);
  expect_good(run(disk, cdb16({0x00}), 0, DataDirection::kNone, {}, encode_lun(300)).result);
  expect_check(run(disk, cdb16({0x00}), 0, DataDirection::kNone, {}, 0).result,
               SenseKey::kIllegalRequest, iscsi::kLogicalUnitNotSupported);
  Bytes report = cdb16({0xA0});
  store_be32(&report[6], 64);
  const Outcome luns = run(disk, report, 64, DataDirection::kRead, {}, 0);
  expect_good(luns.result);
  ASSERT_EQ(luns.data.size(), 16u);
  EXPECT_EQ(load_be64(&luns.data[8]), encode_lun(300));
}

TEST(TestUnitReady, IsGoodAndAnyEdtlIsAnUnderflow) {
  ScsiDisk disk = make_disk();
  const Outcome none = run(disk, cdb16({0x00}), 0, DataDirection::kNone);
  expect_good(none.result);
  expect_residual(none.result, Residual::kNone, 0);
  expect_residual(run(disk, cdb16({0x00}), 100).result, Residual::kUnderflow, 100);
}

TEST(RequestSense, ReportsNoSenseInEitherFormat) {
  ScsiDisk disk = make_disk();
  const Outcome fixed = run(disk, cdb16({0x03, 0, 0, 0, 252}), 252);
  expect_good(fixed.result);
  ASSERT_EQ(fixed.data.size(), 18u);
  expect_residual(fixed.result, Residual::kUnderflow, 252 - 18);
  auto sense = iscsi::parse_sense(fixed.data);
  ASSERT_TRUE(sense);
  EXPECT_EQ(sense->key, SenseKey::kNoSense);
  EXPECT_EQ(sense->additional, iscsi::kNoAdditionalSense);

  const Outcome descriptor = run(disk, cdb16({0x03, 0x01, 0, 0, 252}), 252);
  expect_good(descriptor.result);
  ASSERT_EQ(descriptor.data.size(), 8u);
  EXPECT_EQ(descriptor.data[0], 0x72);
}

TEST(RequestSense, MissingLunGetsLogicalUnitNotSupportedWithGoodStatus) {
  ScsiDisk disk = make_disk();
  const Outcome outcome =
      run(disk, cdb16({0x03, 0, 0, 0, 18}), 18, DataDirection::kRead, {}, encode_lun(3));
  expect_good(outcome.result);
  const auto sense = iscsi::parse_sense(outcome.data);
  ASSERT_TRUE(sense);
  EXPECT_EQ(sense->key, SenseKey::kIllegalRequest);
  EXPECT_EQ(sense->additional, iscsi::kLogicalUnitNotSupported);
}

TEST(RequestSense, AllocationLengthTruncates) {
  ScsiDisk disk = make_disk();
  const Outcome outcome = run(disk, cdb16({0x03, 0, 0, 0, 8}), 8);
  expect_good(outcome.result);
  EXPECT_EQ(outcome.data.size(), 8u);
  expect_residual(outcome.result, Residual::kNone, 0);
}

Bytes report_luns(uint8_t select, uint32_t allocation_length) {
  Bytes cdb = cdb16({0xA0, 0, select});
  store_be32(&cdb[6], allocation_length);
  return cdb;
}

TEST(ReportLuns, ListsLunZero) {
  ScsiDisk disk = make_disk();
  for (const uint8_t select : {0x00, 0x02}) {
    const Outcome outcome = run(disk, report_luns(select, 512), 512);
    expect_good(outcome.result);
    ASSERT_EQ(outcome.data.size(), 16u);
    EXPECT_EQ(load_be32(&outcome.data[0]), 8u);
    EXPECT_EQ(load_be64(&outcome.data[8]), 0u);
    expect_residual(outcome.result, Residual::kUnderflow, 512 - 16);
  }
}

TEST(ReportLuns, WellKnownOnlyIsEmpty) {
  ScsiDisk disk = make_disk();
  const Outcome outcome = run(disk, report_luns(0x01, 512), 512);
  expect_good(outcome.result);
  ASSERT_EQ(outcome.data.size(), 8u);
  EXPECT_EQ(load_be32(&outcome.data[0]), 0u);
}

TEST(ReportLuns, AnswersOnAMissingLunToo) {
  ScsiDisk disk = make_disk();
  const Outcome outcome =
      run(disk, report_luns(0, 512), 512, DataDirection::kRead, {}, encode_lun(9));
  expect_good(outcome.result);
  EXPECT_EQ(outcome.data.size(), 16u);
}

TEST(ReportLuns, Errors) {
  ScsiDisk disk = make_disk();
  expect_invalid_field(run(disk, report_luns(0x03, 512), 512).result, 2);
  expect_invalid_field(run(disk, report_luns(0x10, 512), 512).result, 2);
  const Outcome truncated = run(disk, report_luns(0, 12), 512);
  expect_good(truncated.result);
  EXPECT_EQ(truncated.data.size(), 12u);
}

TEST(StartStopUnit, AcceptsStartStopAndPowerConditions) {
  ScsiDisk disk = make_disk();
  for (const uint8_t byte4 : {0x00, 0x01, 0x10, 0x20, 0x30, 0x70, 0xA0, 0xB0, 0x04}) {
    SCOPED_TRACE(int{byte4});
    expect_good(run(disk, cdb16({0x1B, 0x01, 0, 0, byte4}), 0, DataDirection::kNone).result);
  }
}

TEST(StartStopUnit, Errors) {
  ScsiDisk disk = make_disk();
  // Eject from a medium that is not removable.
  expect_invalid_field(run(disk, cdb16({0x1B, 0, 0, 0, 0x02}), 0).result, 4, 1);
  // Reserved power conditions 4h and Fh.
  expect_invalid_field(run(disk, cdb16({0x1B, 0, 0, 0, 0x40}), 0).result, 4, 7);
  expect_invalid_field(run(disk, cdb16({0x1B, 0, 0, 0, 0xF0}), 0).result, 4, 7);
}

TEST(PreventAllowMediumRemoval, IsANoOp) {
  ScsiDisk disk = make_disk();
  expect_good(run(disk, cdb16({0x1E, 0, 0, 0, 0x01}), 0, DataDirection::kNone).result);
  expect_good(run(disk, cdb16({0x1E, 0, 0, 0, 0x00}), 0, DataDirection::kNone).result);
  expect_invalid_field(run(disk, cdb16({0x1E, 0, 0, 0, 0x04}), 0).result, 4, 2);
}

TEST(ReadCapacity10, ReportsLastLbaAndBlockSize) {
  ScsiDisk disk = make_disk();
  const Outcome outcome = run(disk, cdb16({0x25}), 8);
  expect_good(outcome.result);
  ASSERT_EQ(outcome.data.size(), 8u);
  EXPECT_EQ(load_be32(&outcome.data[0]), 2047u);
  EXPECT_EQ(load_be32(&outcome.data[4]), 512u);
}

TEST(ReadCapacity10, SaturatesForLargeDisks) {
  // 4 TiB of 512-byte blocks: 2^33 blocks.
  auto disk = ScsiDisk::create({}, std::make_unique<NullStore>(uint64_t{4} << 40));
  ASSERT_TRUE(disk);
  const Outcome outcome = run(*disk, cdb16({0x25}), 8);
  expect_good(outcome.result);
  EXPECT_EQ(load_be32(&outcome.data[0]), 0xFFFFFFFFu);
  Bytes rc16 = cdb16({0x9E, 0x10});
  store_be32(&rc16[10], 32);
  const Outcome sixteen = run(*disk, rc16, 32);
  EXPECT_EQ(load_be64(&sixteen.data[0]), (uint64_t{1} << 33) - 1);
}

TEST(ReadCapacity10, PmiRules) {
  ScsiDisk disk = make_disk();
  Bytes with_lba = cdb16({0x25});
  store_be32(&with_lba[2], 5);
  expect_invalid_field(run(disk, with_lba, 8).result, 2);
  with_lba[8] = 0x01;  // PMI
  expect_good(run(disk, with_lba, 8).result);
  const Outcome overflow = run(disk, cdb16({0x25}), 4);
  expect_residual(overflow.result, Residual::kOverflow, 4);
  EXPECT_EQ(overflow.data.size(), 4u);
}

TEST(ReadCapacity16, ReportsCapacityAndProvisioning) {
  ScsiDisk disk = make_disk(block_size_config(4096), 300);
  Bytes cdb = cdb16({0x9E, 0x10});
  store_be32(&cdb[10], 32);
  const Outcome outcome = run(disk, cdb, 32);
  expect_good(outcome.result);
  ASSERT_EQ(outcome.data.size(), 32u);
  EXPECT_EQ(load_be64(&outcome.data[0]), 299u);
  EXPECT_EQ(load_be32(&outcome.data[8]), 4096u);
  EXPECT_EQ(outcome.data[12], 0);     // no protection
  EXPECT_EQ(outcome.data[13], 0);     // one logical block per physical block
  EXPECT_EQ(outcome.data[14], 0xC0);  // LBPME, LBPRZ
}

TEST(ReadCapacity16, AllocationLengthTruncatesAndPmiRules) {
  ScsiDisk disk = make_disk();
  Bytes cdb = cdb16({0x9E, 0x10});
  store_be32(&cdb[10], 12);
  const Outcome outcome = run(disk, cdb, 32);
  expect_good(outcome.result);
  EXPECT_EQ(outcome.data.size(), 12u);
  expect_residual(outcome.result, Residual::kUnderflow, 20);
  store_be64(&cdb[2], 1);
  expect_invalid_field(run(disk, cdb, 32).result, 2);
}

}  // namespace
}  // namespace isergw::backend_ram
