#include "iser/pdu_in_send.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "iscsi/nop_pdu.h"
#include "iscsi/pdu_encoder.h"

namespace isergw::iser {
namespace {

using ::testing::HasSubstr;

const std::vector<uint8_t> kPing = {1, 2, 3, 4, 5};

// A NOP-In with five data bytes as a Send carries it: no padding.
std::vector<uint8_t> nop_in_send() {
  iscsi::NopIn nop;
  nop.itt = 7;
  nop.data = kPing;
  std::vector<uint8_t> bytes(iscsi::encoded_length(nop, {}));
  EXPECT_TRUE(iscsi::encode_pdu(nop, {}, bytes).has_value());
  bytes.resize(iscsi::kBhsLength + kPing.size());
  return bytes;
}

TEST(PduInSendTest, TheDataSegmentIsExactlyAsLongAsDeclared) {
  const std::vector<uint8_t> bytes = nop_in_send();
  auto decoded = decode_pdu_in_send(bytes, 8192);
  ASSERT_TRUE(decoded) << decoded.error();
  ASSERT_TRUE(std::holds_alternative<iscsi::NopIn>(decoded->pdu));
  EXPECT_EQ(std::get<iscsi::NopIn>(decoded->pdu).itt, 7u);
  EXPECT_EQ(decoded->header.size(), iscsi::kBhsLength);
  EXPECT_EQ(std::vector<uint8_t>(decoded->data.begin(), decoded->data.end()), kPing);
}

TEST(PduInSendTest, ASendShorterThanItsPduIsRefused) {
  std::vector<uint8_t> bytes = nop_in_send();
  bytes.pop_back();
  auto decoded = decode_pdu_in_send(bytes, 8192);
  ASSERT_FALSE(decoded);
  EXPECT_THAT(decoded.error(), HasSubstr("holds less than its PDU's header and data segment"));
  bytes.resize(iscsi::kBhsLength - 1);
  decoded = decode_pdu_in_send(bytes, 8192);
  ASSERT_FALSE(decoded);
  EXPECT_THAT(decoded.error(), HasSubstr("shorter than a BHS"));
}

TEST(PduInSendTest, ADataSegmentBeyondTheLimitIsRefused) {
  const auto decoded = decode_pdu_in_send(nop_in_send(), 4);
  ASSERT_FALSE(decoded);
  EXPECT_THAT(decoded.error(), HasSubstr("bad PDU header"));
}

}  // namespace
}  // namespace isergw::iser
