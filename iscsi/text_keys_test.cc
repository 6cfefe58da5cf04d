#include "iscsi/text_keys.h"

#include <gtest/gtest.h>

#include <string>

using namespace std::string_literals;

namespace isergw::iscsi {
namespace {

std::vector<std::uint8_t> bytes(std::string_view text) {
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

TextKeyError parse_error(std::string_view text, TextParseOptions options = {}) {
  auto parsed = parse_text_keys(bytes(text), options);
  EXPECT_FALSE(parsed.has_value()) << "parsed: " << text;
  if (parsed) return TextKeyError{};
  return parsed.error();
}

TEST(TextKeys, ParsesPairsInOrder) {
  auto parsed = parse_text_keys(bytes("HeaderDigest=None,CRC32C\0MaxBurstLength=262144\0"s));
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0], (TextKey{"HeaderDigest", "None,CRC32C"}));
  EXPECT_EQ((*parsed)[1], (TextKey{"MaxBurstLength", "262144"}));
}

TEST(TextKeys, EmptySegmentIsEmptyList) {
  auto parsed = parse_text_keys({});
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->empty());
}

TEST(TextKeys, EmptyValueIsKept) {
  auto parsed = parse_text_keys(bytes("TargetAlias=\0"s));
  ASSERT_TRUE(parsed);
  EXPECT_EQ((*parsed)[0], (TextKey{"TargetAlias", ""}));
}

TEST(TextKeys, ValueMayContainEqualsAndUtf8) {
  auto parsed = parse_text_keys(bytes("InitiatorAlias=a=b \xc3\xa9\0"s));
  ASSERT_TRUE(parsed);
  EXPECT_EQ((*parsed)[0].value, "a=b \xc3\xa9");
}

TEST(TextKeys, TrailingPaddingIsIgnored) {
  auto parsed = parse_text_keys(bytes("A=1\0\0\0\0"s));
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 1u);
}

TEST(TextKeys, EmptyPairBeforeMoreKeysIsAnError) {
  auto error = parse_error("A=1\0\0B=2\0"s);
  EXPECT_EQ(error.code, TextKeyErrc::kEmptyPair);
  EXPECT_EQ(error.offset, 4u);
}

TEST(TextKeys, LeadingNulIsAnError) {
  auto error = parse_error("\0A=1\0"s);
  EXPECT_EQ(error.code, TextKeyErrc::kEmptyPair);
  EXPECT_EQ(error.offset, 0u);
}

TEST(TextKeys, MissingTerminator) {
  auto error = parse_error("A=1\0B=2"s);
  EXPECT_EQ(error.code, TextKeyErrc::kMissingTerminator);
  EXPECT_EQ(error.key, "B");
  EXPECT_EQ(error.offset, 4u);
}

TEST(TextKeys, MissingTerminatorWithoutEquals) {
  auto error = parse_error("Abc");
  EXPECT_EQ(error.code, TextKeyErrc::kMissingTerminator);
}

TEST(TextKeys, MissingEquals) {
  auto error = parse_error("A=1\0Bogus\0"s);
  EXPECT_EQ(error.code, TextKeyErrc::kMissingEquals);
  EXPECT_EQ(error.key, "Bogus");
  EXPECT_EQ(error.offset, 4u);
}

TEST(TextKeys, EmptyKeyName) {
  auto error = parse_error("=1\0"s);
  EXPECT_EQ(error.code, TextKeyErrc::kEmptyKeyName);
  EXPECT_EQ(error.offset, 0u);
}

TEST(TextKeys, KeyNameOf63IsAcceptedAnd64Rejected) {
  const std::string ok = "K" + std::string(62, 'a');
  auto parsed = parse_text_keys(bytes(ok + "=1" + std::string(1, '\0')));
  ASSERT_TRUE(parsed);
  auto error = parse_error(ok + "b=1" + std::string(1, '\0'));
  EXPECT_EQ(error.code, TextKeyErrc::kKeyNameTooLong);
}

TEST(TextKeys, KeyNameMustStartWithCapital) {
  EXPECT_EQ(parse_error("maxBurstLength=1\0"s).code, TextKeyErrc::kBadKeyNameStart);
  EXPECT_EQ(parse_error("1A=1\0"s).code, TextKeyErrc::kBadKeyNameStart);
  EXPECT_TRUE(parse_text_keys(bytes("iSCSIProtocolLevel=1\0"s)));
  EXPECT_EQ(parse_error("iSCSIProtocolLevelX=1\0"s).code, TextKeyErrc::kBadKeyNameStart);
}

TEST(TextKeys, KeyNameCharacters) {
  auto parsed = parse_text_keys(bytes("X-com.example.a+b@c_d=1\0"s));
  ASSERT_TRUE(parsed);
  auto error = parse_error("A=1\0Max Burst=1\0"s);
  EXPECT_EQ(error.code, TextKeyErrc::kBadKeyNameChar);
  EXPECT_EQ(error.key, "Max Burst");
  EXPECT_EQ(error.offset, 4u);
  EXPECT_EQ(parse_error("A/B=1\0"s).code, TextKeyErrc::kBadKeyNameChar);
}

TEST(TextKeys, HashAllowedOnlyInXHashKeys) {
  EXPECT_TRUE(parse_text_keys(bytes("X#Registered=1\0"s)));
  EXPECT_EQ(parse_error("Y#Key=1\0"s).code, TextKeyErrc::kBadKeyNameChar);
  EXPECT_EQ(parse_error("X-#=1\0"s).code, TextKeyErrc::kBadKeyNameChar);
}

TEST(TextKeys, ErrorKeyIsPrintable) {
  auto error = parse_error("A\x01\x02=1\0"s);
  EXPECT_EQ(error.code, TextKeyErrc::kBadKeyNameChar);
  EXPECT_EQ(error.key, "A??");
}

TEST(TextKeys, SimpleValueLimit) {
  const std::string v255(255, 'v');
  EXPECT_TRUE(parse_text_keys(bytes("TargetAlias=" + v255 + std::string(1, '\0'))));
  auto error = parse_error("TargetAlias=" + v255 + "v" + std::string(1, '\0'));
  EXPECT_EQ(error.code, TextKeyErrc::kValueTooLong);
  EXPECT_EQ(error.key, "TargetAlias");
  EXPECT_EQ(error.offset, 12u);
}

TEST(TextKeys, LimitAppliesToEachListElement) {
  const std::string v255(255, 'v');
  EXPECT_TRUE(parse_text_keys(bytes("X-List=" + v255 + "," + v255 + std::string(1, '\0'))));
  auto error = parse_error("X-List=" + v255 + "," + v255 + "w" + std::string(1, '\0'));
  EXPECT_EQ(error.code, TextKeyErrc::kValueTooLong);
  EXPECT_EQ(error.offset, 7u + 256u);
}

TEST(TextKeys, LargeBinaryValuesMayReach8192) {
  const std::string hex = "0x" + std::string(8190, 'a');
  EXPECT_TRUE(parse_text_keys(bytes("CHAP_C=" + hex + std::string(1, '\0'))));
  EXPECT_TRUE(parse_text_keys(bytes("CHAP_R=" + hex + std::string(1, '\0'))));
  auto error = parse_error("CHAP_C=" + hex + "a" + std::string(1, '\0'));
  EXPECT_EQ(error.code, TextKeyErrc::kValueTooLong);
  EXPECT_EQ(error.key, "CHAP_C");
  EXPECT_EQ(parse_error("CHAP_N=" + std::string(256, 'n') + std::string(1, '\0')).code,
            TextKeyErrc::kValueTooLong);
}

TEST(TextKeys, DuplicateKeyIsRejected) {
  auto error = parse_error("A=1\0B=2\0A=3\0"s);
  EXPECT_EQ(error.code, TextKeyErrc::kDuplicateKey);
  EXPECT_EQ(error.key, "A");
  EXPECT_EQ(error.offset, 8u);
}

TEST(TextKeys, SendTargetsResponseMayRepeatTargetKeys) {
  const std::string text(
      "TargetName=iqn.a\0TargetAddress=10.0.0.1:3260,1\0"
      "TargetAddress=10.0.0.2:3260,2\0TargetName=iqn.b\0",
      94);
  EXPECT_EQ(parse_error(text).code, TextKeyErrc::kDuplicateKey);
  auto parsed = parse_text_keys(bytes(text), {.allow_repeated_send_targets_keys = true});
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->size(), 4u);
  // Only the keys that RFC 7143 Appendix C lets repeat.
  EXPECT_EQ(parse_error("MaxBurstLength=1\0MaxBurstLength=2\0"s,
                        {.allow_repeated_send_targets_keys = true})
                .code,
            TextKeyErrc::kDuplicateKey);
}

TEST(TextKeys, ErrorMessageNamesKeyOffsetAndRule) {
  auto error = parse_error("A=1\0A=2\0"s);
  EXPECT_EQ(error.message(), "text key 'A' at byte 4: key sent more than once (RFC 7143 §6.2)");
  TextKeyError no_key{TextKeyErrc::kEmptyPair, "", 3};
  EXPECT_EQ(no_key.message(), "text key at byte 3: empty pair (NUL where a key should start)");
}

TEST(TextKeys, EveryErrorHasAName) {
  for (int code = 0; code <= static_cast<int>(TextKeyErrc::kSequenceTooLong); ++code) {
    EXPECT_NE(to_string(static_cast<TextKeyErrc>(code)), "unknown text key error");
  }
}

TEST(TextKeys, BuildRoundTrips) {
  const KeyList keys = {{"InitiatorName", "iqn.1994-05.com.redhat:abc"},
                        {"SessionType", "Normal"},
                        {"TargetAlias", ""}};
  const auto text = build_text_keys(keys);
  EXPECT_EQ(std::string(text.begin(), text.end()),
            "InitiatorName=iqn.1994-05.com.redhat:abc\0SessionType=Normal\0TargetAlias=\0"s);
  auto parsed = parse_text_keys(text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, keys);
}

TEST(TextKeys, FindKey) {
  const KeyList keys = {{"A", "1"}, {"B", "2"}};
  ASSERT_NE(find_key(keys, "B"), nullptr);
  EXPECT_EQ(*find_key(keys, "B"), "2");
  EXPECT_EQ(find_key(keys, "C"), nullptr);
}

TEST(TextKeyAccumulator, JoinsKeySplitMidName) {
  TextKeyAccumulator acc;
  auto first = acc.add(bytes("MaxBu"), true);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->has_value());
  EXPECT_TRUE(acc.in_progress());
  auto second = acc.add(bytes("rstLength=26"), true);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->has_value());
  auto last = acc.add(bytes("2144\0A=1\0"s), false);
  ASSERT_TRUE(last);
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ(**last, (KeyList{{"MaxBurstLength", "262144"}, {"A", "1"}}));
  EXPECT_FALSE(acc.in_progress());
}

TEST(TextKeyAccumulator, SinglePduWithoutContinue) {
  TextKeyAccumulator acc;
  auto out = acc.add(bytes("A=1\0"s), false);
  ASSERT_TRUE(out && out->has_value());
  EXPECT_EQ((*out)->size(), 1u);
}

TEST(TextKeyAccumulator, ErrorOffsetsCountFromSequenceStart) {
  TextKeyAccumulator acc;
  ASSERT_TRUE(acc.add(bytes("A=1\0"s), true));
  auto out = acc.add(bytes("b=2\0"s), false);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, TextKeyErrc::kBadKeyNameStart);
  EXPECT_EQ(out.error().offset, 4u);
  EXPECT_FALSE(acc.in_progress());
}

TEST(TextKeyAccumulator, DuplicateAcrossPdusOfOneSequence) {
  TextKeyAccumulator acc;
  ASSERT_TRUE(acc.add(bytes("A=1\0"s), true));
  auto out = acc.add(bytes("A=2\0"s), false);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, TextKeyErrc::kDuplicateKey);
}

TEST(TextKeyAccumulator, BoundsTheSequence) {
  TextKeyAccumulator acc({}, 16);
  ASSERT_TRUE(acc.add(bytes("0123456789"), true));
  auto out = acc.add(bytes("0123456"), true);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, TextKeyErrc::kSequenceTooLong);
  EXPECT_EQ(out.error().offset, 10u);
  // The failed sequence is dropped; a fresh one starts clean.
  EXPECT_FALSE(acc.in_progress());
  auto fresh = acc.add(bytes("A=1\0"s), false);
  ASSERT_TRUE(fresh && fresh->has_value());
}

TEST(TextKeyAccumulator, ExactlyAtTheBoundIsAccepted) {
  TextKeyAccumulator acc({}, 8);
  ASSERT_TRUE(acc.add(bytes("A=1\0"s), true));
  auto out = acc.add(bytes("B=2\0"s), false);
  ASSERT_TRUE(out && out->has_value());
}

TEST(TextKeyAccumulator, DefaultBoundIs64KiB) {
  TextKeyAccumulator acc;
  const std::vector<std::uint8_t> chunk(8192, 'a');
  for (int i = 0; i < 8; ++i)
    ASSERT_TRUE(acc.add(chunk, true));
  auto out = acc.add(std::vector<std::uint8_t>(1, 'a'), true);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, TextKeyErrc::kSequenceTooLong);
}

TEST(SplitText, CutsAtMaxAndSetsContinueBit) {
  const KeyList keys = {{"InitiatorName", "iqn.2005-03.org.open-iscsi:abc"},
                        {"SessionType", "Normal"}};
  const auto text = build_text_keys(keys);
  const auto segments = split_text_keys(keys, 10);
  ASSERT_EQ(segments.size(), (text.size() + 9) / 10);
  std::vector<std::uint8_t> joined;
  TextKeyAccumulator acc;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    EXPECT_LE(segments[i].data.size(), 10u);
    EXPECT_EQ(segments[i].continue_bit, i + 1 < segments.size());
    joined.insert(joined.end(), segments[i].data.begin(), segments[i].data.end());
    auto out = acc.add(segments[i].data, segments[i].continue_bit);
    ASSERT_TRUE(out);
    if (i + 1 == segments.size()) {
      ASSERT_TRUE(out->has_value());
      EXPECT_EQ(**out, keys);
    }
  }
  EXPECT_EQ(joined, text);
}

TEST(SplitText, ExactMultipleHasNoEmptyTail) {
  const auto segments = split_text(bytes("abcdefgh"), 4);
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_TRUE(segments[0].continue_bit);
  EXPECT_FALSE(segments[1].continue_bit);
}

TEST(SplitText, EmptyTextIsOneEmptySegment) {
  const auto segments = split_text({}, 8192);
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_TRUE(segments[0].data.empty());
  EXPECT_FALSE(segments[0].continue_bit);
}

}  // namespace
}  // namespace isergw::iscsi
