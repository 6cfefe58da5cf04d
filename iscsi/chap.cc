#include "iscsi/chap.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cassert>
#include <climits>

#include "iscsi/keys.h"

namespace isergw::iscsi {
namespace {

Unexpected<ChapError> fail(ChapErrc code, std::string_view key) {
  return Unexpected{ChapError{code, std::string(key)}};
}

const EVP_MD* evp_digest(ChapAlgorithm algorithm) {
  switch (algorithm) {
    case ChapAlgorithm::kMd5:
      return EVP_md5();
    case ChapAlgorithm::kSha256:
      return EVP_sha256();
    case ChapAlgorithm::kSha3_256:
      return EVP_sha3_256();
  }
  return nullptr;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_digit(char c) {
  const auto at = kBase64Alphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

Expected<std::uint8_t, ChapError> parse_identifier(std::string_view text) {
  const auto value = parse_numerical(text);
  if (!value || *value > 255) return fail(ChapErrc::kBadIdentifier, "CHAP_I");
  return static_cast<std::uint8_t>(*value);
}

Expected<std::vector<std::uint8_t>, ChapError> make_challenge(const RandomSource& random,
                                                              ChapAlgorithm algorithm) {
  // As long as the digest, and never under 16 bytes (RFC 7143 §12.1.3
  // wants challenges that are unpredictable and not short).
  std::vector<std::uint8_t> challenge(
      std::max(kMinChapChallengeLength, chap_digest_length(algorithm)));
  if (!random(challenge)) return fail(ChapErrc::kRandomFailure, "CHAP_C");
  return challenge;
}

Expected<std::vector<std::uint8_t>, ChapError> decode_challenge(std::string_view text) {
  auto challenge = decode_binary_value(text, "CHAP_C");
  if (!challenge) return challenge;
  if (challenge->size() < kMinChapChallengeLength || challenge->size() > kMaxChapBinaryLength) {
    return fail(ChapErrc::kBadLength, "CHAP_C");
  }
  return challenge;
}

// Checks CHAP_N and CHAP_R against the expected credentials.
Expected<void, ChapError> check_response(const KeyList& keys, ChapAlgorithm algorithm,
                                         std::uint8_t identifier,
                                         std::span<const std::uint8_t> challenge,
                                         const ChapCredentials& expected) {
  const std::string* name = find_key(keys, "CHAP_N");
  if (name == nullptr) return fail(ChapErrc::kMissingKey, "CHAP_N");
  const std::string* response_text = find_key(keys, "CHAP_R");
  if (response_text == nullptr) return fail(ChapErrc::kMissingKey, "CHAP_R");
  if (name->size() > kMaxChapNameLength) return fail(ChapErrc::kBadLength, "CHAP_N");
  auto response = decode_binary_value(*response_text, "CHAP_R");
  if (!response) return Unexpected{response.error()};
  if (response->size() != chap_digest_length(algorithm)) {
    return fail(ChapErrc::kBadLength, "CHAP_R");
  }
  const auto expected_response = chap_response(algorithm, identifier, expected.secret, challenge);
  // Compute and compare the response even when the name is wrong, so that
  // timing does not tell a prober which names exist.
  const bool response_ok = constant_time_equal(*response, expected_response);
  if (*name != expected.name) return fail(ChapErrc::kUnknownName, "CHAP_N");
  if (!response_ok) return fail(ChapErrc::kAuthenticationFailed, "CHAP_R");
  return {};
}

std::string algorithm_list(const std::vector<ChapAlgorithm>& algorithms) {
  std::string out;
  for (auto algorithm : algorithms) {
    if (!out.empty()) out += ',';
    out += std::to_string(static_cast<unsigned>(algorithm));
  }
  return out;
}

}  // namespace

std::size_t chap_digest_length(ChapAlgorithm algorithm) {
  return algorithm == ChapAlgorithm::kMd5 ? 16 : 32;
}

std::optional<ChapAlgorithm> chap_algorithm_from_number(std::uint64_t number) {
  switch (number) {
    case 5:
      return ChapAlgorithm::kMd5;
    case 7:
      return ChapAlgorithm::kSha256;
    case 8:
      return ChapAlgorithm::kSha3_256;
    default:
      return std::nullopt;
  }
}

std::string_view to_string(ChapErrc code) {
  switch (code) {
    case ChapErrc::kMissingKey:
      return "required CHAP key missing (RFC 7143 §12.1.3)";
    case ChapErrc::kUnexpectedKey:
      return "CHAP key out of sequence (RFC 7143 §12.1.3)";
    case ChapErrc::kNoCommonAlgorithm:
      return "no common CHAP algorithm (RFC 7143 §12.1.3)";
    case ChapErrc::kBadAlgorithm:
      return "CHAP_A answer not among the offered algorithms";
    case ChapErrc::kBadIdentifier:
      return "CHAP_I is not a number from 0 to 255 (RFC 1994 §4.1)";
    case ChapErrc::kBadEncoding:
      return "binary value is neither 0x-hex nor 0b-base64 (RFC 7143 §6.1)";
    case ChapErrc::kBadLength:
      return "CHAP value has the wrong length (RFC 7143 §12.1.3)";
    case ChapErrc::kUnknownName:
      return "CHAP_N is not the configured name";
    case ChapErrc::kAuthenticationFailed:
      return "CHAP_R does not match (RFC 1994 §4.1)";
    case ChapErrc::kReflectedChallenge:
      return "peer sent back our own challenge (RFC 7143 §12.1.3)";
    case ChapErrc::kSameSecret:
      return "the same CHAP secret for both directions (RFC 7143 §12.1.3)";
    case ChapErrc::kMutualRequired:
      return "mutual CHAP required but not requested by the initiator";
    case ChapErrc::kMutualNotConfigured:
      return "mutual CHAP requested but no target credentials configured";
    case ChapErrc::kRandomFailure:
      return "no random bytes for a CHAP challenge";
  }
  return "unknown CHAP error";
}

std::string ChapError::message() const {
  std::string out = "CHAP";
  if (!key.empty()) out += " key '" + key + "'";
  out += ": ";
  out += to_string(code);
  return out;
}

Expected<std::vector<std::uint8_t>, ChapError> decode_binary_value(std::string_view text,
                                                                   std::string_view key) {
  if (text.size() < 3 || text[0] != '0') return fail(ChapErrc::kBadEncoding, key);
  const char form = text[1];
  std::string_view digits = text.substr(2);
  std::vector<std::uint8_t> out;
  if (form == 'x' || form == 'X') {
    out.reserve(digits.size() / 2 + 1);
    std::size_t i = 0;
    if (digits.size() % 2 != 0) {
      const int low = hex_digit(digits[0]);
      if (low < 0) return fail(ChapErrc::kBadEncoding, key);
      out.push_back(static_cast<std::uint8_t>(low));
      i = 1;
    }
    for (; i < digits.size(); i += 2) {
      const int high = hex_digit(digits[i]);
      const int low = hex_digit(digits[i + 1]);
      if (high < 0 || low < 0) return fail(ChapErrc::kBadEncoding, key);
      out.push_back(static_cast<std::uint8_t>(high << 4 | low));
    }
    return out;
  }
  if (form == 'b' || form == 'B') {
    if (digits.size() % 4 != 0) return fail(ChapErrc::kBadEncoding, key);
    std::size_t padding = 0;
    if (digits.ends_with("==")) {
      padding = 2;
    } else if (digits.ends_with('=')) {
      padding = 1;
    }
    out.reserve(digits.size() / 4 * 3);
    for (std::size_t i = 0; i < digits.size(); i += 4) {
      const bool last = i + 4 == digits.size();
      int v[4];
      for (std::size_t j = 0; j < 4; ++j) {
        const bool pad = last && j >= 4 - padding;
        v[j] = pad ? 0 : base64_digit(digits[i + j]);
        if (v[j] < 0) return fail(ChapErrc::kBadEncoding, key);
      }
      const std::uint32_t group =
          static_cast<std::uint32_t>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
      out.push_back(static_cast<std::uint8_t>(group >> 16));
      if (!(last && padding == 2)) out.push_back(static_cast<std::uint8_t>(group >> 8));
      if (!(last && padding >= 1)) out.push_back(static_cast<std::uint8_t>(group));
      // RFC 4648 §3.5: the bits a pad hides must be zero (canonical form).
      if (last && padding == 2 && (group & 0xffff) != 0) return fail(ChapErrc::kBadEncoding, key);
      if (last && padding == 1 && (group & 0xff) != 0) return fail(ChapErrc::kBadEncoding, key);
    }
    return out;
  }
  return fail(ChapErrc::kBadEncoding, key);
}

std::string encode_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  out.reserve(2 + bytes.size() * 2);
  for (auto b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::string encode_base64(std::span<const std::uint8_t> bytes) {
  std::string out = "0b";
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = std::uint32_t{bytes[i]} << 16;
    if (n > 1) group |= std::uint32_t{bytes[i + 1]} << 8;
    if (n > 2) group |= bytes[i + 2];
    out.push_back(kBase64Alphabet[group >> 18 & 63]);
    out.push_back(kBase64Alphabet[group >> 12 & 63]);
    out.push_back(n > 1 ? kBase64Alphabet[group >> 6 & 63] : '=');
    out.push_back(n > 2 ? kBase64Alphabet[group & 63] : '=');
  }
  return out;
}

std::vector<std::uint8_t> chap_response(ChapAlgorithm algorithm, std::uint8_t identifier,
                                        std::string_view secret,
                                        std::span<const std::uint8_t> challenge) {
  std::vector<std::uint8_t> digest(EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, evp_digest(algorithm), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, &identifier, 1) == 1 &&
                  EVP_DigestUpdate(ctx, secret.data(), secret.size()) == 1 &&
                  EVP_DigestUpdate(ctx, challenge.data(), challenge.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, digest.data(), &length) == 1;
  EVP_MD_CTX_free(ctx);
  // A digest that libcrypto cannot compute (e.g. MD5 disabled by a FIPS
  // policy) yields an empty response, which never matches a peer's.
  if (!ok) return {};
  digest.resize(length);
  return digest;
}

bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

RandomSource openssl_random() {
  return [](std::span<std::uint8_t> out) {
    return out.size() <= INT_MAX && RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
  };
}

// --- Target ---

ChapTarget::ChapTarget(std::vector<ChapAlgorithm> algorithms, RandomSource random)
    : algorithms_(std::move(algorithms)), random_(std::move(random)) {}

Expected<KeyList, ChapError> ChapTarget::challenge(std::string_view chap_a) {
  // RFC 7143 §12.1.3: the target picks from the initiator's CHAP_A list,
  // in the initiator's order (list negotiation, §6.2.1).
  algorithm_.reset();
  std::size_t start = 0;
  while (start <= chap_a.size() && !algorithm_) {
    std::size_t comma = chap_a.find(',', start);
    if (comma == std::string_view::npos) comma = chap_a.size();
    if (auto number = parse_numerical(chap_a.substr(start, comma - start))) {
      if (auto algorithm = chap_algorithm_from_number(*number)) {
        if (std::find(algorithms_.begin(), algorithms_.end(), *algorithm) != algorithms_.end()) {
          algorithm_ = algorithm;
        }
      }
    }
    start = comma + 1;
  }
  if (!algorithm_) return fail(ChapErrc::kNoCommonAlgorithm, "CHAP_A");
  std::uint8_t identifier;
  if (!random_(std::span(&identifier, 1))) return fail(ChapErrc::kRandomFailure, "CHAP_I");
  identifier_ = identifier;
  auto challenge = make_challenge(random_, *algorithm_);
  if (!challenge) return Unexpected{challenge.error()};
  challenge_ = std::move(challenge).value();
  return KeyList{{"CHAP_A", std::to_string(static_cast<unsigned>(*algorithm_))},
                 {"CHAP_I", std::to_string(identifier_)},
                 {"CHAP_C", encode_hex(challenge_)}};
}

Expected<KeyList, ChapError> ChapTarget::verify(const KeyList& keys,
                                                const ChapCredentials& initiator,
                                                const std::optional<ChapCredentials>& target,
                                                bool mutual_required) {
  if (!algorithm_) return fail(ChapErrc::kUnexpectedKey, "CHAP_R");
  if (find_key(keys, "CHAP_A") != nullptr) return fail(ChapErrc::kUnexpectedKey, "CHAP_A");
  const std::string* peer_identifier = find_key(keys, "CHAP_I");
  const std::string* peer_challenge = find_key(keys, "CHAP_C");
  if ((peer_identifier == nullptr) != (peer_challenge == nullptr)) {
    return fail(ChapErrc::kMissingKey, peer_identifier == nullptr ? "CHAP_I" : "CHAP_C");
  }
  if (auto checked = check_response(keys, *algorithm_, identifier_, challenge_, initiator);
      !checked) {
    return Unexpected{checked.error()};
  }
  const bool mutual = peer_challenge != nullptr;
  if (!mutual) {
    if (mutual_required) return fail(ChapErrc::kMutualRequired, "CHAP_C");
    return KeyList{};
  }
  if (!target) return fail(ChapErrc::kMutualNotConfigured, "CHAP_C");
  if (target->secret == initiator.secret) return fail(ChapErrc::kSameSecret, "CHAP_C");
  auto identifier = parse_identifier(*peer_identifier);
  if (!identifier) return Unexpected{identifier.error()};
  auto challenge = decode_challenge(*peer_challenge);
  if (!challenge) return Unexpected{challenge.error()};
  // RFC 7143 §12.1.3: a target that answered its own challenge would let an
  // attacker reflect it and learn the response to replay.
  if (constant_time_equal(*challenge, challenge_)) {
    return fail(ChapErrc::kReflectedChallenge, "CHAP_C");
  }
  const auto response = chap_response(*algorithm_, *identifier, target->secret, *challenge);
  return KeyList{{"CHAP_N", target->name}, {"CHAP_R", encode_hex(response)}};
}

// --- Initiator ---

ChapInitiator::ChapInitiator(ChapCredentials credentials, std::optional<ChapCredentials> target,
                             std::vector<ChapAlgorithm> algorithms, RandomSource random)
    : credentials_(std::move(credentials)),
      target_(std::move(target)),
      algorithms_(std::move(algorithms)),
      random_(std::move(random)) {}

KeyList ChapInitiator::offer() const {
  return {{"CHAP_A", algorithm_list(algorithms_)}};
}

Expected<KeyList, ChapError> ChapInitiator::respond(const KeyList& keys) {
  const std::string* chap_a = find_key(keys, "CHAP_A");
  if (chap_a == nullptr) return fail(ChapErrc::kMissingKey, "CHAP_A");
  const std::string* chap_i = find_key(keys, "CHAP_I");
  if (chap_i == nullptr) return fail(ChapErrc::kMissingKey, "CHAP_I");
  const std::string* chap_c = find_key(keys, "CHAP_C");
  if (chap_c == nullptr) return fail(ChapErrc::kMissingKey, "CHAP_C");
  const auto number = parse_numerical(*chap_a);
  const auto algorithm = number ? chap_algorithm_from_number(*number) : std::nullopt;
  if (!algorithm ||
      std::find(algorithms_.begin(), algorithms_.end(), *algorithm) == algorithms_.end()) {
    return fail(ChapErrc::kBadAlgorithm, "CHAP_A");
  }
  algorithm_ = algorithm;
  auto identifier = parse_identifier(*chap_i);
  if (!identifier) return Unexpected{identifier.error()};
  identifier_ = *identifier;
  auto challenge = decode_challenge(*chap_c);
  if (!challenge) return Unexpected{challenge.error()};
  target_challenge_ = std::move(challenge).value();

  KeyList out{{"CHAP_N", credentials_.name},
              {"CHAP_R", encode_hex(chap_response(*algorithm_, identifier_, credentials_.secret,
                                                  target_challenge_))}};
  if (target_) {
    if (target_->secret == credentials_.secret) return fail(ChapErrc::kSameSecret, "CHAP_C");
    std::uint8_t our_identifier;
    if (!random_(std::span(&our_identifier, 1))) return fail(ChapErrc::kRandomFailure, "CHAP_I");
    auto ours = make_challenge(random_, *algorithm_);
    if (!ours) return Unexpected{ours.error()};
    // Never send the target its own challenge back (RFC 7143 §12.1.3).
    if (*ours == target_challenge_) return fail(ChapErrc::kRandomFailure, "CHAP_C");
    challenge_ = std::move(ours).value();
    identifier_ = our_identifier;
    out.push_back({"CHAP_I", std::to_string(identifier_)});
    out.push_back({"CHAP_C", encode_hex(challenge_)});
  }
  return out;
}

Expected<void, ChapError> ChapInitiator::verify_target(const KeyList& keys) const {
  if (!target_ || challenge_.empty()) return fail(ChapErrc::kUnexpectedKey, "CHAP_R");
  return check_response(keys, *algorithm_, identifier_, challenge_, *target_);
}

}  // namespace isergw::iscsi
