#include "fabric_ib/command_split.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "iscsi/byte_order.h"

namespace isergw::fabric_ib {
namespace {

constexpr uint32_t kBuffer = 512 * 1024;
constexpr uint8_t kCheckCondition = 0x02;

std::vector<uint8_t> cdb10(uint8_t opcode, uint32_t lba, uint16_t blocks, uint8_t byte1 = 0) {
  std::vector<uint8_t> cdb(16, 0);
  cdb[0] = opcode;
  cdb[1] = byte1;
  iscsi::store_be32(&cdb[2], lba);
  cdb[6] = 0x05;  // GROUP NUMBER
  iscsi::store_be16(&cdb[7], blocks);
  cdb[9] = 0x40;  // CONTROL, vendor bits
  return cdb;
}

std::vector<uint8_t> cdb12(uint8_t opcode, uint32_t lba, uint32_t blocks) {
  std::vector<uint8_t> cdb(16, 0);
  cdb[0] = opcode;
  iscsi::store_be32(&cdb[2], lba);
  iscsi::store_be32(&cdb[6], blocks);
  return cdb;
}

std::vector<uint8_t> cdb16(uint8_t opcode, uint64_t lba, uint32_t blocks, uint8_t byte1 = 0) {
  std::vector<uint8_t> cdb(16, 0);
  cdb[0] = opcode;
  cdb[1] = byte1;
  iscsi::store_be64(&cdb[2], lba);
  iscsi::store_be32(&cdb[10], blocks);
  cdb[14] = 0x03;  // GROUP NUMBER
  return cdb;
}

gateway::Completion good() {
  return {};
}

gateway::Completion check_condition(uint8_t sense_key) {
  gateway::Completion completion;
  completion.status = kCheckCondition;
  completion.sense = {0x70, 0, sense_key, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x11, 0, 0, 0, 0, 0};
  return completion;
}

CommandSplit plan_ok(const std::vector<uint8_t>& cdb, bool read, uint32_t edtl,
                     std::optional<uint32_t> block_size = std::nullopt) {
  auto split = CommandSplit::plan(cdb, read, !read, edtl, kBuffer, block_size);
  EXPECT_TRUE(split) << (split ? "" : split.error());
  return std::move(*split);
}

TEST(CommandSplitTest, AWrite10OfLinuxsDefaultSizeGoesAsThreeCommandsOfAtMostOneBuffer) {
  // 1280 KiB: what Linux's iscsi_tcp sends at its default max_sectors_kb.
  const std::vector<uint8_t> cdb = cdb10(0x2A, 1000, 2560, 0x08 /* FUA */);
  CommandSplit split = plan_ok(cdb, false, 2560 * 512);
  ASSERT_EQ(split.size(), 3U);
  const uint64_t lbas[] = {1000, 2024, 3048};
  const uint32_t blocks[] = {1024, 1024, 512};
  for (size_t i = 0; i < split.size(); ++i) {
    EXPECT_EQ(split.piece(i).lba, lbas[i]);
    EXPECT_EQ(split.piece(i).blocks, blocks[i]);
    EXPECT_EQ(split.piece(i).offset, i * kBuffer);
    EXPECT_EQ(split.piece(i).length, blocks[i] * 512);
    std::vector<uint8_t> piece_cdb = cdb;
    write_piece_cdb(split.piece(i), piece_cdb);
    EXPECT_EQ(iscsi::load_be32(&piece_cdb[2]), lbas[i]);
    EXPECT_EQ(iscsi::load_be16(&piece_cdb[7]), blocks[i]);
    // Everything else is the host's: opcode, FUA, group number, control.
    EXPECT_EQ(piece_cdb[0], 0x2A);
    EXPECT_EQ(piece_cdb[1], 0x08);
    EXPECT_EQ(piece_cdb[6], 0x05);
    EXPECT_EQ(piece_cdb[9], 0x40);
  }
}

TEST(CommandSplitTest, ARead16Of4KiBBlocksPastTwoToThe32KeepsItsHighLbaBits) {
  const uint64_t lba = (uint64_t{1} << 33) + 7;
  const std::vector<uint8_t> cdb = cdb16(0x88, lba, 1024);  // 4 MiB
  CommandSplit split = plan_ok(cdb, true, 1024 * 4096, 4096);
  ASSERT_EQ(split.size(), 8U);
  for (size_t i = 0; i < split.size(); ++i) {
    std::vector<uint8_t> piece_cdb = cdb;
    write_piece_cdb(split.piece(i), piece_cdb);
    EXPECT_EQ(iscsi::load_be64(&piece_cdb[2]), lba + i * 128);
    EXPECT_EQ(iscsi::load_be32(&piece_cdb[10]), 128U);
    EXPECT_EQ(piece_cdb[14], 0x03);
  }
  EXPECT_EQ(split.piece_at(0), 0U);
  EXPECT_EQ(split.piece_at(kBuffer - 1), 0U);
  EXPECT_EQ(split.piece_at(kBuffer), 1U);
  EXPECT_EQ(split.piece_at(4 * 1024 * 1024 - 1), 7U);
}

TEST(CommandSplitTest, AWrite12TakesItsBlockLengthFromTheCommandWhenTheLunsIsUnknown) {
  // 600 blocks of 4 KiB: pieces of 128 blocks, the last one of 88.
  const std::vector<uint8_t> cdb = cdb12(0xAA, 50, 600);
  CommandSplit split = plan_ok(cdb, false, 600 * 4096);
  ASSERT_EQ(split.size(), 5U);
  EXPECT_EQ(split.piece(4).lba, 50U + 512);
  EXPECT_EQ(split.piece(4).blocks, 88U);
  EXPECT_EQ(split.piece(4).offset, 512U * 4096);
  std::vector<uint8_t> piece_cdb = cdb;
  write_piece_cdb(split.piece(4), piece_cdb);
  EXPECT_EQ(iscsi::load_be32(&piece_cdb[2]), 562U);
  EXPECT_EQ(iscsi::load_be32(&piece_cdb[6]), 88U);
}

TEST(CommandSplitTest, CommandsThatAreNoRunOfWholeBlocksAreRefused) {
  const auto refused = [](const std::vector<uint8_t>& cdb, bool read, uint32_t edtl,
                          std::optional<uint32_t> block_size = std::nullopt) {
    return !CommandSplit::plan(cdb, read, !read, edtl, kBuffer, block_size);
  };
  // Other opcodes: WRITE SAME (16), UNMAP, COMPARE AND WRITE, a vendor one.
  EXPECT_TRUE(refused(cdb16(0x93, 0, 2048), false, 1 << 20));
  EXPECT_TRUE(refused(cdb10(0x42, 0, 0), false, 1 << 20));
  EXPECT_TRUE(refused(cdb16(0x89, 0, 1024), false, 1 << 20));
  EXPECT_TRUE(refused(cdb10(0xC0, 0, 2048), true, 1 << 20));
  // A READ that says it writes, a WRITE that says it reads.
  EXPECT_TRUE(refused(cdb10(0x28, 0, 2048), false, 1 << 20));
  EXPECT_TRUE(refused(cdb10(0x2A, 0, 2048), true, 1 << 20));
  EXPECT_FALSE(CommandSplit::plan(cdb10(0x28, 0, 2048), true, true, 1 << 20, kBuffer, {}));
  // Protection information rides in the data, 8 bytes a block.
  EXPECT_TRUE(refused(cdb10(0x2A, 0, 2048, 0x20), false, 2048 * 520));
  EXPECT_TRUE(refused(cdb16(0x88, 0, 2048, 0x60), true, 2048 * 512));
  // ExpectedDataTransferLength that is not TRANSFER LENGTH blocks: with the
  // LUN's block length known, any mismatch; unknown, a quotient that is no
  // block length (not whole, not a power of two, under 512).
  EXPECT_TRUE(refused(cdb10(0x28, 0, 256), true, 256 * 4096, 512));
  EXPECT_TRUE(refused(cdb10(0x28, 0, 2048), true, 2048 * 512 + 1));
  EXPECT_TRUE(refused(cdb10(0x28, 0, 2048), true, 2048 * 520));
  EXPECT_TRUE(refused(cdb10(0x28, 0, 8192), true, 8192 * 256));
  EXPECT_TRUE(refused(cdb10(0x28, 0, 0), true, 1 << 20));
  // A block larger than a command carries.
  EXPECT_TRUE(refused(cdb10(0x28, 0, 2), true, 2 * 1024 * 1024));
  // Blocks past the 32-bit LBA field of a 10-byte CDB.
  EXPECT_TRUE(refused(cdb10(0x28, 0xFFFFF800, 4096), true, 4096 * 512));
  EXPECT_FALSE(refused(cdb10(0x28, 0xFFFFF000, 4096), true, 4096 * 512));
  // A CDB shorter than its opcode's.
  EXPECT_FALSE(
      CommandSplit::plan(std::vector<uint8_t>{0x88, 0, 0, 0}, true, false, 1 << 20, kBuffer, {}));
}

TEST(CommandSplitTest, AllPiecesGoodIsGoodWithNoResidual) {
  CommandSplit split = plan_ok(cdb10(0x28, 0, 2560), true, 2560 * 512);
  // The storage may answer in any order.
  split.answer(2, good());
  EXPECT_FALSE(split.all_answered());
  EXPECT_FALSE(split.answered(0));
  split.answer(0, good());
  split.answer(1, good());
  ASSERT_TRUE(split.all_answered());
  const gateway::Completion completion = split.completion();
  EXPECT_EQ(completion.status, 0);
  EXPECT_EQ(completion.response, iscsi::kResponseCommandCompleted);
  EXPECT_TRUE(completion.sense.empty());
  EXPECT_FALSE(completion.residual_underflow);
  EXPECT_FALSE(completion.residual_overflow);
  EXPECT_EQ(split.read_bytes(2), 256U * 1024);
}

TEST(CommandSplitTest, OneFailingPieceFailsTheCommandWithTheFirstFailuresSense) {
  CommandSplit split = plan_ok(cdb10(0x2A, 0, 2560), false, 2560 * 512);
  const gateway::Completion medium_error = check_condition(0x03);
  const gateway::Completion aborted = check_condition(0x0B);
  // The later piece fails first in time; the host hears of the earlier one
  // in the data, whose sense INFORMATION names the lower LBA.
  split.answer(2, aborted);
  split.answer(1, medium_error);
  split.answer(0, good());
  EXPECT_FALSE(split.failed(0));
  EXPECT_TRUE(split.failed(1));
  const gateway::Completion completion = split.completion();
  EXPECT_EQ(completion.status, kCheckCondition);
  EXPECT_EQ(completion.sense, medium_error.sense);

  // A single failure among good pieces is never reported GOOD.
  CommandSplit last = plan_ok(cdb10(0x2A, 0, 2560), false, 2560 * 512);
  last.answer(0, good());
  last.answer(1, good());
  gateway::Completion target_failure;
  target_failure.response = iscsi::kResponseTargetFailure;
  last.answer(2, target_failure);
  EXPECT_EQ(last.completion().response, iscsi::kResponseTargetFailure);
}

TEST(CommandSplitTest, ResidualsAreCountedAgainstTheHostsExpectedLength) {
  CommandSplit split = plan_ok(cdb10(0x28, 0, 2560), true, 2560 * 512);
  gateway::Completion short_read = good();
  short_read.residual_underflow = true;
  short_read.residual_count = 4096;
  split.answer(0, good());
  split.answer(1, short_read);
  split.answer(2, short_read);
  EXPECT_EQ(split.read_bytes(0), kBuffer);
  EXPECT_EQ(split.read_bytes(1), kBuffer - 4096);
  gateway::Completion completion = split.completion();
  EXPECT_TRUE(completion.residual_underflow);
  EXPECT_FALSE(completion.residual_overflow);
  EXPECT_EQ(completion.residual_count, 8192U);

  // A residual larger than the piece counts no more than the piece.
  gateway::Completion nothing = good();
  nothing.residual_underflow = true;
  nothing.residual_count = 0xFFFFFFFF;
  split.answer(2, nothing);
  EXPECT_EQ(split.read_bytes(2), 0U);
  EXPECT_EQ(split.completion().residual_count, 4096U + 256 * 1024);

  // Overflow: the pieces were asked for less than the storage would move.
  gateway::Completion overflow = good();
  overflow.residual_overflow = true;
  overflow.residual_count = 512;
  split.answer(0, overflow);
  split.answer(1, overflow);
  completion = split.completion();
  EXPECT_TRUE(completion.residual_overflow);
  EXPECT_FALSE(completion.residual_underflow);
  EXPECT_EQ(completion.residual_count, 1024U);
}

TEST(CommandSplitTest, ThePiecesAfterTheFirstFailingOneAreAllResidual) {
  // 1280 KiB: pieces of 512, 512 and 256 KiB.
  CommandSplit split = plan_ok(cdb10(0x28, 0, 2560), true, 2560 * 512);
  gateway::Completion medium_error = check_condition(0x03);
  medium_error.residual_underflow = true;
  medium_error.residual_count = 4096;  // it read all but its last 4 KiB
  split.answer(0, good());
  split.answer(1, medium_error);
  split.answer(2, good());
  // The host gets the first piece and what the failing one read, nothing of
  // the third: the third's 256 KiB are residual though it ended GOOD.
  gateway::Completion completion = split.completion();
  EXPECT_EQ(completion.status, kCheckCondition);
  EXPECT_TRUE(completion.residual_underflow);
  EXPECT_FALSE(completion.residual_overflow);
  EXPECT_EQ(completion.residual_count, 4096U + 256 * 1024);

  // A first piece that fails with no residual: the two after it, whatever
  // they said of themselves (an overflow, a short read), count whole.
  gateway::Completion overflow = good();
  overflow.residual_overflow = true;
  overflow.residual_count = 512;
  gateway::Completion short_read = good();
  short_read.residual_underflow = true;
  short_read.residual_count = 8192;
  split.answer(0, check_condition(0x03));
  split.answer(1, overflow);
  split.answer(2, short_read);
  completion = split.completion();
  EXPECT_TRUE(completion.residual_underflow);
  EXPECT_FALSE(completion.residual_overflow);
  EXPECT_EQ(completion.residual_count, kBuffer + 256U * 1024);

  // A WRITE likewise: the host is not told the data after the failure was
  // written.
  CommandSplit write = plan_ok(cdb10(0x2A, 0, 2560), false, 2560 * 512);
  write.answer(0, good());
  write.answer(1, good());
  write.answer(2, check_condition(0x03));
  EXPECT_FALSE(write.completion().residual_underflow);
  write.answer(1, check_condition(0x03));
  EXPECT_TRUE(write.completion().residual_underflow);
  EXPECT_EQ(write.completion().residual_count, 256U * 1024);
}

TEST(CommandSplitTest, GoodStatusWithSenseKeepsTheSense) {
  CommandSplit split = plan_ok(cdb10(0x28, 0, 2048), true, 2048 * 512);
  gateway::Completion recovered = good();
  recovered.sense = check_condition(0x01).sense;
  split.answer(0, good());
  split.answer(1, recovered);
  const gateway::Completion completion = split.completion();
  EXPECT_EQ(completion.status, 0);
  EXPECT_EQ(completion.sense, recovered.sense);
}

TEST(CommandSplitTest, TheBlockLengthIsReadFromReadCapacityData) {
  std::array<uint8_t, 32> data{};
  iscsi::store_be32(&data[4], 512);
  iscsi::store_be32(&data[8], 4096);
  const std::vector<uint8_t> rc10 = {0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const std::vector<uint8_t> rc16 = {0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0};
  EXPECT_EQ(capacity_block_length(rc10, std::span(data).first(8)), 512U);
  EXPECT_EQ(capacity_block_length(rc16, data), 4096U);
  // Too short, another service action, another command, a zero length.
  EXPECT_FALSE(capacity_block_length(rc10, std::span(data).first(7)));
  EXPECT_FALSE(capacity_block_length(rc16, std::span(data).first(11)));
  const std::vector<uint8_t> get_lba_status = {0x9E, 0x12, 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(capacity_block_length(get_lba_status, data));
  EXPECT_FALSE(capacity_block_length(cdb10(0x28, 0, 1), data));
  EXPECT_FALSE(capacity_block_length(rc10, std::array<uint8_t, 8>{}));
}

}  // namespace
}  // namespace isergw::fabric_ib
