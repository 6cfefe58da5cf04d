#include <gtest/gtest.h>

#include "backend_ram/disk_test_util.h"
#include "backend_ram/null_store.h"

namespace isergw::backend_ram {
namespace {

using namespace disk_testing;  // NOLINT: the helpers of this test
using iscsi::SenseKey;

constexpr uint32_t kBlock = 512;

TEST(Read, UnwrittenBlocksReadAsZeros) {
  ScsiDisk disk = make_disk();
  const Outcome read = run(disk, read10(100, 4), 4 * kBlock);
  expect_good(read.result);
  expect_residual(read.result, Residual::kNone, 0);
  EXPECT_EQ(read.data, Bytes(4 * kBlock, 0));
}

TEST(ReadWrite, PatternAcrossChunkBoundariesReadsBack) {
  ScsiDisk disk = make_disk();
  // Blocks 120..391 span the 64 KiB chunks at blocks 128, 256 and 384.
  const Bytes data = pattern(272 * kBlock, 3);
  const Outcome written = write_data(disk, write10(120, 272), data);
  expect_good(written.result);
  expect_residual(written.result, Residual::kNone, 0);
  const Outcome read = run(disk, read16(120, 272), 272 * kBlock);
  expect_good(read.result);
  EXPECT_EQ(read.data, data);
  // The neighbours are untouched.
  EXPECT_EQ(run(disk, read10(119, 1), kBlock).data, Bytes(kBlock, 0));
  EXPECT_EQ(run(disk, read10(392, 1), kBlock).data, Bytes(kBlock, 0));
}

TEST(ReadWrite, DataOutInSeveralBuffersIsWrittenInOrder) {
  ScsiDisk disk = make_disk();
  const Bytes data = pattern(3 * kBlock, 9);
  // Pool buffers that split a block: 700, 100 and the rest.
  const std::vector<Bytes> buffers = {Bytes(data.begin(), data.begin() + 700),
                                      Bytes(data.begin() + 700, data.begin() + 800),
                                      Bytes(data.begin() + 800, data.end())};
  expect_good(run(disk, write16(5, 3), 3 * kBlock, DataDirection::kWrite, buffers).result);
  EXPECT_EQ(run(disk, read10(5, 3), 3 * kBlock).data, data);
}

TEST(ReadWrite, SixByteFormsAddressTwentyOneBitsAndZeroMeans256) {
  ScsiDisk disk = make_disk();
  const Bytes data = pattern(256 * kBlock, 1);
  expect_good(write_data(disk, write6(1000, 0), data).result);
  const Outcome read = run(disk, read6(1000, 0), 256 * kBlock);
  expect_good(read.result);
  EXPECT_EQ(read.data, data);
  EXPECT_EQ(run(disk, read10(1000, 256), 256 * kBlock).data, data);
}

TEST(ReadWrite, TwelveByteFormsWork) {
  ScsiDisk disk = make_disk();
  const Bytes data = pattern(2 * kBlock, 4);
  expect_good(write_data(disk, rw12(0xAA, 7, 2), data).result);
  EXPECT_EQ(run(disk, rw12(0xA8, 7, 2), 2 * kBlock).data, data);
}

TEST(ReadWrite, WriteAndVerifyWritesInAllThreeForms) {
  ScsiDisk disk = make_disk();
  const Bytes data = pattern(2 * kBlock, 12);
  // BYTCHK = 1 in the 10-byte form.
  expect_good(write_data(disk, rw10(0x2E, 40, 2, 0x02), data).result);
  EXPECT_EQ(run(disk, read10(40, 2), 2 * kBlock).data, data);
  expect_good(write_data(disk, rw12(0xAE, 50, 2), data).result);
  EXPECT_EQ(run(disk, read10(50, 2), 2 * kBlock).data, data);
  expect_good(write_data(disk, rw16(0x8E, 60, 2), data).result);
  EXPECT_EQ(run(disk, read10(60, 2), 2 * kBlock).data, data);
  expect_check(write_data(disk, rw16(0x8E, 2047, 2), data).result, SenseKey::kIllegalRequest,
               iscsi::kLbaOutOfRange);
  // FUA is not a WRITE AND VERIFY field.
  expect_invalid_field(write_data(disk, rw10(0x2E, 40, 2, 0x08), data).result, 1, 3);
}

TEST(ReadWrite, DpoFuaAndFuaNvAreAccepted) {
  ScsiDisk disk = make_disk();
  const Bytes data = pattern(kBlock, 5);
  expect_good(
      run(disk, rw10(0x2A, 1, 1, 0x18 | 0x02), kBlock, DataDirection::kWrite, {data}).result);
  expect_good(run(disk, rw16(0x8A, 1, 1, 0x08), kBlock, DataDirection::kWrite, {data}).result);
  const Outcome read = run(disk, rw10(0x28, 1, 1, 0x1E), kBlock);
  expect_good(read.result);
  EXPECT_EQ(read.data, data);
}

TEST(Read, ZeroLengthTransfersNothing) {
  ScsiDisk disk = make_disk();
  const Outcome read = run(disk, read10(0, 0), 0);
  expect_good(read.result);
  EXPECT_TRUE(read.data.empty());
  expect_residual(read.result, Residual::kNone, 0);
  // LBA == capacity with no blocks addresses nothing beyond the end.
  expect_good(run(disk, read16(2048, 0), 0).result);
}

TEST(Write, ZeroLengthWritesNothing) {
  ScsiDisk disk = make_disk();
  const Outcome written = run(disk, write10(0, 0), 0, DataDirection::kWrite);
  expect_good(written.result);
  expect_residual(written.result, Residual::kNone, 0);
}

TEST(Read, BeyondTheEndIsLbaOutOfRange) {
  ScsiDisk disk = make_disk();
  for (const Bytes& cdb : {read10(2048, 1), read10(2047, 2), read10(2049, 0), read16(~0ull, 1),
                           read16(~0ull - 1, 2), read6(0x1FFFFF, 1), read16(2049, 0)}) {
    const Outcome read = run(disk, cdb, 2 * kBlock);
    expect_check(read.result, SenseKey::kIllegalRequest, iscsi::kLbaOutOfRange);
    expect_residual(read.result, Residual::kUnderflow, 2 * kBlock);
  }
  expect_good(run(disk, read10(2047, 1), kBlock).result);
}

TEST(Write, BeyondTheEndIsLbaOutOfRangeAndWritesNothing) {
  ScsiDisk disk = make_disk();
  const Outcome written = write_data(disk, write10(2047, 2), pattern(2 * kBlock, 1));
  expect_check(written.result, SenseKey::kIllegalRequest, iscsi::kLbaOutOfRange);
  EXPECT_EQ(run(disk, read10(2047, 1), kBlock).data, Bytes(kBlock, 0));
}

TEST(Read, MoreThanTheMaximumTransferLengthIsAnInvalidField) {
  ScsiDisk disk = make_disk({}, uint64_t{1} << 20);
  const uint32_t blocks = ScsiDisk::kMaxTransferBytes / kBlock;
  expect_invalid_field(run(disk, rw12(0xA8, 0, blocks + 1), 0).result, 6);
  expect_invalid_field(run(disk, read16(0, blocks + 1), 0).result, 10);
  expect_invalid_field(run(disk, write16(0, blocks + 1), 0, DataDirection::kWrite).result, 10);
  const Outcome largest = run(disk, read16(0, blocks), ScsiDisk::kMaxTransferBytes);
  expect_good(largest.result);
}

// RFC 7143 §11.4.5.1 with the cases libiscsi's residual tests send.
TEST(ReadResidual, EdtlShorterThanTheTransferIsAnOverflow) {
  ScsiDisk disk = make_disk();
  const Bytes data = pattern(8 * kBlock, 2);
  expect_good(write_data(disk, write10(0, 8), data).result);
  const Outcome read = run(disk, read10(0, 8), 2048);
  expect_good(read.result);
  expect_residual(read.result, Residual::kOverflow, 8 * kBlock - 2048);
  EXPECT_EQ(read.data, Bytes(data.begin(), data.begin() + 2048));
}

TEST(ReadResidual, EdtlLongerThanTheTransferIsAnUnderflow) {
  ScsiDisk disk = make_disk();
  const Outcome read = run(disk, read10(0, 1), 10000);
  expect_good(read.result);
  EXPECT_EQ(read.result.data_in_length, kBlock);
  expect_residual(read.result, Residual::kUnderflow, 10000 - kBlock);
}

TEST(ReadResidual, EdtlEndingInsideABlockDeliversThatManyBytes) {
  ScsiDisk disk = make_disk();
  const Bytes data = pattern(kBlock, 8);
  expect_good(write_data(disk, write10(3, 1), data).result);
  const Outcome read = run(disk, read10(3, 1), 200);
  expect_good(read.result);
  expect_residual(read.result, Residual::kOverflow, kBlock - 200);
  EXPECT_EQ(read.data, Bytes(data.begin(), data.begin() + 200));
}

TEST(ReadResidual, WrongDirectionTransfersNothing) {
  ScsiDisk disk = make_disk();
  // A READ whose PDU carries W instead of R expects no data-in at all.
  const Outcome read = run(disk, read10(0, 1), kBlock, DataDirection::kWrite);
  expect_good(read.result);
  EXPECT_EQ(read.result.data_in_length, 0u);
  expect_residual(read.result, Residual::kOverflow, kBlock);
}

TEST(ReadResidual, SmallerDataInSpanNeverOverrun) {
  ScsiDisk disk = make_disk();
  Bytes in(100, 0xEE);
  ScsiCommand command;
  const Bytes cdb = read10(0, 1);
  command.cdb = cdb;
  command.expected_data_transfer_length = kBlock;
  command.direction = DataDirection::kRead;
  const ScsiResult result = disk.execute(command, std::span(in).first(60));
  expect_good(result);
  EXPECT_EQ(result.data_in_length, 60u);
  EXPECT_EQ(in[60], 0xEE);
}

TEST(WriteResidual, EdtlZeroWritesNothingAndOverflows) {
  ScsiDisk disk = make_disk();
  const Outcome written = run(disk, write10(0, 1), 0, DataDirection::kWrite);
  expect_good(written.result);
  expect_residual(written.result, Residual::kOverflow, kBlock);
  EXPECT_EQ(run(disk, read10(0, 1), kBlock).data, Bytes(kBlock, 0));
}

TEST(WriteResidual, EdtlLongerWritesOnlyTheCdbsBlocks) {
  ScsiDisk disk = make_disk();
  const Bytes data = pattern(2 * kBlock, 6);
  const Outcome written = run(disk, write10(0, 1), 2 * kBlock, DataDirection::kWrite, {data});
  expect_good(written.result);
  expect_residual(written.result, Residual::kUnderflow, kBlock);
  const Outcome read = run(disk, read10(0, 2), 2 * kBlock);
  EXPECT_EQ(Bytes(read.data.begin(), read.data.begin() + kBlock),
            Bytes(data.begin(), data.begin() + kBlock));
  EXPECT_EQ(Bytes(read.data.begin() + kBlock, read.data.end()), Bytes(kBlock, 0));
}

TEST(WriteResidual, EdtlShorterWritesOnlyEdtlBytes) {
  ScsiDisk disk = make_disk();
  const Bytes old_data(2 * kBlock, 'a');
  expect_good(write_data(disk, write10(0, 2), old_data).result);
  const Bytes new_data(200, 'b');
  const Outcome written = run(disk, write10(0, 1), 200, DataDirection::kWrite, {new_data});
  expect_good(written.result);
  expect_residual(written.result, Residual::kOverflow, kBlock - 200);
  const Outcome read = run(disk, read10(0, 2), 2 * kBlock);
  for (size_t i = 0; i < read.data.size(); ++i) {
    ASSERT_EQ(read.data[i], i < 200 ? 'b' : 'a') << "byte " << i;
  }
}

TEST(Write, DataOutShorterThanNeededIsADataPhaseErrorAndWritesNothing) {
  ScsiDisk disk = make_disk();
  const Outcome written =
      run(disk, write10(0, 2), 2 * kBlock, DataDirection::kWrite, {pattern(kBlock, 1)});
  expect_check(written.result, SenseKey::kAbortedCommand, iscsi::kDataPhaseError);
  EXPECT_EQ(run(disk, read10(0, 2), 2 * kBlock).data, Bytes(2 * kBlock, 0));
}

TEST(Write, ReadOnlyDiskIsWriteProtected) {
  ScsiDisk disk = make_disk(read_only_config());
  const Outcome written = write_data(disk, write10(0, 1), pattern(kBlock, 1));
  expect_check(written.result, SenseKey::kDataProtect, iscsi::kWriteProtected);
  expect_check(write_data(disk, write6(0, 1), pattern(kBlock, 1)).result, SenseKey::kDataProtect,
               iscsi::kWriteProtected);
  expect_good(run(disk, read10(0, 1), kBlock).result);
}

TEST(Write, StoreOutOfMemoryIsAWriteError) {
  ScsiDisk disk = make_disk({}, 2048, store_options(64 * 1024, 64 * 1024));
  expect_good(write_data(disk, write10(0, 1), pattern(kBlock, 1)).result);
  // Block 128 is in the second chunk: past the budget.
  const Outcome written = write_data(disk, write10(128, 1), pattern(kBlock, 1));
  expect_check(written.result, SenseKey::kMediumError, iscsi::kWriteError);
}

TEST(Write, ProtectionFieldsAreRefusedWithAFieldPointer) {
  ScsiDisk disk = make_disk();
  // WRPROTECT 001b: there is no protection information.
  expect_invalid_field(
      run(disk, rw10(0x2A, 0, 1, 0x20), kBlock, DataDirection::kWrite, {pattern(kBlock, 1)}).result,
      1, 5);
  // RDPROTECT 100b.
  expect_invalid_field(run(disk, rw16(0x88, 0, 1, 0x80), kBlock).result, 1, 7);
}

TEST(Block4096, ReadWriteUseTheLargerBlock) {
  ScsiDisk disk = make_disk(block_size_config(4096), 256);
  const Bytes data = pattern(3 * 4096, 2);
  expect_good(write_data(disk, write10(30, 3), data).result);
  EXPECT_EQ(run(disk, read10(30, 3), 3 * 4096).data, data);
  expect_check(run(disk, read10(256, 1), 4096).result, SenseKey::kIllegalRequest,
               iscsi::kLbaOutOfRange);
}

TEST(NullDisk, ReadsZerosAndDropsWrites) {
  auto disk = ScsiDisk::create({}, std::make_unique<NullStore>(1 << 20));
  ASSERT_TRUE(disk) << disk.error();
  expect_good(write_data(*disk, write10(0, 1), pattern(kBlock, 1)).result);
  const Outcome read = run(*disk, read10(0, 1), kBlock);
  expect_good(read.result);
  EXPECT_EQ(read.data, Bytes(kBlock, 0));
}

Bytes verify_cdb(uint8_t opcode, uint64_t lba, uint32_t blocks, uint8_t bytchk) {
  const uint8_t flags = static_cast<uint8_t>(bytchk << 1);
  if (opcode == 0x2F)
    return rw10(opcode, static_cast<uint32_t>(lba), static_cast<uint16_t>(blocks), flags);
  return rw16(opcode, lba, blocks, flags);
}

TEST(Verify, WithoutByteCheckOnlyChecksTheRange) {
  ScsiDisk disk = make_disk();
  for (const uint8_t opcode : {0x2F, 0x8F}) {
    expect_good(run(disk, verify_cdb(opcode, 0, 16, 0), 0, DataDirection::kNone).result);
    expect_good(run(disk, verify_cdb(opcode, 2048, 0, 0), 0, DataDirection::kNone).result);
    expect_check(run(disk, verify_cdb(opcode, 2040, 9, 0), 0, DataDirection::kNone).result,
                 SenseKey::kIllegalRequest, iscsi::kLbaOutOfRange);
  }
  // VERIFY(12) as well.
  expect_good(run(disk, rw12(0xAF, 0, 4), 0, DataDirection::kNone).result);
}

TEST(Verify, ByteCheckComparesDataOut) {
  ScsiDisk disk = make_disk();
  const Bytes data = pattern(2 * kBlock, 4);
  expect_good(write_data(disk, write10(10, 2), data).result);
  const Outcome same =
      run(disk, verify_cdb(0x2F, 10, 2, 1), 2 * kBlock, DataDirection::kWrite, {data});
  expect_good(same.result);
  Bytes changed = data;
  changed[700] ^= 0xFF;
  const Outcome differs =
      run(disk, verify_cdb(0x8F, 10, 2, 1), 2 * kBlock, DataDirection::kWrite, {changed});
  expect_check(differs.result, SenseKey::kMiscompare, iscsi::kMiscompareDuringVerifyOperation);
  EXPECT_EQ(sense_of(differs.result).information, 700u);
}

TEST(Verify, ByteCheckErrors) {
  ScsiDisk disk = make_disk();
  // BYTCHK 10b is reserved; 11b is not implemented.
  expect_invalid_field(run(disk, verify_cdb(0x2F, 0, 1, 2), 0).result, 1, 2);
  expect_invalid_field(run(disk, verify_cdb(0x2F, 0, 1, 3), 0).result, 1, 2);
  expect_check(
      run(disk, verify_cdb(0x2F, 0, 2, 1), 2 * kBlock, DataDirection::kWrite, {pattern(kBlock, 1)})
          .result,
      SenseKey::kAbortedCommand, iscsi::kDataPhaseError);
}

TEST(SynchronizeCache, ChecksTheRangeAndZeroMeansToTheEnd) {
  ScsiDisk disk = make_disk();
  expect_good(run(disk, rw10(0x35, 0, 0), 0, DataDirection::kNone).result);
  expect_good(run(disk, rw16(0x91, 100, 0), 0, DataDirection::kNone).result);
  expect_good(run(disk, rw10(0x35, 2040, 8, 0x02), 0, DataDirection::kNone).result);
  expect_check(run(disk, rw10(0x35, 2040, 9), 0, DataDirection::kNone).result,
               SenseKey::kIllegalRequest, iscsi::kLbaOutOfRange);
  expect_check(run(disk, rw16(0x91, 2049, 0), 0, DataDirection::kNone).result,
               SenseKey::kIllegalRequest, iscsi::kLbaOutOfRange);
}

Bytes write_same(uint8_t opcode, uint64_t lba, uint32_t blocks, bool unmap_bit = false) {
  const uint8_t flags = unmap_bit ? 0x08 : 0;
  if (opcode == 0x41)
    return rw10(opcode, static_cast<uint32_t>(lba), static_cast<uint16_t>(blocks), flags);
  return rw16(opcode, lba, blocks, flags);
}

TEST(WriteSame, RepeatsTheBlock) {
  ScsiDisk disk = make_disk();
  const Bytes block = pattern(kBlock, 11);
  for (const uint8_t opcode : {0x41, 0x93}) {
    const Outcome same = write_data(disk, write_same(opcode, 120, 20), block);
    expect_good(same.result);
    expect_residual(same.result, Residual::kNone, 0);
    const Outcome read = run(disk, read10(120, 20), 20 * kBlock);
    for (size_t i = 0; i < 20; ++i) {
      ASSERT_EQ(Bytes(read.data.begin() + i * kBlock, read.data.begin() + (i + 1) * kBlock), block);
    }
  }
}

TEST(WriteSame, ZerosDeallocate) {
  ScsiDisk disk = make_disk();
  auto& store = static_cast<RamStore&>(disk.store());
  expect_good(write_data(disk, write10(0, 256), pattern(256 * kBlock, 1)).result);
  EXPECT_EQ(store.committed_bytes(), 128u * 1024);
  expect_good(write_data(disk, write_same(0x93, 0, 256, true), Bytes(kBlock, 0)).result);
  EXPECT_EQ(store.committed_bytes(), 0u);
  EXPECT_EQ(run(disk, read10(0, 256), 256 * kBlock).data, Bytes(256 * kBlock, 0));
}

TEST(WriteSame, Errors) {
  ScsiDisk disk = make_disk();
  const Bytes block = pattern(kBlock, 1);
  // WSNZ = 1: no "whole medium" form.
  expect_invalid_field(write_data(disk, write_same(0x41, 0, 0), block).result, 7);
  expect_invalid_field(write_data(disk, write_same(0x93, 0, 0), block).result, 10);
  expect_check(write_data(disk, write_same(0x93, 2040, 9), block).result, SenseKey::kIllegalRequest,
               iscsi::kLbaOutOfRange);
  expect_check(run(disk, write_same(0x41, 0, 1), 100, DataDirection::kWrite, {block}).result,
               SenseKey::kAbortedCommand, iscsi::kDataPhaseError);
  expect_check(run(disk, write_same(0x41, 0, 1), kBlock, DataDirection::kWrite, {Bytes(10)}).result,
               SenseKey::kAbortedCommand, iscsi::kDataPhaseError);
  // ANCHOR and the obsolete LBDATA/PBDATA are refused.
  expect_invalid_field(
      run(disk, rw10(0x41, 0, 1, 0x10), kBlock, DataDirection::kWrite, {block}).result, 1, 4);
  expect_invalid_field(
      run(disk, rw10(0x41, 0, 1, 0x02), kBlock, DataDirection::kWrite, {block}).result, 1, 1);
  ScsiDisk read_only = make_disk(read_only_config());
  expect_check(write_data(read_only, write_same(0x93, 0, 1), block).result, SenseKey::kDataProtect,
               iscsi::kWriteProtected);
}

TEST(WriteSame, MoreThanTheMaximumIsAnInvalidField) {
  ScsiDisk disk = make_disk({}, uint64_t{4} << 21);  // 4 GiB
  const auto blocks = static_cast<uint32_t>(ScsiDisk::kMaxTransferBytes / kBlock);
  expect_invalid_field(write_data(disk, write_same(0x93, 0, blocks + 1), pattern(kBlock, 1)).result,
                       10);
}

Bytes unmap_cdb(uint16_t parameter_list_length) {
  Bytes cdb = cdb16({0x42});
  store_be16(&cdb[7], parameter_list_length);
  return cdb;
}

Bytes unmap_list(std::initializer_list<std::pair<uint64_t, uint32_t>> ranges) {
  Bytes list(8 + 16 * ranges.size());
  store_be16(&list[0], static_cast<uint16_t>(list.size() - 2));
  store_be16(&list[2], static_cast<uint16_t>(16 * ranges.size()));
  size_t at = 8;
  for (const auto& [lba, blocks] : ranges) {
    store_be64(&list[at], lba);
    store_be32(&list[at + 8], blocks);
    at += 16;
  }
  return list;
}

TEST(Unmap, DeallocatesAndReadsZeros) {
  ScsiDisk disk = make_disk();
  auto& store = static_cast<RamStore&>(disk.store());
  const Bytes data = pattern(512 * kBlock, 1);
  expect_good(write_data(disk, write10(0, 512), data).result);
  EXPECT_EQ(store.committed_bytes(), 4u * 64 * 1024);
  const Bytes list = unmap_list({{0, 128}, {300, 10}});
  const Outcome unmapped = write_data(disk, unmap_cdb(static_cast<uint16_t>(list.size())), list);
  expect_good(unmapped.result);
  // The first chunk went away whole; the second was only partly unmapped.
  EXPECT_EQ(store.committed_bytes(), 3u * 64 * 1024);
  EXPECT_EQ(run(disk, read10(0, 128), 128 * kBlock).data, Bytes(128 * kBlock, 0));
  EXPECT_EQ(run(disk, read10(300, 10), 10 * kBlock).data, Bytes(10 * kBlock, 0));
  EXPECT_EQ(run(disk, read10(299, 1), kBlock).data,
            Bytes(data.begin() + 299 * kBlock, data.begin() + 300 * kBlock));
  EXPECT_EQ(run(disk, read10(310, 1), kBlock).data,
            Bytes(data.begin() + 310 * kBlock, data.begin() + 311 * kBlock));
}

TEST(Unmap, ZeroLengthListDoesNothing) {
  ScsiDisk disk = make_disk();
  expect_good(run(disk, unmap_cdb(0), 0, DataDirection::kNone).result);
}

TEST(Unmap, Errors) {
  ScsiDisk disk = make_disk();
  expect_check(write_data(disk, unmap_cdb(6), Bytes(6)).result, SenseKey::kIllegalRequest,
               iscsi::kParameterListLengthError);
  const Bytes list = unmap_list({{0, 1}});
  expect_check(
      run(disk, unmap_cdb(24), 24, DataDirection::kWrite, {Bytes(list.begin(), list.begin() + 20)})
          .result,
      SenseKey::kAbortedCommand, iscsi::kDataPhaseError);
  // A good descriptor followed by one past the end: nothing is unmapped.
  expect_good(write_data(disk, write10(0, 1), pattern(kBlock, 1)).result);
  const Bytes partly_bad = unmap_list({{0, 1}, {2040, 9}});
  expect_check(
      write_data(disk, unmap_cdb(static_cast<uint16_t>(partly_bad.size())), partly_bad).result,
      SenseKey::kIllegalRequest, iscsi::kLbaOutOfRange);
  EXPECT_EQ(run(disk, read10(0, 1), kBlock).data, pattern(kBlock, 1));
  // ANCHOR is not supported.
  Bytes anchored = unmap_cdb(static_cast<uint16_t>(list.size()));
  anchored[1] = 0x01;
  expect_invalid_field(write_data(disk, anchored, list).result, 1, 0);
  ScsiDisk read_only = make_disk(read_only_config());
  expect_check(write_data(read_only, unmap_cdb(static_cast<uint16_t>(list.size())), list).result,
               SenseKey::kDataProtect, iscsi::kWriteProtected);
}

TEST(Unmap, LimitsFromTheBlockLimitsPage) {
  ScsiDisk disk = make_disk({}, uint64_t{4} << 21);
  Bytes many(8 + 16 * (ScsiDisk::kMaxUnmapDescriptors + 1));
  store_be16(&many[2], static_cast<uint16_t>(many.size() - 8));
  expect_check(write_data(disk, unmap_cdb(static_cast<uint16_t>(many.size())), many).result,
               SenseKey::kIllegalRequest, iscsi::kInvalidFieldInParameterList,
               iscsi::FieldPointer{false, 2, std::nullopt});
  const auto max_blocks = static_cast<uint32_t>(ScsiDisk::kMaxTransferBytes / kBlock);
  const Bytes too_long = unmap_list({{0, max_blocks}, {max_blocks, 1}});
  expect_check(write_data(disk, unmap_cdb(static_cast<uint16_t>(too_long.size())), too_long).result,
               SenseKey::kIllegalRequest, iscsi::kInvalidFieldInParameterList);
}

TEST(Unmap, DescriptorsCutShortByTheListLengthAreIgnored) {
  ScsiDisk disk = make_disk();
  expect_good(write_data(disk, write10(0, 1), pattern(kBlock, 1)).result);
  // The header claims one descriptor; the list length leaves no room for it.
  const Bytes list = unmap_list({{0, 1}});
  expect_good(run(disk, unmap_cdb(20), 20, DataDirection::kWrite, {list}).result);
  EXPECT_EQ(run(disk, read10(0, 1), kBlock).data, pattern(kBlock, 1));
}

}  // namespace
}  // namespace isergw::backend_ram
