#include <gtest/gtest.h>

#include "backend_ram/disk_test_util.h"
#include "backend_ram/null_store.h"

namespace isergw::backend_ram {
namespace {

using namespace disk_testing;  // NOLINT: the helpers of this test
using iscsi::SenseKey;

constexpr uint8_t kCurrent = 0x00;
constexpr uint8_t kChangeable = 0x40;
constexpr uint8_t kDefault = 0x80;
constexpr uint8_t kSaved = 0xC0;

Bytes mode_sense6(uint8_t page_control_and_code, uint8_t allocation_length, bool dbd = false,
                  uint8_t subpage = 0) {
  return cdb16({0x1A, static_cast<uint8_t>(dbd ? 0x08 : 0), page_control_and_code, subpage,
                allocation_length});
}

Bytes mode_sense10(uint8_t page_control_and_code, uint16_t allocation_length, bool dbd = false,
                   bool llbaa = false) {
  Bytes cdb = cdb16(
      {0x5A, static_cast<uint8_t>((dbd ? 0x08 : 0) | (llbaa ? 0x10 : 0)), page_control_and_code});
  store_be16(&cdb[7], allocation_length);
  return cdb;
}

TEST(ModeSense6, CachingPageWithBlockDescriptor) {
  DiskConfig config;
  config.write_cache = true;
  ScsiDisk disk = make_disk(config);
  const Outcome outcome = run(disk, mode_sense6(kCurrent | 0x08, 255), 255);
  expect_good(outcome.result);
  const Bytes& d = outcome.data;
  ASSERT_EQ(d.size(), 4u + 8 + 20);
  EXPECT_EQ(d[0], d.size() - 1);
  EXPECT_EQ(d[1], 0);     // medium type
  EXPECT_EQ(d[2], 0x10);  // DPOFUA, not write protected
  EXPECT_EQ(d[3], 8);     // block descriptor length
  EXPECT_EQ(load_be32(&d[4]), 2048u);
  EXPECT_EQ(load_be32(&d[8]) & 0xFFFFFF, 512u);
  EXPECT_EQ(d[12], 0x08);
  EXPECT_EQ(d[13], 0x12);
  EXPECT_EQ(d[14] & 0x04, 0x04);  // WCE
  expect_residual(outcome.result, Residual::kUnderflow, 255 - 32);
}

TEST(ModeSense6, WriteCacheOffAndReadOnly) {
  DiskConfig config;
  config.read_only = true;
  ScsiDisk disk = make_disk(config);
  const Outcome outcome = run(disk, mode_sense6(0x08, 255, true), 255);
  expect_good(outcome.result);
  const Bytes& d = outcome.data;
  ASSERT_EQ(d.size(), 4u + 20);
  EXPECT_EQ(d[2], 0x90);  // WP, DPOFUA
  EXPECT_EQ(d[3], 0);     // DBD: no block descriptor
  EXPECT_EQ(d[6] & 0x04, 0);
}

TEST(ModeSense6, AllPagesInAscendingOrder) {
  ScsiDisk disk = make_disk();
  for (const uint8_t subpage : {0x00, 0xFF}) {
    const Outcome outcome = run(disk, mode_sense6(0x3F, 255, true, subpage), 255);
    expect_good(outcome.result);
    const Bytes& d = outcome.data;
    ASSERT_EQ(d.size(), 4u + 20 + 12 + 12);
    EXPECT_EQ(d[4], 0x08);
    EXPECT_EQ(d[24], 0x0A);
    EXPECT_EQ(d[25], 0x0A);
    EXPECT_EQ(d[27], 0x10);  // QUEUE ALGORITHM MODIFIER 1
    EXPECT_EQ(d[36], 0x1C);
    EXPECT_EQ(d[38], 0x08);  // DEXCPT
  }
}

TEST(ModeSense6, LinuxWriteProtectProbeOfFourBytes) {
  // sd_read_write_protect_flag asks for all pages with a 4-byte allocation.
  ScsiDisk disk = make_disk();
  const Outcome outcome = run(disk, mode_sense6(0x3F, 4), 4);
  expect_good(outcome.result);
  ASSERT_EQ(outcome.data.size(), 4u);
  EXPECT_EQ(outcome.data[0], 4 + 8 + 44 - 1);  // the full length, still
  expect_residual(outcome.result, Residual::kNone, 0);
}

TEST(ModeSense, ChangeableValuesAreAllZero) {
  DiskConfig config;
  config.write_cache = true;
  ScsiDisk disk = make_disk(config);
  const Outcome outcome = run(disk, mode_sense6(kChangeable | 0x3F, 255, true), 255);
  expect_good(outcome.result);
  const Bytes& d = outcome.data;
  ASSERT_EQ(d.size(), 48u);
  for (const size_t page_at : {size_t{4}, size_t{24}, size_t{36}}) {
    const size_t length = d[page_at + 1];
    for (size_t i = page_at + 2; i < page_at + 2 + length; ++i)
      EXPECT_EQ(d[i], 0) << i;
  }
}

TEST(ModeSense, DefaultValuesEqualCurrentOnes) {
  DiskConfig config;
  config.write_cache = true;
  ScsiDisk disk = make_disk(config);
  EXPECT_EQ(run(disk, mode_sense6(kDefault | 0x3F, 255), 255).data,
            run(disk, mode_sense6(kCurrent | 0x3F, 255), 255).data);
}

TEST(ModeSense, SavedValuesAreNotSupported) {
  ScsiDisk disk = make_disk();
  expect_check(run(disk, mode_sense6(kSaved | 0x08, 255), 255).result, SenseKey::kIllegalRequest,
               iscsi::kSavingParametersNotSupported);
  expect_check(run(disk, mode_sense10(kSaved | 0x3F, 255), 255).result, SenseKey::kIllegalRequest,
               iscsi::kSavingParametersNotSupported);
}

TEST(ModeSense, UnsupportedPageOrSubpageIsAnInvalidField) {
  ScsiDisk disk = make_disk();
  for (const uint8_t page : {0x00, 0x01, 0x19, 0x3E}) {
    expect_invalid_field(run(disk, mode_sense6(page, 255), 255).result, 2, 5);
  }
  expect_invalid_field(run(disk, mode_sense6(0x0A, 255, false, 0x01), 255).result, 3);
}

TEST(ModeSense10, ShortAndLongBlockDescriptors) {
  ScsiDisk disk = make_disk();
  const Outcome short_form = run(disk, mode_sense10(0x0A, 512), 512);
  expect_good(short_form.result);
  const Bytes& s = short_form.data;
  ASSERT_EQ(s.size(), 8u + 8 + 12);
  EXPECT_EQ(load_be16(&s[0]), s.size() - 2);
  EXPECT_EQ(s[3], 0x10);
  EXPECT_EQ(s[4], 0);  // LONGLBA
  EXPECT_EQ(load_be16(&s[6]), 8u);
  EXPECT_EQ(load_be32(&s[8]), 2048u);
  EXPECT_EQ(s[16], 0x0A);

  const Outcome long_form = run(disk, mode_sense10(0x0A, 512, false, true), 512);
  expect_good(long_form.result);
  const Bytes& l = long_form.data;
  ASSERT_EQ(l.size(), 8u + 16 + 12);
  EXPECT_EQ(l[4] & 0x01, 0x01);
  EXPECT_EQ(load_be16(&l[6]), 16u);
  EXPECT_EQ(load_be64(&l[8]), 2048u);
  EXPECT_EQ(load_be32(&l[20]), 512u);
  EXPECT_EQ(l[24], 0x0A);

  const Outcome none = run(disk, mode_sense10(0x1C, 512, true), 512);
  ASSERT_EQ(none.data.size(), 8u + 12);
  EXPECT_EQ(load_be16(&none.data[6]), 0u);
}

TEST(ModeSense10, AllocationLengthTruncates) {
  ScsiDisk disk = make_disk();
  const Outcome outcome = run(disk, mode_sense10(0x3F, 10), 512);
  expect_good(outcome.result);
  EXPECT_EQ(outcome.data.size(), 10u);
  expect_residual(outcome.result, Residual::kUnderflow, 502);
}

TEST(ModeSense, LargeDiskSaturatesTheShortDescriptor) {
  auto disk = ScsiDisk::create({}, std::make_unique<NullStore>(uint64_t{4} << 40));
  ASSERT_TRUE(disk);
  const Outcome outcome = run(*disk, mode_sense6(0x08, 255), 255);
  EXPECT_EQ(load_be32(&outcome.data[4]), 0xFFFFFFFFu);
}

}  // namespace
}  // namespace isergw::backend_ram
