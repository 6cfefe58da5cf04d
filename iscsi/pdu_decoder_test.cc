// Every way decoding can fail, with the error's code, field and byte offset;
// and the header-first decoding steps a stream transport uses.
#include "iscsi/pdu_decoder.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "iscsi/digest.h"
#include "iscsi/pdu_test_util.h"

namespace isergw::iscsi {
namespace {

using testing::bytes_of;
using testing::encode;

struct ExpectedError {
  PduErrc code;
  std::size_t offset;
  std::string field;
  std::string message_part;
};

void expect_error(std::span<const std::uint8_t> bytes, const ExpectedError& expected,
                  DecodeOptions options = {}) {
  auto decoded = decode_pdu(bytes, options);
  ASSERT_FALSE(decoded.has_value()) << "decoded a PDU that should fail: " << expected.message_part;
  const PduError& error = decoded.error();
  EXPECT_EQ(error.code, expected.code) << error.describe();
  EXPECT_EQ(error.offset, expected.offset) << error.describe();
  EXPECT_EQ(error.field, expected.field) << error.describe();
  EXPECT_NE(error.message.find(expected.message_part), std::string::npos)
      << "message: " << error.message << "\nwanted: " << expected.message_part;
}

std::vector<std::uint8_t> with_byte(std::vector<std::uint8_t> bytes, std::size_t at,
                                    std::uint8_t value) {
  bytes[at] = value;
  return bytes;
}

TEST(PduDecoderTest, ReservedOpcode) {
  auto bytes = encode(NopOut{.immediate = true});
  expect_error(with_byte(bytes, 0, 0x1f),
               {PduErrc::kReservedOpcode, 0, "Opcode", "reserved opcode 0x1f"});
  expect_error(with_byte(bytes, 0, 0x07),
               {PduErrc::kReservedOpcode, 0, "Opcode", "reserved opcode 0x07"});
  expect_error(with_byte(bytes, 0, 0x3c),
               {PduErrc::kReservedOpcode, 0, "Opcode", "unsupported vendor-specific opcode 0x3c"});
}

TEST(PduDecoderTest, DataSegmentLongerThanMaxRecvDataSegmentLength) {
  std::vector<std::uint8_t> data(70000);
  const auto bytes = encode(DataIn{.data = data});
  DecodeOptions options;
  options.max_recv_data_segment_length = 65536;
  expect_error(bytes,
               {PduErrc::kLengthLimit, 5, "DataSegmentLength",
                "DataSegmentLength 70000 exceeds MaxRecvDataSegmentLength 65536"},
               options);
  options.max_recv_data_segment_length = 70000;
  EXPECT_TRUE(decode_pdu(bytes, options).has_value());
}

TEST(PduDecoderTest, TruncatedAtEveryLength) {
  const auto keys = bytes_of("TargetName=x");
  const auto bytes = encode(TextResponse{.itt = 1, .data = keys});
  ASSERT_EQ(bytes.size(), 48u + 12);
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    auto decoded = decode_pdu(std::span(bytes).first(length), {});
    ASSERT_FALSE(decoded.has_value()) << "length " << length;
    EXPECT_EQ(decoded.error().code, PduErrc::kTruncated);
    EXPECT_EQ(decoded.error().offset, length);
    EXPECT_EQ(decoded.error().field, length < 48 ? "BHS" : "DataSegment");
  }
}

TEST(PduDecoderTest, TruncatedPaddingAndDigest) {
  const auto data = bytes_of("abcde");
  EncodeOptions encode_options{.header_digest = true, .data_digest = true};
  const auto bytes = encode(NopIn{.data = data}, encode_options);
  ASSERT_EQ(bytes.size(), 48u + 4 + 8 + 4);
  DecodeOptions options{.header_digest = true, .data_digest = true};
  auto decoded = decode_pdu(std::span(bytes).first(50), options);
  EXPECT_EQ(decoded.error().field, "HeaderDigest");
  decoded = decode_pdu(std::span(bytes).first(58), options);
  EXPECT_EQ(decoded.error().field, "DataDigest");
  EXPECT_EQ(decoded.error().offset, 58u);
  const auto plain = encode(NopIn{.data = data});
  decoded = decode_pdu(std::span(plain).first(54), {});
  EXPECT_EQ(decoded.error().field, "padding");
}

TEST(PduDecoderTest, HeaderDigestMismatch) {
  EncodeOptions encode_options{.header_digest = true};
  auto bytes = encode(NopIn{.stat_sn = 5}, encode_options);
  DecodeOptions options{.header_digest = true};
  EXPECT_TRUE(decode_pdu(bytes, options).has_value());
  bytes[24] ^= 0x01;  // StatSN changed in flight
  expect_error(bytes, {PduErrc::kHeaderDigest, 48, "HeaderDigest", "header digest mismatch"},
               options);
}

TEST(PduDecoderTest, DataDigestMismatch) {
  const auto data = bytes_of("payload");
  EncodeOptions encode_options{.data_digest = true};
  auto bytes = encode(DataOut{.data = data}, encode_options);
  DecodeOptions options{.data_digest = true};
  EXPECT_TRUE(decode_pdu(bytes, options).has_value());
  bytes[55] ^= 0xff;  // a padding byte: the digest covers it too
  expect_error(bytes, {PduErrc::kDataDigest, 56, "DataDigest", "data digest mismatch"}, options);
}

TEST(PduDecoderTest, NoDataDigestWithoutData) {
  EncodeOptions encode_options{.data_digest = true};
  const auto bytes = encode(NopOut{.immediate = true}, encode_options);
  EXPECT_EQ(bytes.size(), 48u);
  EXPECT_TRUE(decode_pdu(bytes, {.data_digest = true}).has_value());
}

TEST(PduDecoderTest, AhsOnlyOnScsiCommand) {
  auto bytes = encode(NopIn{});
  bytes[4] = 1;
  bytes.insert(bytes.end(), {0, 1, 0x3f, 0});
  expect_error(bytes, {PduErrc::kInvalidAhs, 4, "TotalAHSLength",
                       "TotalAHSLength 1 words but a NOP-In PDU carries no AHS"});
}

// A SCSI Command whose AHS area is `ahs` (a whole number of words).
std::vector<std::uint8_t> command_with_ahs(const std::vector<std::uint8_t>& ahs) {
  auto bytes = encode(ScsiCommand{.itt = 1});
  bytes[4] = static_cast<std::uint8_t>(ahs.size() / 4);
  bytes.insert(bytes.end(), ahs.begin(), ahs.end());
  return bytes;
}

TEST(PduDecoderTest, ExtendedCdbAhsLongerThanTotalAhsLength) {
  // AHSLength 17 (a 32-byte CDB) needs 20 bytes; TotalAHSLength says 12.
  std::vector<std::uint8_t> ahs(12);
  ahs[1] = 17;
  ahs[2] = 1;
  expect_error(command_with_ahs(ahs),
               {PduErrc::kInvalidAhs, 48, "AHSLength",
                "TotalAHSLength 3 words but Extended CDB AHS at AHS byte 0 declares 20 bytes"});
}

TEST(PduDecoderTest, AhsLengthZero) {
  expect_error(command_with_ahs({0, 0, 1, 0}),
               {PduErrc::kInvalidAhs, 48, "AHSLength", "AHSLength 0"});
}

TEST(PduDecoderTest, ExtendedCdbAhsWithoutCdbBytes) {
  expect_error(command_with_ahs({0, 1, 1, 0}),
               {PduErrc::kInvalidAhs, 48, "AHSLength", "carries no CDB bytes"});
}

TEST(PduDecoderTest, DuplicateExtendedCdbAhs) {
  expect_error(command_with_ahs({0, 2, 1, 0, 0xaa, 0, 0, 0, 0, 2, 1, 0, 0xbb, 0, 0, 0}),
               {PduErrc::kInvalidAhs, 58, "AHSType", "a second Extended CDB AHS"});
}

TEST(PduDecoderTest, BidiAhsWithWrongLength) {
  expect_error(command_with_ahs({0, 4, 2, 0, 0, 0, 1, 0}),
               {PduErrc::kInvalidAhs, 48, "AHSLength", "AHSLength 4, must be 5"});
}

TEST(PduDecoderTest, DuplicateBidiAhs) {
  expect_error(command_with_ahs({0, 5, 2, 0, 0, 0, 1, 0, 0, 5, 2, 0, 0, 0, 2, 0}),
               {PduErrc::kInvalidAhs, 58, "AHSType", "a second Bidirectional"});
}

TEST(PduDecoderTest, UnknownAhsSplitByKnownOne) {
  expect_error(command_with_ahs({0, 1, 0x30, 0, 0, 5, 2, 0, 0, 0, 1, 0, 0, 1, 0x31, 0}),
               {PduErrc::kInvalidAhs, 62, "AHSType", "AHS of unknown type 49"});
}

struct FieldRuleCase {
  std::string name;
  std::function<std::vector<std::uint8_t>()> make;
  ExpectedError error;
};

std::vector<std::uint8_t> clear_bits(std::vector<std::uint8_t> bytes, std::size_t at,
                                     std::uint8_t mask) {
  bytes[at] &= static_cast<std::uint8_t>(~mask);
  return bytes;
}

std::vector<std::uint8_t> set_bits(std::vector<std::uint8_t> bytes, std::size_t at,
                                   std::uint8_t mask) {
  bytes[at] |= mask;
  return bytes;
}

// A PDU that may not carry data, given one byte of it anyway.
std::vector<std::uint8_t> with_data(std::vector<std::uint8_t> bytes) {
  bytes[7] = 4;
  bytes.insert(bytes.end(), {1, 2, 3, 4});
  return bytes;
}

class FieldRuleTest : public ::testing::TestWithParam<FieldRuleCase> {};

TEST_P(FieldRuleTest, NamesFieldAndRule) {
  expect_error(GetParam().make(), GetParam().error);
}

const FieldRuleCase kFieldRuleCases[] = {
    {"NopOutWithoutF",
     [] { return clear_bits(encode(NopOut{.immediate = true}), 1, 0x80); },
     {PduErrc::kInvalidField, 1, "F", "F bit must be 1 in a NOP-Out PDU"}},
    {"NopOutUnansweredNotImmediate",
     [] { return encode(NopOut{.itt = kReservedTag}); },
     {PduErrc::kInvalidField, 0, "I", "ITT is 0xffffffff"}},
    {"NopInWithoutF",
     [] { return clear_bits(encode(NopIn{}), 1, 0x80); },
     {PduErrc::kInvalidField, 1, "F", "NOP-In"}},
    {"ScsiCommandReservedAttribute",
     [] { return set_bits(encode(ScsiCommand{}), 1, 0x07); },
     {PduErrc::kInvalidField, 1, "ATTR", "task attribute 7 is reserved"}},
    {"ScsiCommandUnsolicitedDataWithoutWrite",
     [] { return encode(ScsiCommand{.final = false, .read = true}); },
     {PduErrc::kInvalidField, 1, "F", "W=0"}},
    {"ScsiResponseWithoutF",
     [] { return clear_bits(encode(ScsiResponse{}), 1, 0x80); },
     {PduErrc::kInvalidField, 1, "F", "SCSI Response"}},
    {"ScsiResponseBidiOverAndUnder",
     [] { return encode(ScsiResponse{.bidi_read_overflow = true, .bidi_read_underflow = true}); },
     {PduErrc::kInvalidField, 1, "o/u", "overflow (o) and underflow (u)"}},
    {"ScsiResponseOverAndUnder",
     [] { return encode(ScsiResponse{.residual_overflow = true, .residual_underflow = true}); },
     {PduErrc::kInvalidField, 1, "O/U", "overflow (O) and underflow (U)"}},
    {"TmfRequestWithoutF",
     [] { return clear_bits(encode(TaskManagementRequest{}), 1, 0x80); },
     {PduErrc::kInvalidField, 1, "F", "Task Management Function Request"}},
    {"TmfRequestWithData",
     [] { return with_data(encode(TaskManagementRequest{})); },
     {PduErrc::kInvalidField, 5, "DataSegmentLength", "DataSegmentLength 4 but a Task"}},
    {"TmfResponseWithData",
     [] { return with_data(encode(TaskManagementResponse{})); },
     {PduErrc::kInvalidField, 5, "DataSegmentLength", "carries no data segment"}},
    {"TmfResponseWithoutF",
     [] { return clear_bits(encode(TaskManagementResponse{}), 1, 0x80); },
     {PduErrc::kInvalidField, 1, "F", "Task Management Function Response"}},
    {"LoginRequestNotImmediate",
     [] { return clear_bits(encode(LoginRequest{}), 0, 0x40); },
     {PduErrc::kInvalidField, 0, "I", "byte 0 must be 0x43, got 0x03"}},
    {"LoginRequestTransitAndContinue",
     [] { return encode(LoginRequest{.transit = true, .continues = true}); },
     {PduErrc::kInvalidField, 1, "T/C", "T and C bits both set in a Login Request"}},
    {"LoginRequestReservedCsg",
     [] { return set_bits(encode(LoginRequest{}), 1, 0x08); },
     {PduErrc::kInvalidField, 1, "CSG", "CSG 2 is a reserved stage"}},
    {"LoginRequestCsgFullFeature",
     [] { return set_bits(encode(LoginRequest{}), 1, 0x0c); },
     {PduErrc::kInvalidField, 1, "CSG", "CSG 3 (FullFeaturePhase) is not a login stage"}},
    {"LoginRequestTransitToReservedNsg",
     [] { return set_bits(encode(LoginRequest{.transit = true}), 1, 0x02); },
     {PduErrc::kInvalidField, 1, "NSG", "NSG 2 is a reserved stage"}},
    {"LoginResponseTransitAndContinue",
     [] { return encode(LoginResponse{.transit = true, .continues = true}); },
     {PduErrc::kInvalidField, 1, "T/C", "Login Response"}},
    {"TextRequestFinalAndContinue",
     [] { return encode(TextRequest{.final = true, .continues = true}); },
     {PduErrc::kInvalidField, 1, "F/C", "F and C bits both set in a Text Request"}},
    {"TextResponseFinalAndContinue",
     [] { return encode(TextResponse{.final = true, .continues = true}); },
     {PduErrc::kInvalidField, 1, "F/C", "Text Response"}},
    {"DataInStatusWithoutFinal",
     [] { return encode(DataIn{.status_present = true}); },
     {PduErrc::kInvalidField, 1, "S", "S bit set without the F bit"}},
    {"DataInOverAndUnder",
     [] {
       return encode(DataIn{.final = true,
                            .residual_overflow = true,
                            .residual_underflow = true,
                            .status_present = true});
     },
     {PduErrc::kInvalidField, 1, "O/U", "both set"}},
    {"DataInResidualWithoutStatus",
     [] { return encode(DataIn{.final = true, .residual_underflow = true}); },
     {PduErrc::kInvalidField, 1, "O/U", "without the S bit"}},
    {"LogoutRequestReservedReason",
     [] { return set_bits(encode(LogoutRequest{}), 1, 0x03); },
     {PduErrc::kInvalidField, 1, "Reason Code", "logout reason code 3 is reserved"}},
    {"LogoutRequestWithoutF",
     [] { return clear_bits(encode(LogoutRequest{}), 1, 0x80); },
     {PduErrc::kInvalidField, 1, "F", "Logout Request"}},
    {"LogoutRequestWithData",
     [] { return with_data(encode(LogoutRequest{})); },
     {PduErrc::kInvalidField, 5, "DataSegmentLength", "Logout Request"}},
    {"LogoutResponseReserved",
     [] { return with_byte(encode(LogoutResponse{}), 2, 4); },
     {PduErrc::kInvalidField, 2, "Response", "logout response 4 is reserved"}},
    {"LogoutResponseWithoutF",
     [] { return clear_bits(encode(LogoutResponse{}), 1, 0x80); },
     {PduErrc::kInvalidField, 1, "F", "Logout Response"}},
    {"LogoutResponseWithData",
     [] { return with_data(encode(LogoutResponse{})); },
     {PduErrc::kInvalidField, 5, "DataSegmentLength", "Logout Response"}},
    {"SnackReservedType",
     [] { return set_bits(encode(SnackRequest{}), 1, 0x04); },
     {PduErrc::kInvalidField, 1, "Type", "SNACK type 4 is reserved"}},
    {"SnackWithoutF",
     [] { return clear_bits(encode(SnackRequest{}), 1, 0x80); },
     {PduErrc::kInvalidField, 1, "F", "SNACK Request"}},
    {"SnackWithData",
     [] { return with_data(encode(SnackRequest{})); },
     {PduErrc::kInvalidField, 5, "DataSegmentLength", "SNACK Request"}},
    {"R2tWithoutF",
     [] { return clear_bits(encode(R2t{.desired_data_transfer_length = 1}), 1, 0x80); },
     {PduErrc::kInvalidField, 1, "F", "R2T"}},
    {"R2tWithData",
     [] { return with_data(encode(R2t{.desired_data_transfer_length = 1})); },
     {PduErrc::kInvalidField, 5, "DataSegmentLength", "R2T"}},
    {"R2tReservedTtt",
     [] { return encode(R2t{.ttt = kReservedTag, .desired_data_transfer_length = 1}); },
     {PduErrc::kInvalidField, 20, "Target Transfer Tag", "must not be 0xffffffff"}},
    {"R2tZeroLength",
     [] { return encode(R2t{.ttt = 1}); },
     {PduErrc::kInvalidField, 44, "Desired Data Transfer Length", "greater than 0"}},
    {"AsyncWithoutF",
     [] { return clear_bits(encode(AsyncMessage{}), 1, 0x80); },
     {PduErrc::kInvalidField, 1, "F", "Asynchronous Message"}},
    {"AsyncWithTaskTag",
     [] { return with_byte(encode(AsyncMessage{}), 19, 0); },
     {PduErrc::kInvalidField, 16, "Initiator Task Tag", "0xffffff00 must be 0xffffffff"}},
    {"RejectWithoutF",
     [] { return clear_bits(encode(Reject{}), 1, 0x80); },
     {PduErrc::kInvalidField, 1, "F", "Reject"}},
    {"RejectWithTaskTag",
     [] { return with_byte(encode(Reject{}), 16, 0); },
     {PduErrc::kInvalidField, 16, "Initiator Task Tag", "Reject"}},
};

INSTANTIATE_TEST_SUITE_P(AllRules, FieldRuleTest, ::testing::ValuesIn(kFieldRuleCases),
                         [](const auto& info) { return info.param.name; });

TEST(PduDecoderTest, HeaderFirstDecodingIntoSeparateBuffers) {
  const auto data = bytes_of("0123456789");
  EncodeOptions encode_options{.header_digest = true, .data_digest = true};
  const auto wire = encode(DataIn{.final = true, .itt = 42, .data = data}, encode_options);
  DecodeOptions options{.header_digest = true, .data_digest = true};

  auto framing = decode_framing(std::span(wire).first<kBhsLength>(), options);
  ASSERT_TRUE(framing.has_value()) << framing.error().describe();
  EXPECT_EQ(framing->opcode, Opcode::kScsiDataIn);
  EXPECT_EQ(framing->header_length(), 52u);
  EXPECT_EQ(framing->data_segment_length, 10u);
  EXPECT_EQ(framing->padding_length, 2u);
  EXPECT_EQ(framing->data_area_length(), 16u);
  EXPECT_EQ(framing->total_length(), wire.size());

  // The transport receives the header into one buffer and the data area
  // into another of its own.
  std::vector<std::uint8_t> header(wire.begin(), wire.begin() + 52);
  std::vector<std::uint8_t> data_area(wire.begin() + 52, wire.end());
  auto pdu = decode_header(header, *framing, options);
  ASSERT_TRUE(pdu.has_value()) << pdu.error().describe();
  EXPECT_EQ(std::get<DataIn>(*pdu).itt, 42u);
  auto segment = decode_data_area(data_area, *framing, options);
  ASSERT_TRUE(segment.has_value()) << segment.error().describe();
  EXPECT_EQ(segment->data(), data_area.data());
  EXPECT_EQ(segment->size(), 10u);
  set_pdu_data(*pdu, *segment);
  EXPECT_TRUE(std::ranges::equal(std::get<DataIn>(*pdu).data, data));

  data_area[3] ^= 1;
  auto bad = decode_data_area(data_area, *framing, options);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, PduErrc::kDataDigest);
  EXPECT_EQ(bad.error().offset, 52u + 12);
}

TEST(PduDecoderTest, DecodesAStreamOfPdusOneAfterAnother) {
  auto stream = encode(NopOut{.immediate = true, .data = bytes_of("abc")});
  const auto second = encode(NopIn{.stat_sn = 9});
  stream.insert(stream.end(), second.begin(), second.end());
  auto first = decode_pdu(stream, {});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->length, 52u);
  auto next = decode_pdu(std::span(stream).subspan(first->length), {});
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(std::get<NopIn>(next->pdu).stat_sn, 9u);
}

TEST(PduErrorTest, DescribeNamesOffsetFieldAndRule) {
  const PduError error =
      pdu_error(PduErrc::kLengthLimit, 5, "DataSegmentLength", "too long: %d", 7);
  EXPECT_EQ(error.describe(), "byte 5 (DataSegmentLength): too long: 7");
  EXPECT_EQ(pdu_errc_name(PduErrc::kHeaderDigest), "header digest");
}

}  // namespace
}  // namespace isergw::iscsi
