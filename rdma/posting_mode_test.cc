#include "rdma/posting_mode.h"

#include <gtest/gtest.h>

#include <vector>

#include "rdma/send_queue.h"

namespace isergw::rdma {
namespace {

SendWork work(ibv_wr_opcode opcode, std::uint32_t length) {
  SendWork one{};
  one.request.opcode = opcode;
  one.sge.length = length;
  return one;
}

TEST(PostingModeTest, OnlySoftDevicesGetAPostingThreadUnlessAsked) {
  EXPECT_TRUE(wants_posting_thread(PostingMode::kAuto, true));
  EXPECT_FALSE(wants_posting_thread(PostingMode::kAuto, false));
  EXPECT_TRUE(wants_posting_thread(PostingMode::kThread, false));
  EXPECT_FALSE(wants_posting_thread(PostingMode::kInline, true));
}

TEST(PostingModeTest, AutoHandsOverOnlyListsThatSendMuch) {
  EXPECT_FALSE(hands_over(PostingMode::kAuto, kBulkListBytes - 1));
  EXPECT_TRUE(hands_over(PostingMode::kAuto, kBulkListBytes));
  EXPECT_TRUE(hands_over(PostingMode::kThread, 48));
}

TEST(PostingModeTest, AListSendsItsWritesAndSendsButNotItsReadsData) {
  // A 4 KiB read's Write and SCSI Response, and a 128 KiB write's Read of
  // the host's data.
  const std::vector<SendWork> list = {work(IBV_WR_RDMA_WRITE, 4096), work(IBV_WR_SEND_WITH_INV, 76),
                                      work(IBV_WR_RDMA_READ, 131072)};
  EXPECT_EQ(bytes_sent_by(list), 4096u + 76u);
  EXPECT_EQ(bytes_sent_by({}), 0u);
}

TEST(PostingModeTest, NamesParseBack) {
  for (PostingMode mode : {PostingMode::kAuto, PostingMode::kThread, PostingMode::kInline}) {
    EXPECT_EQ(parse_posting_mode(posting_mode_name(mode)), mode);
  }
  EXPECT_EQ(parse_posting_mode("kernel"), std::nullopt);
}

}  // namespace
}  // namespace isergw::rdma
