#include "iscsi/text_keys.h"

#include <algorithm>
#include <cassert>
#include <unordered_set>

namespace isergw::iscsi {
namespace {

bool is_capital(char c) {
  return c >= 'A' && c <= 'Z';
}

// RFC 7143 §6.1 key-name characters: letters, digits, '.', '-', '+', '@', '_'.
bool is_key_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '+' || c == '@' || c == '_';
}

// The key as far as it is printable, for error messages: never more than the
// name limit plus a little, never control bytes.
std::string printable_key(std::string_view key) {
  std::string out;
  for (char c : key.substr(0, kMaxKeyNameLength + 1)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

Unexpected<TextKeyError> fail(TextKeyErrc code, std::string_view key, std::size_t offset) {
  return Unexpected{TextKeyError{code, printable_key(key), offset}};
}

// Every comma-delimited simple-value within the limit (RFC 7143 §6.1).
// Returns the offset within value of the first one too long.
std::optional<std::size_t> find_long_simple_value(std::string_view value, std::size_t limit) {
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t end = value.find(',', start);
    if (end == std::string_view::npos) end = value.size();
    if (end - start > limit) return start;
    start = end + 1;
  }
  return std::nullopt;
}

bool may_repeat(std::string_view key, const TextParseOptions& options) {
  return options.allow_repeated_send_targets_keys &&
         (key == "TargetName" || key == "TargetAddress" || key == "TargetAlias");
}

}  // namespace

std::string_view to_string(TextKeyErrc code) {
  switch (code) {
    case TextKeyErrc::kMissingEquals:
      return "pair has no '=' (RFC 7143 §6.1)";
    case TextKeyErrc::kEmptyKeyName:
      return "empty key name (RFC 7143 §6.1)";
    case TextKeyErrc::kKeyNameTooLong:
      return "key name longer than 63 characters (RFC 7143 §6.1)";
    case TextKeyErrc::kBadKeyNameStart:
      return "key name does not begin with a capital letter (RFC 7143 §6.1)";
    case TextKeyErrc::kBadKeyNameChar:
      return "key name has a character outside [A-Za-z0-9.+@_-] (RFC 7143 §6.1)";
    case TextKeyErrc::kValueTooLong:
      return "value longer than its limit (RFC 7143 §6.1, §12.1.3)";
    case TextKeyErrc::kDuplicateKey:
      return "key sent more than once (RFC 7143 §6.2)";
    case TextKeyErrc::kEmptyPair:
      return "empty pair (NUL where a key should start)";
    case TextKeyErrc::kMissingTerminator:
      return "last pair not terminated by NUL (RFC 7143 §6.1)";
    case TextKeyErrc::kSequenceTooLong:
      return "text of the C-bit sequence exceeds its bound";
  }
  return "unknown text key error";
}

std::string TextKeyError::message() const {
  std::string out = "text key";
  if (!key.empty()) out += " '" + key + "'";
  out += " at byte " + std::to_string(offset) + ": ";
  out += to_string(code);
  return out;
}

bool is_large_value_key(std::string_view key) {
  return key == "CHAP_C" || key == "CHAP_R";
}

std::optional<TextKeyErrc> check_key_name(std::string_view key) {
  if (key.empty()) return TextKeyErrc::kEmptyKeyName;
  if (key.size() > kMaxKeyNameLength) return TextKeyErrc::kKeyNameTooLong;
  // RFC 7144 §2.1 defines iSCSIProtocolLevel, the one standard key that
  // breaks §6.1's capital-letter rule.
  if (!is_capital(key[0]) && key != "iSCSIProtocolLevel") return TextKeyErrc::kBadKeyNameStart;
  for (std::size_t i = 1; i < key.size(); ++i) {
    // RFC 7143 §13 (extension key format): registered keys are "X#name"; '#' is
    // outside §6.1's set and allowed only there.
    if (i == 1 && key[0] == 'X' && key[1] == '#') continue;
    if (!is_key_name_char(key[i])) return TextKeyErrc::kBadKeyNameChar;
  }
  return std::nullopt;
}

Expected<KeyList, TextKeyError> parse_text_keys(std::span<const std::uint8_t> segment,
                                                const TextParseOptions& options) {
  const std::string_view text(reinterpret_cast<const char*>(segment.data()), segment.size());
  KeyList keys;
  std::unordered_set<std::string_view> seen;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == '\0') {
      // NULs after the last pair are padding (some initiators count the pad
      // bytes in DataSegmentLength); a NUL followed by more text is not.
      const std::size_t next = text.find_first_not_of('\0', pos);
      if (next == std::string_view::npos) break;
      return fail(TextKeyErrc::kEmptyPair, {}, pos);
    }
    const std::size_t nul = text.find('\0', pos);
    const std::string_view pair =
        text.substr(pos, nul == std::string_view::npos ? std::string_view::npos : nul - pos);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      // An unterminated pair that has no '=' is still best reported as such.
      return fail(nul == std::string_view::npos ? TextKeyErrc::kMissingTerminator
                                                : TextKeyErrc::kMissingEquals,
                  pair, pos);
    }
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value = pair.substr(eq + 1);
    if (auto bad = check_key_name(key)) return fail(*bad, key, pos);
    const std::size_t limit =
        is_large_value_key(key) ? kMaxLargeValueLength : kMaxSimpleValueLength;
    if (is_large_value_key(key)) {
      if (value.size() > limit) return fail(TextKeyErrc::kValueTooLong, key, pos + eq + 1);
    } else if (auto at = find_long_simple_value(value, limit)) {
      return fail(TextKeyErrc::kValueTooLong, key, pos + eq + 1 + *at);
    }
    if (nul == std::string_view::npos) return fail(TextKeyErrc::kMissingTerminator, key, pos);
    if (!seen.insert(key).second && !may_repeat(key, options)) {
      return fail(TextKeyErrc::kDuplicateKey, key, pos);
    }
    keys.push_back(TextKey{std::string(key), std::string(value)});
    pos = nul + 1;
  }
  return keys;
}

std::vector<std::uint8_t> build_text_keys(const KeyList& keys) {
  std::vector<std::uint8_t> out;
  for (const auto& [key, value] : keys) {
    out.insert(out.end(), key.begin(), key.end());
    out.push_back('=');
    out.insert(out.end(), value.begin(), value.end());
    out.push_back('\0');
  }
  return out;
}

Expected<std::optional<KeyList>, TextKeyError> TextKeyAccumulator::add(
    std::span<const std::uint8_t> segment, bool continue_bit) {
  if (segment.size() > max_length_ - buffer_.size()) {
    const std::size_t offset = buffer_.size();
    buffer_.clear();
    return fail(TextKeyErrc::kSequenceTooLong, {}, offset);
  }
  buffer_.insert(buffer_.end(), segment.begin(), segment.end());
  if (continue_bit) return std::optional<KeyList>();
  auto parsed = parse_text_keys(buffer_, options_);
  buffer_.clear();
  if (!parsed) return Unexpected{parsed.error()};
  return std::optional<KeyList>(std::move(parsed).value());
}

std::vector<TextSegment> split_text(std::span<const std::uint8_t> text,
                                    std::size_t max_segment_length) {
  assert(max_segment_length > 0);
  std::vector<TextSegment> out;
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min(max_segment_length, text.size() - pos);
    TextSegment segment;
    segment.data.assign(text.begin() + pos, text.begin() + pos + n);
    pos += n;
    segment.continue_bit = pos < text.size();
    out.push_back(std::move(segment));
  } while (pos < text.size());
  return out;
}

const std::string* find_key(const KeyList& keys, std::string_view key) {
  for (const auto& pair : keys) {
    if (pair.key == key) return &pair.value;
  }
  return nullptr;
}

}  // namespace isergw::iscsi
