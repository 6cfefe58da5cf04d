// The encoder's own behaviour: lengths, padding, digests, the split
// header/trailer path, and every way it refuses.
#include "iscsi/pdu_encoder.h"

#include <gtest/gtest.h>

#include <vector>

#include "iscsi/digest.h"
#include "iscsi/pdu_test_util.h"

namespace isergw::iscsi {
namespace {

using testing::bytes_of;
using testing::encode;

TEST(PduEncoderTest, WritesDigestsOverHeaderAndPaddedData) {
  const auto data = bytes_of("abcdef");
  const EncodeOptions options{.header_digest = true, .data_digest = true};
  const Pdu pdu = NopIn{.itt = 3, .data = data};
  const auto bytes = encode(pdu, options);
  ASSERT_EQ(bytes.size(), 48u + 4 + 8 + 4);
  EXPECT_EQ(encoded_header_length(pdu, options), 52u);
  EXPECT_EQ(load_digest(bytes.data() + 48), crc32c(std::span(bytes).first(48)));
  EXPECT_EQ(bytes[58], 0);
  EXPECT_EQ(bytes[59], 0);
  EXPECT_EQ(load_digest(bytes.data() + 60), crc32c(std::span(bytes).subspan(52, 8)));
}

TEST(PduEncoderTest, HeaderPlusDataPlusTrailerEqualsWholePdu) {
  const auto data = bytes_of("seven!!");
  const EncodeOptions options{.header_digest = true, .data_digest = true};
  const Pdu pdu = DataIn{.final = true, .itt = 1, .data = data};
  const auto whole = encode(pdu, options);

  std::vector<std::uint8_t> pieces(64);
  auto header = encode_header(pdu, options, pieces);
  ASSERT_TRUE(header.has_value());
  pieces.resize(*header);
  pieces.insert(pieces.end(), data.begin(), data.end());
  DataTrailer trailer;
  const std::size_t trailer_length = encode_data_trailer(data, options, trailer);
  EXPECT_EQ(trailer_length, 1u + 4);
  pieces.insert(pieces.end(), trailer.begin(), trailer.begin() + trailer_length);
  EXPECT_EQ(pieces, whole);
}

TEST(PduEncoderTest, NoTrailerForEmptyData) {
  DataTrailer trailer;
  EXPECT_EQ(encode_data_trailer({}, {.data_digest = true}, trailer), 0u);
  const auto four = bytes_of("four");
  EXPECT_EQ(encode_data_trailer(four, {}, trailer), 0u);
  EXPECT_EQ(encode_data_trailer(four, {.data_digest = true}, trailer), 4u);
}

TEST(PduEncoderTest, OverwritesStaleBufferContents) {
  std::vector<std::uint8_t> out(48, 0xee);
  ASSERT_TRUE(encode_pdu(NopIn{}, {}, out).has_value());
  EXPECT_EQ(out[2], 0);
  EXPECT_EQ(out[44], 0);
}

TEST(PduEncoderTest, RefusesTooSmallBuffers) {
  const auto data = bytes_of("x");
  std::vector<std::uint8_t> out(51);
  auto written = encode_pdu(NopIn{.data = data}, {}, out);
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().code, PduErrc::kBufferTooSmall);
  EXPECT_NE(written.error().message.find("PDU needs 52 bytes, buffer has 51"), std::string::npos);

  std::vector<std::uint8_t> header(51);
  written = encode_header(NopIn{}, {.header_digest = true}, header);
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().code, PduErrc::kBufferTooSmall);
}

TEST(PduEncoderTest, RefusesDataBeyondTheDataSegmentLengthField) {
  std::vector<std::uint8_t> data(kMaxDataSegmentLength + 1);
  std::vector<std::uint8_t> out(64);
  auto written = encode_header(DataIn{.data = data}, {}, out);
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().code, PduErrc::kLengthLimit);
  EXPECT_EQ(written.error().field, "DataSegmentLength");
  EXPECT_EQ(written.error().offset, 5u);
}

TEST(PduEncoderTest, RefusesAhsBeyondTotalAhsLength) {
  // 255 words is the most TotalAHSLength can say; this CDB needs more.
  std::vector<std::uint8_t> cdb_tail(1100, 0x01);
  std::vector<std::uint8_t> out(2000);
  auto written = encode_pdu(ScsiCommand{.extended_cdb = cdb_tail}, {}, out);
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().code, PduErrc::kLengthLimit);
  EXPECT_EQ(written.error().field, "TotalAHSLength");
}

TEST(PduEncoderTest, RefusesOpaqueAhsThatIsNotWholeWords) {
  const std::vector<std::uint8_t> ragged = {0, 1, 0x30};
  std::vector<std::uint8_t> out(64);
  auto written = encode_pdu(ScsiCommand{.other_ahs = ragged}, {}, out);
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().field, "TotalAHSLength");
}

TEST(PduEncoderTest, LargestExtendedCdbThatFits) {
  // 255 words = 1020 bytes = 3 + AHSLength(1017) -> 1016 CDB bytes past 16.
  std::vector<std::uint8_t> cdb_tail(1016, 0x02);
  const auto bytes = encode(ScsiCommand{.extended_cdb = cdb_tail});
  EXPECT_EQ(bytes[4], 255);
  const auto out = testing::decode_as<ScsiCommand>(bytes);
  EXPECT_EQ(out.extended_cdb.size(), 1016u);
}

}  // namespace
}  // namespace isergw::iscsi
