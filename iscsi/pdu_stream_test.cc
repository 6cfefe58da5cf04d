#include "iscsi/pdu_stream.h"

#include <gtest/gtest.h>

#include <vector>

#include "iscsi/pdu_test_util.h"

namespace isergw::iscsi {
namespace {

using testing::bytes_of;
using testing::encode;

void append(std::vector<std::uint8_t>& stream, const std::vector<std::uint8_t>& pdu) {
  stream.insert(stream.end(), pdu.begin(), pdu.end());
}

TEST(PduStreamReaderTest, LoginWithoutDigestsThenFullFeatureWithThem) {
  const EncodeOptions digests{.header_digest = true, .data_digest = true};
  const auto keys = bytes_of(std::string("HeaderDigest=CRC32C\0", 20));
  std::vector<std::uint8_t> stream;
  // A first Login Request whose transit the target may refuse, then another.
  append(stream, encode(LoginRequest{.transit = true,
                                     .csg = LoginStage::kLoginOperationalNegotiation,
                                     .nsg = LoginStage::kFullFeaturePhase,
                                     .data = keys}));
  append(stream, encode(LoginRequest{.transit = true,
                                     .csg = LoginStage::kLoginOperationalNegotiation,
                                     .nsg = LoginStage::kFullFeaturePhase}));
  append(stream, encode(NopOut{.immediate = true, .data = bytes_of("ping")}, digests));
  append(stream, encode(LogoutRequest{.itt = 2}, digests));

  PduStreamReader reader(stream, {.header_digest = true, .data_digest = true});
  std::vector<StreamPdu> pdus;
  while (true) {
    auto next = reader.next();
    ASSERT_TRUE(next.has_value()) << next.error().describe();
    if (!next->has_value()) break;
    pdus.push_back(std::move(**next));
  }
  ASSERT_EQ(pdus.size(), 4u);
  EXPECT_FALSE(pdus[0].digests_active);
  EXPECT_FALSE(pdus[1].digests_active);
  EXPECT_TRUE(pdus[2].digests_active);
  EXPECT_EQ(pdus[2].offset, 48u + 20 + 48);
  EXPECT_EQ(pdus[2].length, 48u + 4 + 4 + 4);
  EXPECT_TRUE(std::holds_alternative<LogoutRequest>(pdus[3].pdu));
  EXPECT_EQ(reader.offset(), stream.size());
}

TEST(PduStreamReaderTest, ErrorOffsetsCountFromTheStreamStart) {
  std::vector<std::uint8_t> stream;
  append(stream, encode(NopIn{}));
  auto bad = encode(NopIn{});
  bad[1] = 0;  // F bit cleared
  append(stream, bad);
  PduStreamReader reader(stream, {});
  ASSERT_TRUE(reader.next().has_value());
  auto error = reader.next();
  ASSERT_FALSE(error.has_value());
  EXPECT_EQ(error.error().offset, 48u + 1);
  EXPECT_EQ(error.error().field, "F");
  EXPECT_EQ(reader.offset(), 48u);  // stays at the bad PDU
  EXPECT_FALSE(reader.next().has_value());
}

TEST(PduStreamReaderTest, EmptyStreamEndsAtOnce) {
  PduStreamReader reader({}, {});
  auto next = reader.next();
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE(next->has_value());
}

}  // namespace
}  // namespace isergw::iscsi
