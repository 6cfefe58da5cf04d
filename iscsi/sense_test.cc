#include "iscsi/sense.h"

#include <gtest/gtest.h>

#include <vector>

namespace isergw::iscsi {
namespace {

Sense make_sense(SenseKey key, AdditionalSense additional = kNoAdditionalSense,
                 std::optional<uint64_t> information = std::nullopt,
                 std::optional<FieldPointer> field_pointer = std::nullopt) {
  Sense sense;
  sense.key = key;
  sense.additional = additional;
  sense.information = information;
  sense.field_pointer = field_pointer;
  return sense;
}

std::vector<uint8_t> to_vector(std::span<const uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

TEST(SenseStatus, CodesAreSam5Values) {
  EXPECT_EQ(static_cast<uint8_t>(ScsiStatus::kGood), 0x00);
  EXPECT_EQ(static_cast<uint8_t>(ScsiStatus::kCheckCondition), 0x02);
  EXPECT_EQ(static_cast<uint8_t>(ScsiStatus::kBusy), 0x08);
  EXPECT_EQ(static_cast<uint8_t>(ScsiStatus::kReservationConflict), 0x18);
  EXPECT_EQ(static_cast<uint8_t>(ScsiStatus::kTaskSetFull), 0x28);
  EXPECT_EQ(static_cast<uint8_t>(ScsiStatus::kTaskAborted), 0x40);
  EXPECT_EQ(to_string(ScsiStatus::kReservationConflict), "RESERVATION CONFLICT");
  EXPECT_EQ(to_string(static_cast<ScsiStatus>(0x77)), "RESERVED STATUS");
}

TEST(FixedSense, LaysOutKeyAscAscqPerSpc4) {
  const SenseBytes sense =
      build_fixed_sense(make_sense(SenseKey::kIllegalRequest, kInvalidFieldInCdb));
  const std::vector<uint8_t> expected = {0x70, 0, 0x05, 0,    0, 0, 0, 10, 0,
                                         0,    0, 0,    0x24, 0, 0, 0, 0,  0};
  EXPECT_EQ(to_vector(sense.bytes()), expected);
}

TEST(FixedSense, CarriesInformationAndFieldPointer) {
  const SenseBytes sense = build_fixed_sense(make_sense(
      SenseKey::kIllegalRequest, kInvalidFieldInCdb, 0x01020304, FieldPointer{true, 0x0102, 3}));
  const auto b = sense.bytes();
  ASSERT_EQ(b.size(), kFixedSenseLength);
  EXPECT_EQ(b[0], 0xF0);  // VALID | 0x70
  EXPECT_EQ(b[3], 0x01);
  EXPECT_EQ(b[6], 0x04);
  EXPECT_EQ(b[15], 0x80 | 0x40 | 0x08 | 3);
  EXPECT_EQ(b[16], 0x01);
  EXPECT_EQ(b[17], 0x02);
}

TEST(FixedSense, DropsInformationWiderThan32Bits) {
  const SenseBytes sense =
      build_fixed_sense(make_sense(SenseKey::kIllegalRequest, kLbaOutOfRange, 1ull << 32));
  EXPECT_EQ(sense.bytes()[0], 0x70);
  const auto parsed = parse_sense(sense.bytes());
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_FALSE(parsed->information);
}

TEST(FixedSense, DeferredUsesResponseCode71) {
  const SenseBytes sense = build_fixed_sense([] {
    Sense deferred = make_sense(SenseKey::kMediumError);
    deferred.deferred = true;
    return deferred;
  }());
  EXPECT_EQ(sense.bytes()[0], 0x71);
  const auto parsed = parse_sense(sense.bytes());
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->deferred);
}

TEST(DescriptorSense, HeaderOnlyWithoutOptionalFields) {
  const SenseBytes sense =
      build_descriptor_sense(make_sense(SenseKey::kDataProtect, kWriteProtected));
  const std::vector<uint8_t> expected = {0x72, 0x07, 0x27, 0x00, 0, 0, 0, 0};
  EXPECT_EQ(to_vector(sense.bytes()), expected);
}

TEST(DescriptorSense, CarriesFullWidthInformationAndFieldPointer) {
  const Sense in = make_sense(SenseKey::kIllegalRequest, kLbaOutOfRange, 0x0102030405060708ull,
                              FieldPointer{false, 7, std::nullopt});
  const SenseBytes sense = build_descriptor_sense(in);
  ASSERT_EQ(sense.size(), kMaxDescriptorSenseLength);
  const auto b = sense.bytes();
  EXPECT_EQ(b[7], 20);
  EXPECT_EQ(b[8], 0x00);
  EXPECT_EQ(b[9], 0x0A);
  EXPECT_EQ(b[10], 0x80);
  EXPECT_EQ(b[12], 0x01);
  EXPECT_EQ(b[19], 0x08);
  EXPECT_EQ(b[20], 0x02);
  EXPECT_EQ(b[21], 0x06);
  EXPECT_EQ(b[24], 0x80);  // SKSV, C/D = 0 (parameter list), no bit pointer
  EXPECT_EQ(b[26], 7);
  const auto parsed = parse_sense(b);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(*parsed, in);
}

TEST(ParseSense, RoundTripsBothFormats) {
  const Sense in =
      make_sense(SenseKey::kIllegalRequest, kInvalidFieldInCdb, 42, FieldPointer{true, 2, 1});
  for (const SenseBytes& bytes : {build_fixed_sense(in), build_descriptor_sense(in)}) {
    const auto parsed = parse_sense(bytes.bytes());
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(*parsed, in);
  }
}

TEST(ParseSense, IgnoresSenseKeySpecificBytesOfOtherKeys) {
  // For NOT READY the same bytes mean progress indication, not a field pointer.
  std::vector<uint8_t> b =
      to_vector(build_fixed_sense(make_sense(SenseKey::kNotReady, kMediumNotPresent)).bytes());
  b[15] = 0x80;
  b[17] = 0x10;
  const auto parsed = parse_sense(b);
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->field_pointer);
  EXPECT_EQ(parsed->key, SenseKey::kNotReady);
  EXPECT_EQ(parsed->additional, kMediumNotPresent);
}

TEST(ParseSense, RejectsEmpty) {
  const auto parsed = parse_sense({});
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), "sense data is empty");
}

TEST(ParseSense, RejectsUnknownResponseCode) {
  const uint8_t b[18] = {0x7F};
  const auto parsed = parse_sense(b);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(),
            "sense data has response code 0x7f, neither fixed (0x70/0x71) nor descriptor "
            "(0x72/0x73) format");
}

TEST(ParseSense, RejectsTruncatedFixed) {
  const uint8_t b[13] = {0x70, 0, 0x05, 0, 0, 0, 0, 10};
  const auto parsed = parse_sense(b);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), "fixed-format sense data of 13 bytes ends before byte 13");
}

TEST(ParseSense, RejectsFixedWithShortAdditionalLength) {
  uint8_t b[18] = {0x70, 0, 0x05, 0, 0, 0, 0, 5};
  b[12] = 0x24;
  const auto parsed = parse_sense(b);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(),
            "fixed-format sense data has additional sense length 5, too short for the ASC and "
            "ASCQ (needs 6)");
}

TEST(ParseSense, AcceptsFixedWithoutSenseKeySpecificBytes) {
  // Some targets send the 14-byte minimum (additional sense length 6).
  const uint8_t b[14] = {0x70, 0, 0x03, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0x11, 0x00};
  const auto parsed = parse_sense(b);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->key, SenseKey::kMediumError);
  EXPECT_EQ(parsed->additional, kUnrecoveredReadError);
}

TEST(ParseSense, RejectsTruncatedDescriptorHeader) {
  const uint8_t b[7] = {0x72, 0x05, 0x24};
  const auto parsed = parse_sense(b);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), "descriptor-format sense data of 7 bytes ends before byte 7");
}

TEST(ParseSense, RejectsDescriptorOverrunningTheData) {
  const uint8_t b[12] = {0x72, 0x05, 0x24, 0, 0, 0, 0, 4, 0x00, 0x0A, 0x80, 0};
  const auto parsed = parse_sense(b);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(),
            "descriptor-format sense data: descriptor type 0x00 at byte 8 needs 12 bytes, only 4 "
            "remain");
}

TEST(ParseSense, RejectsDescriptorWithoutLengthByte) {
  const uint8_t b[9] = {0x72, 0x05, 0x24, 0, 0, 0, 0, 1, 0x00};
  const auto parsed = parse_sense(b);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(),
            "descriptor-format sense data: descriptor at byte 8 has no additional length byte");
}

TEST(ParseSense, SkipsUnknownDescriptorsAndTrailingBytes) {
  const uint8_t b[16] = {0x72, 0x04, 0x44, 0x00, 0, 0, 0, 4, 0x80, 0x02, 0xAA, 0xBB,
                         // beyond the additional sense length: ignored
                         0xFF, 0xFF, 0xFF, 0xFF};
  const auto parsed = parse_sense(b);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->key, SenseKey::kHardwareError);
  EXPECT_EQ(parsed->additional, kInternalTargetFailure);
  EXPECT_FALSE(parsed->information);
}

TEST(SenseSegment, FramesWithBigEndianSenseLength) {
  const SenseBytes sense = build_fixed_sense(make_sense(SenseKey::kIllegalRequest));
  std::vector<uint8_t> out(64, 0xEE);
  const auto used = frame_sense_segment(sense.bytes(), out);
  ASSERT_TRUE(used) << used.error();
  EXPECT_EQ(*used, 20u);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 18);
  EXPECT_EQ(out[2], 0x70);
  EXPECT_EQ(out[20], 0xEE);
  const auto back = unframe_sense_segment(std::span<const uint8_t>(out.data(), *used));
  ASSERT_TRUE(back);
  EXPECT_EQ(to_vector(*back), to_vector(sense.bytes()));
}

TEST(SenseSegment, RejectsSmallBuffer) {
  const SenseBytes sense = build_fixed_sense(make_sense(SenseKey::kIllegalRequest));
  std::vector<uint8_t> out(19);
  const auto used = frame_sense_segment(sense.bytes(), out);
  ASSERT_FALSE(used);
  EXPECT_EQ(used.error(),
            "SCSI Response data segment needs 20 bytes for the sense data, the buffer has 19");
}

TEST(SenseSegment, RejectsSenseLongerThanSenseLengthCanSay) {
  std::vector<uint8_t> sense(0x10000);
  std::vector<uint8_t> out(0x10002);
  const auto used = frame_sense_segment(sense, out);
  ASSERT_FALSE(used);
  EXPECT_EQ(used.error(), "sense data of 65536 bytes does not fit the 16-bit SenseLength");
}

TEST(SenseSegment, EmptySegmentHasNoSense) {
  const auto sense = unframe_sense_segment({});
  ASSERT_TRUE(sense);
  EXPECT_TRUE(sense->empty());
}

TEST(SenseSegment, KeepsResponseDataAfterSenseOut) {
  const uint8_t segment[] = {0, 2, 0xAA, 0xBB, 0xCC, 0xDD};
  const auto sense = unframe_sense_segment(segment);
  ASSERT_TRUE(sense);
  EXPECT_EQ(to_vector(*sense), (std::vector<uint8_t>{0xAA, 0xBB}));
}

TEST(SenseSegment, RejectsOneByteSegment) {
  const uint8_t segment[] = {0};
  const auto sense = unframe_sense_segment(segment);
  ASSERT_FALSE(sense);
  EXPECT_EQ(sense.error(),
            "SCSI Response data segment of 1 byte cannot hold the 2-byte SenseLength");
}

TEST(SenseSegment, RejectsSenseLengthPastTheSegment) {
  const uint8_t segment[] = {0, 18, 0x70, 0};
  const auto sense = unframe_sense_segment(segment);
  ASSERT_FALSE(sense);
  EXPECT_EQ(sense.error(),
            "SCSI Response SenseLength 18 exceeds the 2 bytes that follow it in the data segment");
}

TEST(SenseNames, DescribesKnownAndUnknownCodes) {
  EXPECT_EQ(describe(kLbaOutOfRange), "LOGICAL BLOCK ADDRESS OUT OF RANGE");
  EXPECT_EQ(describe({0xAB, 0xCD}), "ASC 0xAB ASCQ 0xCD");
  EXPECT_EQ(to_string(SenseKey::kIllegalRequest), "ILLEGAL REQUEST");
  EXPECT_EQ(to_string(static_cast<SenseKey>(0xC)), "RESERVED SENSE KEY");
}

}  // namespace
}  // namespace isergw::iscsi
