// CHAP authentication of iSCSI logins (RFC 7143 §12.1.3, RFC 1994): the
// algorithm choice, challenges, responses and their binary encodings, for
// the target (authenticator) and the initiator, one-way or mutual.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "iscsi/text_keys.h"

namespace isergw::iscsi {

// CHAP_A values are the PPP authentication algorithm numbers of the IANA
// "PPP Authentication Algorithms" registry: 5 is MD5 (RFC 1994, the only
// one RFC 7143 §12.1.3 names), 7 SHA-256 and 8 SHA3-256 (RFC 7143 §12.1.3
// allows any registered algorithm). The Linux target (LIO,
// drivers/target/iscsi/iscsi_target_auth.h: CHAP_DIGEST_SHA256 7,
// CHAP_DIGEST_SHA3_256 8) and the open-iscsi initiator use the same numbers.
enum class ChapAlgorithm : std::uint8_t {
  kMd5 = 5,
  kSha256 = 7,
  kSha3_256 = 8,
};

std::size_t chap_digest_length(ChapAlgorithm algorithm);
std::optional<ChapAlgorithm> chap_algorithm_from_number(std::uint64_t number);

// RFC 7143 §12.1.3: binary values of CHAP_C and CHAP_R are at most 1024
// bytes. Challenges shorter than 16 bytes are refused as too weak.
inline constexpr std::size_t kMaxChapBinaryLength = 1024;
inline constexpr std::size_t kMinChapChallengeLength = 16;
// CHAP_N is an ordinary text value (RFC 7143 §6.1).
inline constexpr std::size_t kMaxChapNameLength = 255;

enum class ChapErrc {
  kMissingKey,            // a CHAP key required at this step is absent
  kUnexpectedKey,         // a key that has no place at this step
  kNoCommonAlgorithm,     // no CHAP_A value both sides support
  kBadAlgorithm,          // a CHAP_A answer that was not offered
  kBadIdentifier,         // CHAP_I not a number in 0..255
  kBadEncoding,           // a binary value neither 0x-hex nor 0b-base64
  kBadLength,             // challenge too short or too long, response not digest-sized
  kUnknownName,           // CHAP_N is not the configured user name
  kAuthenticationFailed,  // CHAP_R does not match
  kReflectedChallenge,    // the peer returned our own challenge (RFC 7143 §12.1.3)
  kSameSecret,            // one secret for both directions (RFC 7143 §12.1.3)
  kMutualRequired,        // the initiator did not ask to authenticate the target
  kMutualNotConfigured,   // the initiator asked, but the target has no credentials
  kRandomFailure,         // no random bytes for a challenge
};

struct ChapError {
  ChapErrc code;
  std::string key;

  std::string message() const;
};

std::string_view to_string(ChapErrc code);

// RFC 7143 §6.1 binary-value: "0x" hex (an odd digit count implies a leading
// zero) or "0b" base64 (RFC 4648, padded).
Expected<std::vector<std::uint8_t>, ChapError> decode_binary_value(std::string_view text,
                                                                   std::string_view key = {});
std::string encode_hex(std::span<const std::uint8_t> bytes);
std::string encode_base64(std::span<const std::uint8_t> bytes);

// RFC 1994 §4.1: Response = H(Identifier || secret || Challenge).
std::vector<std::uint8_t> chap_response(ChapAlgorithm algorithm, std::uint8_t identifier,
                                        std::string_view secret,
                                        std::span<const std::uint8_t> challenge);

// Equality whose time depends only on the lengths, for comparing responses.
bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

// Fills the span with cryptographically strong random bytes; false on failure.
using RandomSource = std::function<bool(std::span<std::uint8_t>)>;
RandomSource openssl_random();

struct ChapCredentials {
  std::string name;
  std::string secret;
};

// The target's side. Steps: challenge() answers the initiator's CHAP_A;
// verify() checks CHAP_N/CHAP_R and, when the initiator sent CHAP_I/CHAP_C,
// returns the target's own CHAP_N/CHAP_R (mutual CHAP).
class ChapTarget {
 public:
  // `algorithms` are those the target accepts; the initiator's order decides.
  explicit ChapTarget(std::vector<ChapAlgorithm> algorithms = {ChapAlgorithm::kSha256,
                                                               ChapAlgorithm::kMd5},
                      RandomSource random = openssl_random());

  Expected<KeyList, ChapError> challenge(std::string_view chap_a);

  // `initiator`: the name and secret the initiator must prove. `target`: the
  // target's credentials for mutual CHAP, if configured; `mutual_required`
  // fails a one-way login when mutual CHAP is the policy.
  Expected<KeyList, ChapError> verify(const KeyList& keys, const ChapCredentials& initiator,
                                      const std::optional<ChapCredentials>& target,
                                      bool mutual_required = false);

  std::optional<ChapAlgorithm> algorithm() const { return algorithm_; }

 private:
  std::vector<ChapAlgorithm> algorithms_;
  RandomSource random_;
  std::optional<ChapAlgorithm> algorithm_;
  std::uint8_t identifier_ = 0;
  std::vector<std::uint8_t> challenge_;
};

// The initiator's side: offer() gives CHAP_A; respond() answers the target's
// CHAP_A/CHAP_I/CHAP_C with CHAP_N/CHAP_R (plus CHAP_I/CHAP_C when it
// authenticates the target); verify_target() checks the target's answer.
class ChapInitiator {
 public:
  ChapInitiator(ChapCredentials credentials, std::optional<ChapCredentials> target,
                std::vector<ChapAlgorithm> algorithms = {ChapAlgorithm::kSha256,
                                                         ChapAlgorithm::kMd5},
                RandomSource random = openssl_random());

  KeyList offer() const;
  Expected<KeyList, ChapError> respond(const KeyList& keys);
  Expected<void, ChapError> verify_target(const KeyList& keys) const;
  bool mutual() const { return target_.has_value(); }

 private:
  ChapCredentials credentials_;
  std::optional<ChapCredentials> target_;
  std::vector<ChapAlgorithm> algorithms_;
  RandomSource random_;
  std::optional<ChapAlgorithm> algorithm_;
  std::uint8_t identifier_ = 0;
  std::vector<std::uint8_t> target_challenge_;  // the target's CHAP_C
  std::vector<std::uint8_t> challenge_;         // ours, for mutual CHAP
};

}  // namespace isergw::iscsi
