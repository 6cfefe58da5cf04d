#include "iscsi/chap.h"

#include <gtest/gtest.h>

#include <numeric>

namespace isergw::iscsi {
namespace {

std::vector<std::uint8_t> counting(std::size_t n, std::uint8_t first) {
  std::vector<std::uint8_t> out(n);
  std::iota(out.begin(), out.end(), first);
  return out;
}

// Expected digests were computed independently with Python's hashlib:
//   python3 -c "import hashlib; print(hashlib.new('md5',
//       b'\x01' + b'a-secret-of-16by' + bytes(range(16))).hexdigest())"
// and likewise for 'sha256' and 'sha3_256', and for identifier 0xa7, secret
// b'target-secret-xyz' and challenge bytes(range(0x20, 0x40)).
TEST(ChapResponse, KnownVectors) {
  const auto c16 = counting(16, 0);
  EXPECT_EQ(encode_hex(chap_response(ChapAlgorithm::kMd5, 1, "a-secret-of-16by", c16)),
            "0x6588aa6eced959accc047e56ffdb25cd");
  EXPECT_EQ(encode_hex(chap_response(ChapAlgorithm::kSha256, 1, "a-secret-of-16by", c16)),
            "0x601cffd04012039f3bfd6fdc7ef3283a8539848c70956357ecb4cac4ae88e129");
  EXPECT_EQ(encode_hex(chap_response(ChapAlgorithm::kSha3_256, 1, "a-secret-of-16by", c16)),
            "0xb0fbd58e695ebde2fa011b96ddfee7aa51806339b43774f314cd79269bafcd0f");
  const auto c32 = counting(32, 0x20);
  EXPECT_EQ(encode_hex(chap_response(ChapAlgorithm::kMd5, 0xa7, "target-secret-xyz", c32)),
            "0xd7111128ad4e9edaec3fef2a656548bd");
  EXPECT_EQ(encode_hex(chap_response(ChapAlgorithm::kSha256, 0xa7, "target-secret-xyz", c32)),
            "0x80c91f06c45d4c3e7712e730fb23fdb90f422f720e26a514aa0238e3a6f1398c");
  EXPECT_EQ(encode_hex(chap_response(ChapAlgorithm::kSha3_256, 0xa7, "target-secret-xyz", c32)),
            "0x8dcb0daf244a545c4a26f9d939c5be6d3432394bf84f4bac486e07622d0603ea");
}

TEST(ChapAlgorithms, NumbersAndLengths) {
  EXPECT_EQ(chap_algorithm_from_number(5), ChapAlgorithm::kMd5);
  EXPECT_EQ(chap_algorithm_from_number(7), ChapAlgorithm::kSha256);
  EXPECT_EQ(chap_algorithm_from_number(8), ChapAlgorithm::kSha3_256);
  EXPECT_FALSE(chap_algorithm_from_number(6));  // SHA-1: not supported
  EXPECT_FALSE(chap_algorithm_from_number(0));
  EXPECT_EQ(chap_digest_length(ChapAlgorithm::kMd5), 16u);
  EXPECT_EQ(chap_digest_length(ChapAlgorithm::kSha256), 32u);
  EXPECT_EQ(chap_digest_length(ChapAlgorithm::kSha3_256), 32u);
}

TEST(ChapEncoding, Hex) {
  const std::vector<std::uint8_t> bytes = {0x00, 0xab, 0xff};
  EXPECT_EQ(encode_hex(bytes), "0x00abff");
  EXPECT_EQ(*decode_binary_value("0x00abff"), bytes);
  EXPECT_EQ(*decode_binary_value("0X00ABFF"), bytes);
  // An odd digit count implies a leading zero.
  EXPECT_EQ(*decode_binary_value("0xabc"), (std::vector<std::uint8_t>{0x0a, 0xbc}));
}

TEST(ChapEncoding, Base64) {
  // python3 -c "import base64; print(base64.b64encode(bytes(range(16))))"
  EXPECT_EQ(encode_base64(counting(16, 0)), "0bAAECAwQFBgcICQoLDA0ODw==");
  EXPECT_EQ(encode_base64(std::vector<std::uint8_t>{0xff, 0xfe, 0xfd, 0xfc, 0xfb}), "0b//79/Ps=");
  EXPECT_EQ(encode_base64(std::vector<std::uint8_t>{1, 2, 3}), "0bAQID");
  EXPECT_EQ(*decode_binary_value("0bAAECAwQFBgcICQoLDA0ODw=="), counting(16, 0));
  EXPECT_EQ(*decode_binary_value("0B//79/Ps="),
            (std::vector<std::uint8_t>{0xff, 0xfe, 0xfd, 0xfc, 0xfb}));
  EXPECT_EQ(*decode_binary_value("0bAQID"), (std::vector<std::uint8_t>{1, 2, 3}));
}

TEST(ChapEncoding, RoundTripsEveryLength) {
  for (std::size_t n = 1; n < 40; ++n) {
    const auto bytes = counting(n, static_cast<std::uint8_t>(n * 7));
    EXPECT_EQ(*decode_binary_value(encode_hex(bytes)), bytes);
    EXPECT_EQ(*decode_binary_value(encode_base64(bytes)), bytes);
  }
}

TEST(ChapEncoding, Malformed) {
  for (const char* bad : {"", "0x", "0b", "ab", "1xab", "0yab", "0xag", "0x0g", "0bAQI", "0bAQ=D",
                          "0b====", "0bA===", "0bAQ*D", "0bAR==", "0bAQJ="}) {
    auto decoded = decode_binary_value(bad, "CHAP_C");
    ASSERT_FALSE(decoded) << bad;
    EXPECT_EQ(decoded.error().code, ChapErrc::kBadEncoding) << bad;
    EXPECT_EQ(decoded.error().key, "CHAP_C");
  }
}

TEST(ChapCompare, ConstantTimeEqual) {
  const std::vector<std::uint8_t> a = {1, 2, 3};
  EXPECT_TRUE(constant_time_equal(a, std::vector<std::uint8_t>{1, 2, 3}));
  EXPECT_FALSE(constant_time_equal(a, std::vector<std::uint8_t>{1, 2, 4}));
  EXPECT_FALSE(constant_time_equal(a, std::vector<std::uint8_t>{1, 2}));
  EXPECT_TRUE(constant_time_equal({}, {}));
}

TEST(ChapRandom, OpensslFillsBuffers) {
  std::vector<std::uint8_t> a(32), b(32);
  ASSERT_TRUE(openssl_random()(a));
  ASSERT_TRUE(openssl_random()(b));
  EXPECT_NE(a, b);
}

// A deterministic source: 0x10, 0x11, 0x12, ... so tests know the challenges.
RandomSource counter(std::uint8_t start) {
  auto next = std::make_shared<std::uint8_t>(start);
  return [next](std::span<std::uint8_t> out) {
    for (auto& b : out)
      b = (*next)++;
    return true;
  };
}

const ChapCredentials kInitiator{"iqn.1994-05.com.redhat:host", "initiator-secret"};
const ChapCredentials kTargetCreds{"iqn.2003-01.org.example:t1", "target-secret-1"};

TEST(ChapTarget, ChoosesInInitiatorsOrder) {
  ChapTarget target({ChapAlgorithm::kMd5, ChapAlgorithm::kSha256}, counter(0x10));
  auto keys = target.challenge("8,7,5");
  ASSERT_TRUE(keys);
  EXPECT_EQ((*keys)[0], (TextKey{"CHAP_A", "7"}));
  EXPECT_EQ((*keys)[1], (TextKey{"CHAP_I", "16"}));
  EXPECT_EQ((*keys)[2].key, "CHAP_C");
  // SHA-256 challenges are 32 bytes: 0x11, 0x12, ...
  EXPECT_EQ((*keys)[2].value, encode_hex(counting(32, 0x11)));
}

TEST(ChapTarget, Md5ChallengeIs16Bytes) {
  ChapTarget target({ChapAlgorithm::kMd5}, counter(0));
  auto keys = target.challenge("5");
  ASSERT_TRUE(keys);
  EXPECT_EQ(decode_binary_value((*keys)[2].value)->size(), 16u);
}

TEST(ChapTarget, NoCommonAlgorithm) {
  ChapTarget target({ChapAlgorithm::kSha256}, counter(0));
  for (const char* offer : {"5", "6,5", "", "x,y", "7x"}) {
    auto keys = target.challenge(offer);
    ASSERT_FALSE(keys) << offer;
    EXPECT_EQ(keys.error().code, ChapErrc::kNoCommonAlgorithm);
  }
}

TEST(ChapTarget, RandomFailure) {
  ChapTarget target({ChapAlgorithm::kMd5}, [](std::span<std::uint8_t>) { return false; });
  auto keys = target.challenge("5");
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().code, ChapErrc::kRandomFailure);
}

// Runs one-way CHAP: initiator offer, target challenge, initiator response.
struct Exchange {
  ChapTarget target{{ChapAlgorithm::kSha256, ChapAlgorithm::kMd5}, counter(0x40)};
  KeyList challenge;
  KeyList response;
};

Exchange run(ChapInitiator& initiator) {
  Exchange x;
  const KeyList offer = initiator.offer();
  x.challenge = *x.target.challenge(*find_key(offer, "CHAP_A"));
  auto response = initiator.respond(x.challenge);
  EXPECT_TRUE(response) << response.error().message();
  if (response) x.response = *response;
  return x;
}

TEST(ChapOneWay, Succeeds) {
  ChapInitiator initiator(kInitiator, std::nullopt, {ChapAlgorithm::kMd5}, counter(0x80));
  EXPECT_EQ(initiator.offer(), (KeyList{{"CHAP_A", "5"}}));
  auto x = run(initiator);
  EXPECT_EQ(x.response.size(), 2u);
  auto verified = x.target.verify(x.response, kInitiator, std::nullopt);
  ASSERT_TRUE(verified) << verified.error().message();
  EXPECT_TRUE(verified->empty());
  EXPECT_EQ(x.target.algorithm(), ChapAlgorithm::kMd5);
}

TEST(ChapOneWay, WrongSecretFails) {
  ChapInitiator initiator({kInitiator.name, "not-the-secret"}, std::nullopt);
  auto x = run(initiator);
  auto verified = x.target.verify(x.response, kInitiator, std::nullopt);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ChapErrc::kAuthenticationFailed);
  EXPECT_EQ(verified.error().key, "CHAP_R");
}

TEST(ChapOneWay, WrongNameFails) {
  ChapInitiator initiator({"someone-else", kInitiator.secret}, std::nullopt);
  auto x = run(initiator);
  auto verified = x.target.verify(x.response, kInitiator, std::nullopt);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ChapErrc::kUnknownName);
}

TEST(ChapOneWay, MalformedResponses) {
  ChapInitiator initiator(kInitiator, std::nullopt);
  auto x = run(initiator);
  struct Case {
    KeyList keys;
    ChapErrc code;
    std::string key;
  };
  const std::string r = *find_key(x.response, "CHAP_R");
  const std::vector<Case> cases = {
      {{{"CHAP_R", r}}, ChapErrc::kMissingKey, "CHAP_N"},
      {{{"CHAP_N", kInitiator.name}}, ChapErrc::kMissingKey, "CHAP_R"},
      {{{"CHAP_N", kInitiator.name}, {"CHAP_R", "abc"}}, ChapErrc::kBadEncoding, "CHAP_R"},
      {{{"CHAP_N", kInitiator.name}, {"CHAP_R", "0x0102"}}, ChapErrc::kBadLength, "CHAP_R"},
      {{{"CHAP_N", std::string(256, 'n')}, {"CHAP_R", r}}, ChapErrc::kBadLength, "CHAP_N"},
      {{{"CHAP_A", "7"}, {"CHAP_N", kInitiator.name}, {"CHAP_R", r}},
       ChapErrc::kUnexpectedKey,
       "CHAP_A"},
      {{{"CHAP_N", kInitiator.name}, {"CHAP_R", r}, {"CHAP_I", "1"}},
       ChapErrc::kMissingKey,
       "CHAP_C"},
      {{{"CHAP_N", kInitiator.name}, {"CHAP_R", r}, {"CHAP_C", "0x00"}},
       ChapErrc::kMissingKey,
       "CHAP_I"},
  };
  for (const auto& c : cases) {
    auto verified = x.target.verify(c.keys, kInitiator, kTargetCreds);
    ASSERT_FALSE(verified) << c.key;
    EXPECT_EQ(verified.error().code, c.code) << c.key;
    EXPECT_EQ(verified.error().key, c.key);
  }
  // The genuine response still verifies afterwards.
  EXPECT_TRUE(x.target.verify(x.response, kInitiator, std::nullopt));
}

TEST(ChapOneWay, ResponseInBase64IsAccepted) {
  ChapInitiator initiator(kInitiator, std::nullopt);
  auto x = run(initiator);
  const auto binary = *decode_binary_value(*find_key(x.response, "CHAP_R"));
  auto verified = x.target.verify({{"CHAP_N", kInitiator.name}, {"CHAP_R", encode_base64(binary)}},
                                  kInitiator, std::nullopt);
  EXPECT_TRUE(verified);
}

TEST(ChapOneWay, VerifyBeforeChallengeIsOutOfSequence) {
  ChapTarget target;
  auto verified = target.verify({{"CHAP_N", "x"}, {"CHAP_R", "0x00"}}, kInitiator, std::nullopt);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ChapErrc::kUnexpectedKey);
}

TEST(ChapOneWay, TargetPolicyRequiresMutual) {
  ChapInitiator initiator(kInitiator, std::nullopt);
  auto x = run(initiator);
  auto verified = x.target.verify(x.response, kInitiator, kTargetCreds, /*mutual_required=*/true);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ChapErrc::kMutualRequired);
}

TEST(ChapMutual, Succeeds) {
  for (auto algorithm : {ChapAlgorithm::kMd5, ChapAlgorithm::kSha256, ChapAlgorithm::kSha3_256}) {
    ChapInitiator initiator(kInitiator, kTargetCreds, {algorithm}, counter(0x90));
    Exchange x;
    x.target = ChapTarget({ChapAlgorithm::kSha3_256, ChapAlgorithm::kSha256, ChapAlgorithm::kMd5},
                          counter(0x40));
    x.challenge = *x.target.challenge(*find_key(initiator.offer(), "CHAP_A"));
    auto response = initiator.respond(x.challenge);
    ASSERT_TRUE(response);
    ASSERT_EQ(response->size(), 4u);
    EXPECT_EQ((*response)[2], (TextKey{"CHAP_I", "144"}));
    auto answer = x.target.verify(*response, kInitiator, kTargetCreds);
    ASSERT_TRUE(answer) << answer.error().message();
    ASSERT_EQ(answer->size(), 2u);
    EXPECT_EQ((*answer)[0], (TextKey{"CHAP_N", kTargetCreds.name}));
    EXPECT_TRUE(initiator.verify_target(*answer));
  }
}

TEST(ChapMutual, InitiatorDetectsImpostorTarget) {
  ChapInitiator initiator(kInitiator, kTargetCreds, {ChapAlgorithm::kSha256}, counter(0x90));
  ChapTarget target({ChapAlgorithm::kSha256}, counter(0x40));
  auto response = initiator.respond(*target.challenge("7"));
  ASSERT_TRUE(response);
  auto answer = target.verify(*response, kInitiator, ChapCredentials{kTargetCreds.name, "wrong"});
  ASSERT_TRUE(answer);
  auto verified = initiator.verify_target(*answer);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ChapErrc::kAuthenticationFailed);
  auto misnamed = initiator.verify_target({{"CHAP_N", "other"}, (*answer)[1]});
  ASSERT_FALSE(misnamed);
  EXPECT_EQ(misnamed.error().code, ChapErrc::kUnknownName);
}

TEST(ChapMutual, ReflectedChallengeIsRefused) {
  ChapTarget target({ChapAlgorithm::kSha256}, counter(0x40));
  auto challenge = target.challenge("7");
  ASSERT_TRUE(challenge);
  const std::string our_c = *find_key(*challenge, "CHAP_C");
  const std::uint8_t id = 0x40;
  const auto c = *decode_binary_value(our_c);
  const KeyList reflected = {
      {"CHAP_N", kInitiator.name},
      {"CHAP_R", encode_hex(chap_response(ChapAlgorithm::kSha256, id, kInitiator.secret, c))},
      {"CHAP_I", "64"},
      {"CHAP_C", our_c}};
  auto answer = target.verify(reflected, kInitiator, kTargetCreds);
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, ChapErrc::kReflectedChallenge);
}

TEST(ChapMutual, TargetErrors) {
  ChapInitiator initiator(kInitiator, kTargetCreds, {ChapAlgorithm::kMd5}, counter(0x90));
  ChapTarget target({ChapAlgorithm::kMd5}, counter(0x40));
  auto response = initiator.respond(*target.challenge("5"));
  ASSERT_TRUE(response);
  // No target credentials configured.
  auto unconfigured = target.verify(*response, kInitiator, std::nullopt);
  ASSERT_FALSE(unconfigured);
  EXPECT_EQ(unconfigured.error().code, ChapErrc::kMutualNotConfigured);
  // One secret for both directions.
  auto same = target.verify(*response, kInitiator, ChapCredentials{"t", kInitiator.secret});
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().code, ChapErrc::kSameSecret);
  // Bad CHAP_I, short or long challenge.
  KeyList bad = *response;
  bad[2].value = "256";
  EXPECT_EQ(target.verify(bad, kInitiator, kTargetCreds).error().code, ChapErrc::kBadIdentifier);
  bad = *response;
  bad[3].value = encode_hex(counting(15, 0));
  EXPECT_EQ(target.verify(bad, kInitiator, kTargetCreds).error().code, ChapErrc::kBadLength);
  bad[3].value = encode_hex(counting(1025, 0));
  EXPECT_EQ(target.verify(bad, kInitiator, kTargetCreds).error().code, ChapErrc::kBadLength);
  bad[3].value = "0xzz";
  EXPECT_EQ(target.verify(bad, kInitiator, kTargetCreds).error().code, ChapErrc::kBadEncoding);
}

TEST(ChapInitiator, RespondErrors) {
  const KeyList good = {{"CHAP_A", "5"}, {"CHAP_I", "1"}, {"CHAP_C", encode_hex(counting(16, 0))}};
  struct Case {
    std::size_t index;
    std::string value;
    ChapErrc code;
  };
  const Case cases[] = {
      {0, "7", ChapErrc::kBadAlgorithm},   {0, "6", ChapErrc::kBadAlgorithm},
      {0, "5,7", ChapErrc::kBadAlgorithm}, {1, "-1", ChapErrc::kBadIdentifier},
      {1, "x", ChapErrc::kBadIdentifier},  {2, "0x00", ChapErrc::kBadLength},
      {2, "zz", ChapErrc::kBadEncoding},
  };
  for (const auto& c : cases) {
    ChapInitiator initiator(kInitiator, std::nullopt, {ChapAlgorithm::kMd5});
    KeyList keys = good;
    keys[c.index].value = c.value;
    auto response = initiator.respond(keys);
    ASSERT_FALSE(response) << c.value;
    EXPECT_EQ(response.error().code, c.code) << c.value;
  }
  for (const char* missing : {"CHAP_A", "CHAP_I", "CHAP_C"}) {
    ChapInitiator initiator(kInitiator, std::nullopt, {ChapAlgorithm::kMd5});
    KeyList keys;
    for (const auto& k : good) {
      if (k.key != missing) keys.push_back(k);
    }
    auto response = initiator.respond(keys);
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, ChapErrc::kMissingKey);
    EXPECT_EQ(response.error().key, missing);
  }
  // The genuine challenge gives the RFC 1994 response.
  ChapInitiator initiator(kInitiator, std::nullopt, {ChapAlgorithm::kMd5});
  auto response = initiator.respond(good);
  ASSERT_TRUE(response);
  EXPECT_EQ(*find_key(*response, "CHAP_R"),
            encode_hex(chap_response(ChapAlgorithm::kMd5, 1, kInitiator.secret, counting(16, 0))));
}

TEST(ChapInitiator, MutualWithSameSecretIsRefused) {
  ChapInitiator initiator(kInitiator, ChapCredentials{"t", kInitiator.secret});
  auto response = initiator.respond(
      {{"CHAP_A", "7"}, {"CHAP_I", "1"}, {"CHAP_C", encode_hex(counting(32, 0))}});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ChapErrc::kSameSecret);
}

TEST(ChapInitiator, VerifyTargetWithoutMutualIsOutOfSequence) {
  ChapInitiator initiator(kInitiator, std::nullopt);
  auto verified = initiator.verify_target({{"CHAP_N", "t"}, {"CHAP_R", "0x00"}});
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ChapErrc::kUnexpectedKey);
}

TEST(ChapErrors, Messages) {
  EXPECT_EQ((ChapError{ChapErrc::kAuthenticationFailed, "CHAP_R"}).message(),
            "CHAP key 'CHAP_R': CHAP_R does not match (RFC 1994 §4.1)");
  for (int code = 0; code <= static_cast<int>(ChapErrc::kRandomFailure); ++code) {
    EXPECT_NE(to_string(static_cast<ChapErrc>(code)), "unknown CHAP error");
  }
}

}  // namespace
}  // namespace isergw::iscsi
