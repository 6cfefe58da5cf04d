// The key=value text of Login and Text PDU data segments (RFC 7143 §6.1):
// parsing a segment into an ordered key list, building one, and carrying a
// list across several PDUs with the C (continue) bit (RFC 7143 §11.10.2,
// §11.12.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace isergw::iscsi {

// RFC 7143 §6.1: "A key-name ... MUST NOT exceed 63 characters".
inline constexpr std::size_t kMaxKeyNameLength = 63;
// RFC 7143 §6.1: the maximum length of a simple-value (between delimiters) is
// 255 bytes unless a key says otherwise.
inline constexpr std::size_t kMaxSimpleValueLength = 255;
// Large-binary values (CHAP_C, CHAP_R) are limited to 1024 binary bytes by
// RFC 7143 §12.1.3; their encoded string is bounded here, which leaves room
// for the hex form of 1024 bytes (2050 characters) and every base64 form.
inline constexpr std::size_t kMaxLargeValueLength = 8192;
// Bound on the text of one negotiation sequence spread over C-bit PDUs, so a
// peer cannot make us buffer without limit. RFC 7143 §6.1 requires at least
// 8192 bytes; SendTargets responses from large arrays need more.
inline constexpr std::size_t kMaxTextSequenceLength = 64 * 1024;

struct TextKey {
  std::string key;
  std::string value;

  friend bool operator==(const TextKey&, const TextKey&) = default;
};

using KeyList = std::vector<TextKey>;

enum class TextKeyErrc {
  kMissingEquals,      // a pair without '='
  kEmptyKeyName,       // "=value"
  kKeyNameTooLong,     // over 63 characters
  kBadKeyNameStart,    // must begin with a capital letter
  kBadKeyNameChar,     // a character outside RFC 7143 §6.1's set
  kValueTooLong,       // a simple-value over 255 bytes (8192 for large values)
  kDuplicateKey,       // a key sent twice in one negotiation (RFC 7143 §6.2)
  kEmptyPair,          // a NUL where a key should start, before more keys
  kMissingTerminator,  // the last pair is not followed by NUL (RFC 7143 §6.1)
  kSequenceTooLong,    // C-bit sequence over kMaxTextSequenceLength
};

struct TextKeyError {
  TextKeyErrc code;
  std::string key;     // the key concerned, empty if none could be read
  std::size_t offset;  // byte offset in the segment (or C-bit sequence)

  // One line for the log: "text key 'MaxBurstLength' at byte 42: ...".
  std::string message() const;
};

std::string_view to_string(TextKeyErrc code);

struct TextParseOptions {
  // RFC 7143 §6.2 forbids repeating a key, except keys whose definition
  // allows it: TargetName and TargetAddress in SendTargets responses
  // (RFC 7143 Appendix C). Set this when decoding such a response.
  bool allow_repeated_send_targets_keys = false;
};

// Parses a whole data segment (DataSegmentLength bytes; padding may be
// included, since trailing NULs after the last pair are ignored).
Expected<KeyList, TextKeyError> parse_text_keys(std::span<const std::uint8_t> segment,
                                                const TextParseOptions& options = {});

// True if the key's value is a large-binary-value (RFC 7143 §12.1.3).
bool is_large_value_key(std::string_view key);

// Checks one key name against RFC 7143 §6.1 (and §13's extension key format for "X#" names).
std::optional<TextKeyErrc> check_key_name(std::string_view key);

// "key=value\0" for each pair in order, without padding (the PDU codec pads).
std::vector<std::uint8_t> build_text_keys(const KeyList& keys);

// Gathers the data segments of a C-bit sequence of Login or Text PDUs. A pair,
// even a key name, may be split anywhere between two PDUs.
class TextKeyAccumulator {
 public:
  explicit TextKeyAccumulator(TextParseOptions options = {},
                              std::size_t max_length = kMaxTextSequenceLength)
      : options_(options), max_length_(max_length) {}

  // Adds one PDU's data segment. With continue_bit set, returns nullopt (more
  // to come); otherwise parses everything gathered and starts afresh.
  Expected<std::optional<KeyList>, TextKeyError> add(std::span<const std::uint8_t> segment,
                                                     bool continue_bit);

  bool in_progress() const { return !buffer_.empty(); }
  void reset() { buffer_.clear(); }

 private:
  TextParseOptions options_;
  std::size_t max_length_;
  std::vector<std::uint8_t> buffer_;
};

// One outgoing PDU's share of a text sequence.
struct TextSegment {
  std::vector<std::uint8_t> data;
  bool continue_bit = false;  // set on every segment but the last
};

// Cuts encoded text into segments of at most max_segment_length bytes (the
// peer's MaxRecvDataSegmentLength). Empty text gives one empty segment.
// max_segment_length must be > 0.
std::vector<TextSegment> split_text(std::span<const std::uint8_t> text,
                                    std::size_t max_segment_length);

inline std::vector<TextSegment> split_text_keys(const KeyList& keys,
                                                std::size_t max_segment_length) {
  const auto text = build_text_keys(keys);
  return split_text(text, max_segment_length);
}

// First value of a key in a list, if present.
const std::string* find_key(const KeyList& keys, std::string_view key);

}  // namespace isergw::iscsi
